#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "licenses/license.hpp"

namespace tessera::licenses {

struct LicenseFilter {
  std::optional<std::string> user_id, product;
  std::optional<bool> suspended;
};

// Licenses as stored: the key sealed, found by its keyed hash. `License::key` is left empty by reads;
// the service opens `sealed_key`.
struct StoredLicense {
  License license;
  std::string sealed_key;
};

class LicenseStore {
 public:
  virtual ~LicenseStore() = default;
  virtual void insert(const License& license, std::string_view key_hash, std::string_view sealed_key) = 0;
  virtual std::optional<StoredLicense> find(std::string_view project_id, std::string_view id) = 0;
  virtual std::optional<StoredLicense> find_by_key(std::string_view key_hash) = 0;
  // Newest first, ids before `before_id` (keyset pagination).
  virtual std::vector<StoredLicense> list(std::string_view project_id, const LicenseFilter& filter, size_t limit,
                                          std::optional<std::string_view> before_id) = 0;
  virtual void update(const License& license) = 0;
  virtual bool remove(std::string_view project_id, std::string_view id) = 0;

  virtual std::optional<Activation> find_activation(std::string_view license_id, std::string_view fingerprint) = 0;
  virtual std::vector<Activation> activations(std::string_view license_id) = 0;
  virtual void insert_activation(const Activation& activation) = 0;
  // A renewed activation: its time, and its hostname when one is given.
  virtual void touch_activation(std::string_view id, Timestamp at, const std::optional<std::string>& hostname) = 0;
  virtual bool remove_activation(std::string_view license_id, std::string_view fingerprint) = 0;
};

}  // namespace tessera::licenses
