#include "external/provider_service.hpp"

#include <cstdlib>
#include <fstream>

#include "core/uuid.hpp"
#include "store/store.hpp"

namespace tessera::external {

namespace {
Error from_config(const std::string& name) {
  return Error::conflict("provider_from_config",
                         "The provider \"" + name + "\" is defined in the server's config file; change it there.");
}
}  // namespace

Error provider_not_found(const std::string& name) {
  return Error::not_found("provider_not_found", "The project has no provider named \"" + name + "\".");
}

ProviderService::ProviderService(store::Store& store, const Clock& clock, const crypto::ServerKey& key, bool allow_private)
    : store_(store), clock_(clock), key_(key), allow_private_(allow_private) {}

Status ProviderService::add_config_provider(const ConfigProvider& entry, const std::string& project_id) {
  auto where = "providers." + entry.name;
  auto config_error = [&](const std::string& message) { return fail(Error::make(400, "invalid_config", where + ": " + message)); };
  if (project_id.empty()) return config_error("no such project");
  boost::json::object fields = entry.fields;
  if (fields.contains("name")) return config_error("name is the table's name, not a field");
  fields["name"] = entry.name;
  auto spec = parse_provider_spec(fields, {.allow_private = allow_private_, .from_config = true});
  if (!spec) {
    std::string message = spec.error().message;
    for (auto& f : spec.error().fields) message += " " + f.field + ": " + f.detail + ";";
    return config_error(message);
  }
  if (config_provider(project_id, entry.name)) return config_error("defined twice");
  if (store_.read([&](store::Repositories& r) { return r.providers.find(project_id, entry.name).has_value(); }))
    return config_error("a provider of that name exists in the database (DELETE /v1/providers/" + entry.name + " first)");
  Provider p = std::move(spec->provider);
  p.project_id = project_id;
  p.from_config = true;
  p.created_at = p.updated_at = clock_.now();
  config_providers_.push_back(std::move(p));
  return {};
}

const Provider* ProviderService::config_provider(const std::string& project_id, const std::string& name) const {
  for (auto& p : config_providers_)
    if (p.project_id == project_id && p.name == name) return &p;
  return nullptr;
}

void ProviderService::seal(ProviderSpec& spec) const {
  Provider& p = spec.provider;
  if (spec.client_secret) p.sealed_secret = key_.seal(*spec.client_secret, "provider:" + p.id);
  else if (spec.clear_secret) p.sealed_secret.reset();
}

Result<Provider> ProviderService::create(const std::string& project_id, const boost::json::object& fields) {
  auto spec = parse_provider_spec(fields, {.allow_private = allow_private_});
  if (!spec) return fail(spec.error());
  Provider& p = spec->provider;
  if (config_provider(project_id, p.name))
    return fail(Error::conflict("provider_exists", "A provider named \"" + p.name + "\" exists (in the config file)."));
  Timestamp now = clock_.now();
  p.id = make_uuid_v7(now);
  p.project_id = project_id;
  p.created_at = p.updated_at = now;
  seal(*spec);
  if (!store_.write([&](store::Repositories& r) { return r.providers.insert(p); }))
    return fail(Error::conflict("provider_exists", "A provider named \"" + p.name + "\" exists."));
  return p;
}

Result<Provider> ProviderService::update(const std::string& project_id, const std::string& name,
                                         const boost::json::object& patch) {
  if (config_provider(project_id, name)) return fail(from_config(name));
  return store_.write([&](store::Repositories& r) -> Result<Provider> {
    auto current = r.providers.find(project_id, name);
    if (!current) return fail(provider_not_found(name));
    auto spec = patch_provider_spec(*current, patch, {.allow_private = allow_private_});
    if (!spec) return fail(spec.error());
    seal(*spec);
    spec->provider.updated_at = clock_.now();
    r.providers.update(spec->provider);
    return spec->provider;
  });
}

Status ProviderService::remove(const std::string& project_id, const std::string& name) {
  if (config_provider(project_id, name)) return fail(from_config(name));
  return store_.write([&](store::Repositories& r) -> Status {
    if (!r.providers.remove(project_id, name)) return fail(provider_not_found(name));
    r.changes.invalidate_all(store::Topic::identities);  // its identities go with it
    r.identities.remove_for_provider(project_id, name);
    return {};
  });
}

Result<Provider> ProviderService::get(const std::string& project_id, const std::string& name) {
  if (auto* p = config_provider(project_id, name)) return *p;
  auto found = store_.read([&](store::Repositories& r) { return r.providers.find(project_id, name); });
  if (!found) return fail(provider_not_found(name));
  return *found;
}

std::vector<Provider> ProviderService::list(const std::string& project_id) {
  auto out = store_.read([&](store::Repositories& r) { return r.providers.list(project_id); });
  for (auto& p : config_providers_)
    if (p.project_id == project_id) out.push_back(p);
  std::ranges::sort(out, [](const Provider& a, const Provider& b) { return a.name < b.name; });
  return out;
}

Result<Provider> ProviderService::find_enabled(const std::string& project_id, const std::string& name) {
  auto p = get(project_id, name);
  if (!p || !p->enabled) return fail(provider_not_found(name));
  return p;
}

Result<std::optional<std::string>> ProviderService::client_secret(const Provider& p) const {
  auto misconfigured = [&](const std::string& why) {
    Error e = Error::conflict("provider_misconfigured", "The provider \"" + p.name + "\" is not configured correctly.");
    e.internal = why;
    return fail(e);
  };
  if (p.sealed_secret) {
    auto secret = key_.open(*p.sealed_secret, "provider:" + p.id);
    if (!secret) return misconfigured("the client secret cannot be decrypted (was the server secret key changed?)");
    return std::optional<std::string>(std::move(*secret));
  }
  if (p.client_secret_env) {
    const char* value = std::getenv(p.client_secret_env->c_str());
    if (!value || !*value) return misconfigured("environment variable " + *p.client_secret_env + " is not set");
    return std::optional<std::string>(value);
  }
  if (p.client_secret_file) {
    std::ifstream in(*p.client_secret_file);
    std::string secret;
    if (!in || !std::getline(in, secret) || secret.empty()) return misconfigured("cannot read " + *p.client_secret_file);
    return std::optional<std::string>(std::move(secret));
  }
  return std::optional<std::string>();
}

}  // namespace tessera::external
