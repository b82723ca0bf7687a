// Signing in with an external profile (docs/external.md, "Signing in with an external profile"): find
// the linked user, link by verified email when the project allows it, or create the user; the
// identities of a user; and the one-time codes that hand a finished flow to the application.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/bounded_cache.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "external/flow_store.hpp"
#include "external/provider.hpp"
#include "identity/user.hpp"
#include "projects/project.hpp"

namespace tessera::store {
class Store;
}
namespace tessera::identity {
class UserService;
}

namespace tessera::external {

struct SignedIn {
  identity::User user;
  bool created = false;
  std::string provider;
};

class ExternalLogin {
 public:
  ExternalLogin(store::Store& store, const Clock& clock, identity::UserService& users, Micros code_ttl, size_t cache_size);

  // One transaction: nothing is linked or created when it fails.
  Result<SignedIn> sign_in(const projects::Project& project, const Provider& provider, const ExternalProfile& profile,
                           FlowAction action);

  // Cached: GET /v1/me shows them on every call.
  std::shared_ptr<const std::vector<Identity>> identities(const std::string& user_id);
  // 404 identity_not_found; 409 last_login_method when no other way to log in would remain.
  Status unlink(const identity::User& user, const std::string& provider);

  // A tso_ code for `signed_in` (single use, stored hashed), bound to the application's PKCE challenge.
  std::string issue_code(const SignedIn& signed_in, const std::string& provider, const std::optional<std::string>& code_challenge);
  // 400 invalid_code when unknown, used, expired, of another project than `project_id` (when given), or
  // the verifier does not match. The code itself says its project.
  Result<SignedIn> redeem_code(const std::optional<std::string>& project_id, const std::string& code,
                               const std::optional<std::string>& code_verifier);

 private:
  store::Store& store_;
  const Clock& clock_;
  identity::UserService& users_;
  Micros code_ttl_;
  BoundedCache<std::vector<Identity>> identities_;
};

}  // namespace tessera::external
