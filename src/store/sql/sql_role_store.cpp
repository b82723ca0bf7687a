#include "store/sql/sql_role_store.hpp"

#include "store/sql/json_columns.hpp"

namespace tessera::store::sql {

using access::Role;

namespace {
#define ROLE_COLUMNS "id, project_id, name, description, permissions, created_at, updated_at"

Role read_role(const Statement& s) {
  return Role{s.text(0), s.text(1), s.text(2), s.text(3), access::PermissionSet(from_json_array(s.text(4))),
              s.time(5), s.time(6)};
}
}  // namespace

bool SqlRoleStore::insert(const Role& r) {
  auto st = conn_.prepare("INSERT INTO roles (" ROLE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  st.bind(1, r.id).bind(2, r.project_id).bind(3, r.name).bind(4, r.description);
  st.bind(5, to_json_array(r.permissions.list())).bind(6, r.created_at).bind(7, r.updated_at);
  return !st.run_unique().has_value();
}

std::vector<Role> SqlRoleStore::list(std::string_view project_id) {
  auto st = conn_.prepare("SELECT " ROLE_COLUMNS " FROM roles WHERE project_id = ?1 ORDER BY name");
  st.bind(1, project_id);
  std::vector<Role> out;
  while (st.step()) out.push_back(read_role(st));
  return out;
}

std::optional<Role> SqlRoleStore::find(std::string_view project_id, std::string_view key) {
  auto st = conn_.prepare("SELECT " ROLE_COLUMNS " FROM roles WHERE project_id = ?1 AND (id = ?2 OR name = ?2)");
  st.bind(1, project_id).bind(2, key);
  if (!st.step()) return std::nullopt;
  return read_role(st);
}

bool SqlRoleStore::update(const Role& r) {
  auto st = conn_.prepare(
      "UPDATE roles SET name = ?3, description = ?4, permissions = ?5, updated_at = ?6 WHERE id = ?1 AND project_id = ?2");
  st.bind(1, r.id).bind(2, r.project_id).bind(3, r.name).bind(4, r.description);
  st.bind(5, to_json_array(r.permissions.list())).bind(6, r.updated_at);
  return !st.run_unique().has_value();
}

bool SqlRoleStore::remove(std::string_view project_id, std::string_view role_id) {
  auto st = conn_.prepare("DELETE FROM roles WHERE id = ?1 AND project_id = ?2");
  st.bind(1, role_id).bind(2, project_id).run();
  return conn_.changes() > 0;
}

std::vector<Role> SqlRoleStore::roles_of_user(std::string_view user_id) {
  auto st = conn_.prepare("SELECT r.id, r.project_id, r.name, r.description, r.permissions, r.created_at, r.updated_at "
                          "FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ?1 ORDER BY r.name");
  st.bind(1, user_id);
  std::vector<Role> out;
  while (st.step()) out.push_back(read_role(st));
  return out;
}

void SqlRoleStore::set_user_roles(std::string_view user_id, const std::vector<std::string>& role_ids) {
  conn_.prepare("DELETE FROM user_roles WHERE user_id = ?1").bind(1, user_id).run();
  for (const auto& id : role_ids) {
    auto st = conn_.prepare("INSERT INTO user_roles (user_id, role_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING");
    st.bind(1, user_id).bind(2, id).run();
  }
}

}  // namespace tessera::store::sql
