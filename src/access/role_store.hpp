#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/role.hpp"

namespace tessera::access {

class RoleStore {
 public:
  virtual ~RoleStore() = default;
  // False when the name is taken in the project.
  virtual bool insert(const Role& role) = 0;
  virtual std::vector<Role> list(std::string_view project_id) = 0;
  // By id or name.
  virtual std::optional<Role> find(std::string_view project_id, std::string_view id_or_name) = 0;
  virtual bool update(const Role& role) = 0;  // false when the new name is taken
  virtual bool remove(std::string_view project_id, std::string_view role_id) = 0;
  // Explicit memberships (the implicit "user" role is not stored).
  virtual std::vector<Role> roles_of_user(std::string_view user_id) = 0;
  virtual void set_user_roles(std::string_view user_id, const std::vector<std::string>& role_ids) = 0;
};

}  // namespace tessera::access
