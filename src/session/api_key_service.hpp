// API keys: how back-end servers authenticate. The secret (tsk_...) is shown once at creation and
// stored only as a keyed hash; checks compare hashes in constant time. Deleting a key revokes it at
// once, together with the access and refresh tokens granted to it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bounded_cache.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "session/credentials.hpp"

namespace tessera::store {
class Store;
}

namespace tessera::session {

struct NewApiKey {
  std::string name;
  std::vector<std::string> permissions;
  std::optional<Timestamp> expires_at;
};

struct IssuedApiKey {
  ApiKey key;
  std::string secret;  // shown once
};

class ApiKeyService {
 public:
  ApiKeyService(store::Store& store, const Clock& clock, size_t cache_size);

  // `grantor`: what the creator holds; a key never gets more. Null grantor: the CLI (bootstrap).
  Result<IssuedApiKey> create(const std::string& project_id, const NewApiKey& input,
                              const access::PermissionSet* grantor);
  std::vector<ApiKey> list(const std::string& project_id, size_t limit, std::optional<std::string_view> after_id);
  Result<ApiKey> get(const std::string& project_id, const std::string& id);
  Status revoke(const std::string& project_id, const std::string& id);

  // client_credentials: 401 invalid_client for an unknown id, a wrong secret or an expired key.
  Result<std::shared_ptr<const ApiKey>> authenticate(std::string_view id, std::string_view secret);
  // The key as it is now (cached), or null when it was revoked or expired: tokens granted to it die with it.
  std::shared_ptr<const ApiKey> active(const std::string& id);

 private:
  struct Entry {
    ApiKey key;
    std::string secret_hash;
  };
  std::shared_ptr<const Entry> load(const std::string& id);

  store::Store& store_;
  const Clock& clock_;
  BoundedCache<Entry> cache_;
};

}  // namespace tessera::session
