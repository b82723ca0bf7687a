#pragma once

#include "identity/user_store.hpp"
#include "store/sql/sql_connection.hpp"

namespace tessera::store::sql {

class SqlUserStore final : public identity::UserStore {
 public:
  explicit SqlUserStore(Connection& conn) : conn_(conn) {}
  identity::Conflict insert(const identity::User& user, const std::optional<std::string>& password_hash) override;
  std::optional<identity::User> find(std::string_view project_id, std::string_view user_id) override;
  std::optional<identity::User> find_any(std::string_view user_id) override;
  std::optional<identity::User> find_by_identifier(std::string_view project_id, identity::IdentifierKind kind,
                                                   std::string_view key) override;
  std::optional<std::string> password_hash(std::string_view user_id) override;
  identity::Conflict update(const identity::User& user) override;
  void set_password_hash(std::string_view user_id, const std::optional<std::string>& hash,
                         Timestamp updated_at) override;
  void touch(std::string_view user_id, Timestamp last_request_at) override;
  bool set_avatar(std::string_view user_id, const std::optional<std::string>& url, Timestamp updated_at) override;
  bool remove(std::string_view project_id, std::string_view user_id) override;
  identity::UserPage list(std::string_view project_id, const identity::UserQuery& query) override;
  std::vector<std::string> update_where(std::string_view project_id, const std::vector<identity::Condition>& where,
                                        const identity::UserChanges& changes, Timestamp now) override;
  std::vector<std::string> remove_where(std::string_view project_id,
                                        const std::vector<identity::Condition>& where) override;

 private:
  Connection& conn_;
};

}  // namespace tessera::store::sql
