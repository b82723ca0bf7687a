#pragma once

#include "session/session_store.hpp"
#include "store/sql/sql_connection.hpp"

namespace tessera::store::sql {

class SqlSessionStore final : public session::SessionStore {
 public:
  explicit SqlSessionStore(Connection& conn) : conn_(conn) {}
  void insert(const session::Session& s) override;
  std::optional<session::Session> find_by_token_hash(std::string_view token_hash) override;
  std::vector<session::Session> list_for_user(std::string_view user_id, size_t limit,
                                              std::optional<std::string_view> before_id) override;
  std::optional<std::string> remove(std::string_view user_id, std::string_view session_id) override;
  std::vector<session::RemovedSession> remove_for_user(std::string_view user_id,
                                           std::optional<std::string_view> except_session_id) override;
  void touch(std::string_view session_id, Timestamp idle_expires_at, Timestamp last_used_at) override;
  uint64_t remove_expired(Timestamp idle_cutoff, Timestamp now) override;
  uint64_t count_active(Timestamp now) override;

 private:
  Connection& conn_;
};

}  // namespace tessera::store::sql
