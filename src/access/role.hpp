#pragma once

#include <string>

#include "access/permission.hpp"
#include "core/clock.hpp"

namespace tessera::access {

// A named set of permissions in a project. Every project has "admin" (everything, fixed) and "user"
// (every user of the project is a member; starts empty). Other memberships are explicit.
struct Role {
  std::string id;
  std::string project_id;
  std::string name;
  std::string description;
  PermissionSet permissions;
  Timestamp created_at;
  Timestamp updated_at;
};

inline constexpr std::string_view kAdminRole = "admin";
inline constexpr std::string_view kUserRole = "user";

}  // namespace tessera::access
