// Contexts and their members' public keys (docs/contexts.md). `viewer`, when set, is a user without
// contexts:read: they see only contexts they belong to, and anything else is reported as absent.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "contexts/context.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"

namespace tessera::store {
class Store;
}

namespace tessera::contexts {

struct MemberKey {
  std::string public_key;
  std::string key_type;
};

class ContextService {
 public:
  ContextService(store::Store& store, const Clock& clock);

  Result<Context> create(const std::string& project_id, const std::string& name, const std::string& description);
  Result<Context> get(const std::string& project_id, const std::string& id, const std::optional<std::string>& viewer);
  std::vector<Context> list(const std::string& project_id, const std::optional<std::string>& viewer, size_t limit,
                            const std::optional<std::string>& before_id);
  Status remove(const std::string& project_id, const std::string& id);

  // The member and whether the user was new to the context.
  Result<std::pair<Member, bool>> put_member(const std::string& project_id, const std::string& id, const std::string& user_id,
                                             const MemberKey& key);
  Status remove_member(const std::string& project_id, const std::string& id, const std::string& user_id);
  // `after`: a member_position() from the previous page.
  Result<std::vector<Member>> members(const std::string& project_id, const std::string& id,
                                      const std::optional<std::string>& viewer, size_t limit,
                                      const std::optional<std::string>& after);

 private:
  store::Store& store_;
  const Clock& clock_;
};

// Where a member stands in the oldest-first order: the cursor after it ("<added_at micros>:<user id>").
std::string member_position(const Member& member);

// The rules of a context's fields and of a key (validated and normalized into `key`), every one broken.
std::vector<FieldError> check_context(const std::string& name, const std::string& description);
std::vector<FieldError> check_member_key(MemberKey& key, const std::string& key_field = "public_key",
                                         const std::string& type_field = "key_type");

}  // namespace tessera::contexts
