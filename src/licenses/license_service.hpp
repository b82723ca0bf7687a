// Licenses: administration, the caller's own, and activation on devices with offline-verifiable tokens
// (docs/licenses.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "crypto/server_key.hpp"
#include "identity/user.hpp"
#include "licenses/license.hpp"
#include "licenses/license_store.hpp"

namespace tessera::store {
class Store;
struct Repositories;
}
namespace tessera::session {
class KeyRing;
}

namespace tessera::licenses {

// A create (product required) or a patch (only what is given changes; an inner nullopt clears).
struct LicenseInput {
  std::optional<std::string> product;
  identity::PatchField<std::string> user_id;
  identity::PatchField<Timestamp> expires_at;
  std::optional<int64_t> max_activations;
  std::optional<bool> suspended;
  std::optional<boost::json::object> metadata;
};

struct ActivationRequest {
  std::string key, fingerprint;
  std::optional<std::string> hostname;
};

struct IssuedActivation {
  License license;
  Activation activation;
  std::string token;
  Timestamp expires_at;
};

class LicenseService {
 public:
  LicenseService(store::Store& store, const Clock& clock, const crypto::ServerKey& key, const session::KeyRing& keys,
                 std::string issuer, Micros token_ttl);

  Result<License> create(const std::string& project_id, const LicenseInput& input);
  Result<License> get(const std::string& project_id, const std::string& id);
  std::vector<License> list(const std::string& project_id, const LicenseFilter& filter, size_t limit,
                            const std::optional<std::string>& before_id);
  Result<License> update(const std::string& project_id, const std::string& id, const LicenseInput& input);
  Status remove(const std::string& project_id, const std::string& id);
  Result<std::vector<Activation>> activations(const std::string& project_id, const std::string& id);

  // Takes (or renews) the device's seat in one transaction: concurrent activations never exceed the limit.
  Result<IssuedActivation> activate(const std::string& project_id, const ActivationRequest& request);
  Status deactivate(const std::string& project_id, const std::string& key, const std::string& fingerprint);

 private:
  License opened(StoredLicense stored) const;
  std::string key_hash(std::string_view normalized) const;
  Result<StoredLicense> by_key(store::Repositories& r, const std::string& project_id, const std::string& key) const;

  store::Store& store_;
  const Clock& clock_;
  const crypto::ServerKey& key_;
  const session::KeyRing& keys_;
  std::string issuer_;
  Micros token_ttl_;
};

// The rules a create or patch can be checked against without the store (every one broken, named).
std::vector<FieldError> check_license_input(const LicenseInput& input);

// The license as events carry it: never the key.
boost::json::object to_json(const License& license);

}  // namespace tessera::licenses
