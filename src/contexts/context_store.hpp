#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "contexts/context.hpp"

namespace tessera::contexts {

// A key-login challenge: the exact message the user must sign, for one use before expires_at.
struct KeyChallenge {
  std::string id;
  std::string project_id;
  std::optional<std::string> user_id;  // none: the identifier matched nobody (the login fails alike)
  std::optional<std::string> context_id;
  std::string message;
  Timestamp expires_at;
  Timestamp created_at;
};

class ContextStore {
 public:
  virtual ~ContextStore() = default;
  virtual void insert(const Context& context) = 0;
  virtual std::optional<Context> find(std::string_view project_id, std::string_view id) = 0;
  // Newest first, ids before `before_id`; only contexts `member_id` belongs to when given.
  virtual std::vector<Context> list(std::string_view project_id, std::optional<std::string_view> member_id, size_t limit,
                                    std::optional<std::string_view> before_id) = 0;
  virtual bool remove(std::string_view project_id, std::string_view id) = 0;

  virtual std::optional<Member> find_member(std::string_view context_id, std::string_view user_id) = 0;
  // Inserts or replaces the member's key (added_at kept on replace).
  virtual void put_member(const Member& member) = 0;
  virtual bool remove_member(std::string_view context_id, std::string_view user_id) = 0;
  // Oldest first (by added_at, then user id), after the member at `after` when given.
  virtual std::vector<Member> members(std::string_view context_id, size_t limit,
                                      const std::optional<std::pair<Timestamp, std::string>>& after) = 0;
  // The keys a user registered, in every context of the project (at most `limit`).
  virtual std::vector<Member> keys_of(std::string_view project_id, std::string_view user_id, size_t limit) = 0;

  virtual void insert_challenge(const KeyChallenge& challenge) = 0;
  // Deletes and returns it (single use), whatever its expiry.
  virtual std::optional<KeyChallenge> consume_challenge(std::string_view id) = 0;
  virtual uint64_t remove_expired_challenges(Timestamp now) = 0;
};

}  // namespace tessera::contexts
