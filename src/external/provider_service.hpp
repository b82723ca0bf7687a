// The providers of each project: those of the config file (read-only) and those managed through
// /v1/providers, with their client secrets sealed under the server key.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "crypto/server_key.hpp"
#include "external/provider.hpp"
#include "external/provider_spec.hpp"

namespace tessera::store {
class Store;
}

namespace tessera::external {

class ProviderService {
 public:
  ProviderService(store::Store& store, const Clock& clock, const crypto::ServerKey& key, bool allow_private);

  // At start-up: the [providers.*] tables of the config file. `project_id_of` resolves a project id or
  // alias (empty when unknown). Errors name the provider and the field.
  template <class ProjectIdOf>
  Status load_config(const std::vector<ConfigProvider>& entries, ProjectIdOf project_id_of) {
    for (const auto& entry : entries) {
      std::string project = "default";
      if (auto* v = entry.fields.if_contains("project"); v && v->is_string()) project = std::string(v->as_string());
      if (auto ok = add_config_provider(entry, project_id_of(project)); !ok) return ok;
    }
    return {};
  }

  Result<Provider> create(const std::string& project_id, const boost::json::object& fields);
  Result<Provider> update(const std::string& project_id, const std::string& name, const boost::json::object& patch);
  // Also unlinks every identity linked through it.
  Status remove(const std::string& project_id, const std::string& name);
  Result<Provider> get(const std::string& project_id, const std::string& name);
  std::vector<Provider> list(const std::string& project_id);
  // A provider users may sign in with: present and enabled, else 404 provider_not_found.
  Result<Provider> find_enabled(const std::string& project_id, const std::string& name);

  // The client secret in clear (nullopt when the provider has none); 409 provider_misconfigured
  // when its source cannot be read.
  Result<std::optional<std::string>> client_secret(const Provider& provider) const;

 private:
  Status add_config_provider(const ConfigProvider& entry, const std::string& project_id);
  const Provider* config_provider(const std::string& project_id, const std::string& name) const;
  void seal(ProviderSpec& spec) const;

  store::Store& store_;
  const Clock& clock_;
  const crypto::ServerKey& key_;
  bool allow_private_;
  std::vector<Provider> config_providers_;  // fixed after start-up
};

Error provider_not_found(const std::string& name);

}  // namespace tessera::external
