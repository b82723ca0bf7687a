#pragma once

#include "access/role_store.hpp"
#include "store/sql/sql_connection.hpp"

namespace tessera::store::sql {

class SqlRoleStore final : public access::RoleStore {
 public:
  explicit SqlRoleStore(Connection& conn) : conn_(conn) {}
  bool insert(const access::Role& role) override;
  std::vector<access::Role> list(std::string_view project_id) override;
  std::optional<access::Role> find(std::string_view project_id, std::string_view id_or_name) override;
  bool update(const access::Role& role) override;
  bool remove(std::string_view project_id, std::string_view role_id) override;
  std::vector<access::Role> roles_of_user(std::string_view user_id) override;
  void set_user_roles(std::string_view user_id, const std::vector<std::string>& role_ids) override;

 private:
  Connection& conn_;
};

}  // namespace tessera::store::sql
