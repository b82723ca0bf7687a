#pragma once

#include "licenses/license_store.hpp"
#include "store/sql/sql_connection.hpp"

namespace tessera::store::sql {

class SqlLicenseStore final : public licenses::LicenseStore {
 public:
  explicit SqlLicenseStore(Connection& conn) : conn_(conn) {}
  void insert(const licenses::License& license, std::string_view key_hash, std::string_view sealed_key) override;
  std::optional<licenses::StoredLicense> find(std::string_view project_id, std::string_view id) override;
  std::optional<licenses::StoredLicense> find_by_key(std::string_view key_hash) override;
  std::vector<licenses::StoredLicense> list(std::string_view project_id, const licenses::LicenseFilter& filter, size_t limit,
                                            std::optional<std::string_view> before_id) override;
  void update(const licenses::License& license) override;
  bool remove(std::string_view project_id, std::string_view id) override;

  std::optional<licenses::Activation> find_activation(std::string_view license_id, std::string_view fingerprint) override;
  std::vector<licenses::Activation> activations(std::string_view license_id) override;
  void insert_activation(const licenses::Activation& activation) override;
  void touch_activation(std::string_view id, Timestamp at, const std::optional<std::string>& hostname) override;
  bool remove_activation(std::string_view license_id, std::string_view fingerprint) override;

 private:
  Connection& conn_;
};

}  // namespace tessera::store::sql
