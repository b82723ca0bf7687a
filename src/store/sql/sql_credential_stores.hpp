#pragma once

#include "session/credential_store.hpp"
#include "store/sql/sql_connection.hpp"

namespace tessera::store::sql {

class SqlApiKeyStore final : public session::ApiKeyStore {
 public:
  explicit SqlApiKeyStore(Connection& conn) : conn_(conn) {}
  void insert(const session::ApiKey& key, std::string_view secret_hash) override;
  std::optional<std::pair<session::ApiKey, std::string>> find(std::string_view id) override;
  std::vector<session::ApiKey> list(std::string_view project_id, size_t limit,
                                    std::optional<std::string_view> after_id) override;
  bool remove(std::string_view project_id, std::string_view id) override;
  void touch(std::string_view id, Timestamp used_at) override;

 private:
  Connection& conn_;
};

class SqlPersonalTokenStore final : public session::PersonalTokenStore {
 public:
  explicit SqlPersonalTokenStore(Connection& conn) : conn_(conn) {}
  void insert(const session::PersonalToken& token, std::string_view token_hash) override;
  std::optional<session::PersonalToken> find_by_hash(std::string_view token_hash) override;
  std::vector<session::PersonalToken> list_for_user(std::string_view user_id, size_t limit,
                                                    std::optional<std::string_view> after_id) override;
  std::optional<std::string> remove(std::string_view user_id, std::string_view id) override;

 private:
  Connection& conn_;
};

class SqlRefreshTokenStore final : public session::RefreshTokenStore {
 public:
  explicit SqlRefreshTokenStore(Connection& conn) : conn_(conn) {}
  session::RefreshTokenFate fate(std::string_view id, std::string_view family_id, std::string_view subject_id) override;
  bool mark_spent(std::string_view id, std::string_view family_id, Timestamp at, Timestamp expires_at) override;
  void revoke_family(std::string_view family_id, Timestamp expires_at) override;
  void revoke_subject(std::string_view subject_id, Timestamp at) override;
  void remove_expired(Timestamp now) override;
  std::string mac_key() override;

 private:
  Connection& conn_;
};

class SqlSigningKeyStore final : public session::SigningKeyStore {
 public:
  explicit SqlSigningKeyStore(Connection& conn) : conn_(conn) {}
  void insert(const session::StoredSigningKey& key) override;
  std::vector<session::StoredSigningKey> list() override;
  void retire(std::string_view kid, Timestamp at) override;
  void remove_retired_before(Timestamp cutoff) override;

 private:
  Connection& conn_;
};

class SqlRevokedTokenStore final : public session::RevokedTokenStore {
 public:
  explicit SqlRevokedTokenStore(Connection& conn) : conn_(conn) {}
  void insert(std::string_view jti, std::string_view project_id, Timestamp expires_at) override;
  bool contains(std::string_view jti) override;
  void remove_expired(Timestamp now) override;

 private:
  Connection& conn_;
};

}  // namespace tessera::store::sql
