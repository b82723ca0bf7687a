#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "session/credentials.hpp"

namespace tessera::session {

class ApiKeyStore {
 public:
  virtual ~ApiKeyStore() = default;
  virtual void insert(const ApiKey& key, std::string_view secret_hash) = 0;
  // The key and its secret hash.
  virtual std::optional<std::pair<ApiKey, std::string>> find(std::string_view id) = 0;
  virtual std::vector<ApiKey> list(std::string_view project_id, size_t limit, std::optional<std::string_view> after_id) = 0;
  virtual bool remove(std::string_view project_id, std::string_view id) = 0;
  virtual void touch(std::string_view id, Timestamp used_at) = 0;
};

class PersonalTokenStore {
 public:
  virtual ~PersonalTokenStore() = default;
  virtual void insert(const PersonalToken& token, std::string_view token_hash) = 0;
  virtual std::optional<PersonalToken> find_by_hash(std::string_view token_hash) = 0;
  virtual std::vector<PersonalToken> list_for_user(std::string_view user_id, size_t limit,
                                                   std::optional<std::string_view> after_id) = 0;
  // The hash of the removed token, so caches can forget it.
  virtual std::optional<std::string> remove(std::string_view user_id, std::string_view id) = 0;
};

// Refresh tokens carry their own data, authenticated by a server key; the store keeps only their fate.
struct RefreshTokenFate {
  std::optional<Timestamp> spent_at;           // when it was first used
  bool family_revoked = false;
  std::optional<Timestamp> subject_revoked_at;  // tokens of the subject created before this are dead
};

class RefreshTokenStore {
 public:
  virtual ~RefreshTokenStore() = default;
  virtual RefreshTokenFate fate(std::string_view id, std::string_view family_id, std::string_view subject_id) = 0;
  // Records the first use; false when the token was used before.
  virtual bool mark_spent(std::string_view id, std::string_view family_id, Timestamp at, Timestamp expires_at) = 0;
  virtual void revoke_family(std::string_view family_id, Timestamp expires_at) = 0;
  virtual void revoke_subject(std::string_view subject_id, Timestamp at) = 0;
  virtual void remove_expired(Timestamp now) = 0;
  // The key that authenticates refresh tokens, made on first use and shared by every node.
  virtual std::string mac_key() = 0;
};

class SigningKeyStore {
 public:
  virtual ~SigningKeyStore() = default;
  virtual void insert(const StoredSigningKey& key) = 0;
  virtual std::vector<StoredSigningKey> list() = 0;  // newest first
  virtual void retire(std::string_view kid, Timestamp at) = 0;
  virtual void remove_retired_before(Timestamp cutoff) = 0;
};

class RevokedTokenStore {
 public:
  virtual ~RevokedTokenStore() = default;
  virtual void insert(std::string_view jti, std::string_view project_id, Timestamp expires_at) = 0;
  virtual bool contains(std::string_view jti) = 0;
  virtual void remove_expired(Timestamp now) = 0;
};

}  // namespace tessera::session
