// Roles and what a user may do: the union of the "user" role and the user's other roles, cached
// per user and dropped whenever a role or a membership changes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "access/role.hpp"
#include "core/bounded_cache.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"

namespace tessera::store {
class Store;
struct Repositories;
}

namespace tessera::access {

struct RoleInput {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> permissions;
};

class RoleService {
 public:
  RoleService(store::Store& store, const Clock& clock, size_t cache_size);

  // `grantor` is what the caller holds: nobody grants what they do not have.
  Result<Role> create(const std::string& project_id, const RoleInput& input, const PermissionSet& grantor);
  std::vector<Role> list(const std::string& project_id);
  Result<Role> get(const std::string& project_id, std::string_view id_or_name);
  Result<Role> update(const std::string& project_id, std::string_view id_or_name, const RoleInput& input,
                      const PermissionSet& grantor);
  Status remove(const std::string& project_id, std::string_view id_or_name);

  // The roles of a user, "user" first.
  std::vector<Role> roles_of(const std::string& project_id, const std::string& user_id);
  // The checks of set_roles_of without the change: the ids of the roles named.
  Result<std::vector<std::string>> check_roles_of(const std::string& project_id, const std::string& user_id,
                                                  const std::vector<std::string>& ids_or_names,
                                                  const PermissionSet& grantor);
  Result<std::vector<Role>> set_roles_of(const std::string& project_id, const std::string& user_id,
                                         const std::vector<std::string>& ids_or_names, const PermissionSet& grantor);

  // Cached.
  PermissionSet permissions_of(const std::string& project_id, const std::string& user_id);

 private:
  store::Store& store_;
  const Clock& clock_;
  BoundedCache<PermissionSet> cache_;
};

bool valid_role_name(std::string_view name);
// The roles every new project starts with.
std::vector<Role> builtin_roles(const std::string& project_id, Timestamp now);

}  // namespace tessera::access
