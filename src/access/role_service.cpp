#include "access/role_service.hpp"

#include "core/uuid.hpp"
#include "store/store.hpp"

namespace tessera::access {

namespace {
Error role_not_found() { return Error::not_found("role_not_found", "No role has this id or name in the project."); }
Error escalation(const PermissionSet& wanted, const PermissionSet& grantor) {
  std::string missing;
  for (const auto& p : wanted.list())
    if (!grantor.allows(p)) missing = p;
  Error e = Error::forbidden("forbidden", "You cannot grant a permission you do not hold yourself.");
  e.missing_permission = missing;
  return e;
}
bool builtin(const Role& r) { return r.name == kAdminRole || r.name == kUserRole; }
}  // namespace

bool valid_role_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

RoleService::RoleService(store::Store& store, const Clock& clock, size_t cache_size)
    : store_(store), clock_(clock), cache_(cache_size) {
  store_.caches().follow(store::Topic::permissions, cache_);
}

std::vector<Role> builtin_roles(const std::string& project_id, Timestamp now) {
  return {Role{make_uuid_v7(now), project_id, std::string(kAdminRole), "Every permission of the project",
               PermissionSet::everything(), now, now},
          Role{make_uuid_v7(now), project_id, std::string(kUserRole), "Every user of the project", PermissionSet(), now, now}};
}

Result<Role> RoleService::create(const std::string& project_id, const RoleInput& in, const PermissionSet& grantor) {
  std::vector<FieldError> errors;
  if (!in.name) errors.push_back({"name", "required", "is required"});
  else if (!valid_role_name(*in.name))
    errors.push_back({"name", "format", "must be 1-64 characters of a-z, 0-9, '-', '_' or '.'"});
  PermissionSet permissions;
  if (in.permissions) {
    auto parsed = PermissionSet::parse(*in.permissions, "permissions");
    if (!parsed) errors.insert(errors.end(), parsed.error().fields.begin(), parsed.error().fields.end());
    else permissions = *parsed;
  }
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  if (!grantor.covers(permissions)) return fail(escalation(permissions, grantor));
  Timestamp now = clock_.now();
  Role role{make_uuid_v7(now), project_id, *in.name, in.description.value_or(""), permissions, now, now};
  if (!store_.write([&](store::Repositories& r) { return r.roles.insert(role); }))
    return fail(Error::conflict("role_name_taken", "A role with this name exists in the project."));
  return role;
}

std::vector<Role> RoleService::list(const std::string& project_id) {
  return store_.read([&](store::Repositories& r) { return r.roles.list(project_id); });
}

Result<Role> RoleService::get(const std::string& project_id, std::string_view key) {
  auto role = store_.read([&](store::Repositories& r) { return r.roles.find(project_id, key); });
  if (!role) return fail(role_not_found());
  return *role;
}

Result<Role> RoleService::update(const std::string& project_id, std::string_view key, const RoleInput& in,
                                 const PermissionSet& grantor) {
  auto current = get(project_id, key);
  if (!current) return current;
  Role role = *current;
  std::vector<FieldError> errors;
  if (in.name && *in.name != role.name) {
    if (builtin(role)) errors.push_back({"name", "builtin", "built-in roles cannot be renamed"});
    else if (!valid_role_name(*in.name))
      errors.push_back({"name", "format", "must be 1-64 characters of a-z, 0-9, '-', '_' or '.'"});
    role.name = *in.name;
  }
  if (in.permissions) {
    if (role.name == kAdminRole) errors.push_back({"permissions", "builtin", "the admin role always has every permission"});
    auto parsed = PermissionSet::parse(*in.permissions, "permissions");
    if (!parsed) errors.insert(errors.end(), parsed.error().fields.begin(), parsed.error().fields.end());
    else role.permissions = *parsed;
  }
  if (in.description) role.description = *in.description;
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  // Changing a role changes what its members hold: the caller must hold both the old and the new set.
  if (!grantor.covers(role.permissions)) return fail(escalation(role.permissions, grantor));
  if (!grantor.covers(current->permissions)) return fail(escalation(current->permissions, grantor));
  role.updated_at = clock_.now();
  bool updated = store_.write([&](store::Repositories& r) {
    r.changes.invalidate_all(store::Topic::permissions);
    return r.roles.update(role);
  });
  if (!updated) return fail(Error::conflict("role_name_taken", "A role with this name exists in the project."));
  return role;
}

Status RoleService::remove(const std::string& project_id, std::string_view key) {
  auto role = get(project_id, key);
  if (!role) return fail(role.error());
  if (builtin(*role)) return fail(Error::conflict("role_builtin", "Built-in roles cannot be deleted."));
  store_.write([&](store::Repositories& r) {
    r.changes.invalidate_all(store::Topic::permissions);
    return r.roles.remove(project_id, role->id);
  });
  return {};
}

std::vector<Role> RoleService::roles_of(const std::string& project_id, const std::string& user_id) {
  return store_.read([&](store::Repositories& r) {
    std::vector<Role> roles;
    if (auto user_role = r.roles.find(project_id, kUserRole)) roles.push_back(*user_role);
    for (auto& role : r.roles.roles_of_user(user_id)) roles.push_back(std::move(role));
    return roles;
  });
}

Result<std::vector<std::string>> RoleService::check_roles_of(const std::string& project_id, const std::string& user_id,
                                                             const std::vector<std::string>& keys,
                                                             const PermissionSet& grantor) {
  std::vector<std::string> ids;
  PermissionSet granted;
  std::vector<FieldError> errors;
  auto all = list(project_id);
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = std::find_if(all.begin(), all.end(), [&](const Role& r) { return r.id == keys[i] || r.name == keys[i]; });
    if (it == all.end()) {
      errors.push_back({"roles[" + std::to_string(i) + "]", "unknown_role", "no role '" + keys[i] + "' in the project"});
      continue;
    }
    if (it->name == kUserRole) continue;  // implicit for everyone
    ids.push_back(it->id);
    granted = granted.unite(it->permissions);
  }
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  // Both what is given and what is taken away must be within the caller's own permissions.
  PermissionSet before;
  for (auto& r : store_.read([&](store::Repositories& r) { return r.roles.roles_of_user(user_id); }))
    before = before.unite(r.permissions);
  if (!grantor.covers(granted)) return fail(escalation(granted, grantor));
  if (!grantor.covers(before)) return fail(escalation(before, grantor));
  return ids;
}

Result<std::vector<Role>> RoleService::set_roles_of(const std::string& project_id, const std::string& user_id,
                                                    const std::vector<std::string>& keys, const PermissionSet& grantor) {
  auto ids = check_roles_of(project_id, user_id, keys, grantor);
  if (!ids) return fail(ids.error());
  store_.write([&](store::Repositories& r) {
    r.roles.set_user_roles(user_id, *ids);
    r.changes.invalidate(store::Topic::permissions, user_id);
  });
  return roles_of(project_id, user_id);
}

PermissionSet RoleService::permissions_of(const std::string& project_id, const std::string& user_id) {
  if (auto cached = cache_.get(user_id)) return *cached;
  uint64_t epoch = cache_.epoch();
  PermissionSet all;
  for (auto& role : roles_of(project_id, user_id)) all = all.unite(role.permissions);
  cache_.fill(user_id, std::make_shared<const PermissionSet>(all), epoch);
  return all;
}

}  // namespace tessera::access
