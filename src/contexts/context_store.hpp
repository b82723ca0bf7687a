#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "contexts/context.hpp"

namespace tessera::contexts {

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
  // Oldest first, user ids after `after_user_id`.
  virtual std::vector<Member> members(std::string_view context_id, size_t limit, std::optional<std::string_view> after_user_id) = 0;
};

}  // namespace tessera::contexts
