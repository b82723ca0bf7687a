// Personal access tokens (tsp_...): a user's own long-lived credentials for scripts and tools, each
// with a subset of the owner's permissions and an expiry. At use, a token holds the intersection of
// its permissions and what its owner holds now, so it loses whatever the owner loses.
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

struct NewPersonalToken {
  std::string name;
  std::vector<std::string> permissions;
  std::optional<Timestamp> expires_at;  // default: 90 days
};

struct IssuedPersonalToken {
  PersonalToken token;
  std::string secret;  // shown once
};

class PersonalTokenService {
 public:
  PersonalTokenService(store::Store& store, const Clock& clock, Micros max_ttl, size_t cache_size);

  Result<IssuedPersonalToken> create(const std::string& project_id, const std::string& user_id,
                                     const NewPersonalToken& input, const access::PermissionSet& owner_permissions);
  std::vector<PersonalToken> list(const std::string& user_id, size_t limit, std::optional<std::string_view> after_id);
  Status revoke(const std::string& user_id, const std::string& id);

  // 401 invalid_token for unknown, revoked or expired tokens.
  Result<std::shared_ptr<const PersonalToken>> authenticate(std::string_view token);

 private:
  store::Store& store_;
  const Clock& clock_;
  Micros max_ttl_;
  BoundedCache<PersonalToken> cache_;
};

}  // namespace tessera::session
