#pragma once

#include "identity/avatar_store.hpp"
#include "store/sql/sql_connection.hpp"

namespace tessera::store::sql {

class SqlAvatarStore final : public identity::AvatarStore {
 public:
  explicit SqlAvatarStore(Connection& conn) : conn_(conn) {}
  void put(std::string_view user_id, const identity::StoredAvatar& avatar) override;
  std::optional<identity::StoredAvatar> find(std::string_view user_id) override;
  std::optional<std::string> find_version(std::string_view user_id) override;
  bool remove(std::string_view user_id) override;

 private:
  Connection& conn_;
};

}  // namespace tessera::store::sql
