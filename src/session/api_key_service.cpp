#include "session/api_key_service.hpp"

#include "core/uuid.hpp"
#include "crypto/token.hpp"
#include "store/store.hpp"

namespace tessera::session {

namespace {
Error invalid_client() {
  Error e = Error::make(401, "invalid_client", "The API key id or secret is wrong, or the key has expired.");
  e.www_authenticate = "Basic realm=\"tessera\"";
  e.oauth = true;
  return e;
}
}  // namespace

ApiKeyService::ApiKeyService(store::Store& store, const Clock& clock, size_t cache_size)
    : store_(store), clock_(clock), cache_(cache_size) {
  store_.caches().follow(store::Topic::api_keys, cache_);
}

Result<IssuedApiKey> ApiKeyService::create(const std::string& project_id, const NewApiKey& in,
                                           const access::PermissionSet* grantor) {
  std::vector<FieldError> errors;
  auto permissions = access::PermissionSet::parse(in.permissions, "permissions");
  if (!permissions) errors = permissions.error().fields;
  else if (permissions->empty()) errors.push_back({"permissions", "required", "at least one permission is required"});
  if (in.name.size() > 256) errors.push_back({"name", "too_long", "must be at most 256 characters"});
  Timestamp now = clock_.now();
  if (in.expires_at && *in.expires_at <= now) errors.push_back({"expires_at", "past", "must be in the future"});
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  if (grantor && !grantor->covers(*permissions)) {
    Error e = Error::forbidden("forbidden", "An API key cannot get a permission its creator does not hold.");
    for (const auto& p : permissions->list())
      if (!grantor->allows(p)) e.missing_permission = p;
    return fail(std::move(e));
  }
  IssuedApiKey out;
  out.key = ApiKey{make_uuid_v7(now), project_id, in.name, *permissions, in.expires_at, now, std::nullopt};
  out.secret = crypto::make_token(crypto::kApiKeySecretPrefix);
  std::string hash = crypto::keyed_secret_hash(out.key.id, out.secret);
  store_.write([&](store::Repositories& r) { r.api_keys.insert(out.key, hash); });
  return out;
}

std::vector<ApiKey> ApiKeyService::list(const std::string& project_id, size_t limit,
                                        std::optional<std::string_view> after_id) {
  return store_.read([&](store::Repositories& r) { return r.api_keys.list(project_id, limit, after_id); });
}

Result<ApiKey> ApiKeyService::get(const std::string& project_id, const std::string& id) {
  auto entry = load(id);
  if (!entry || entry->key.project_id != project_id) return fail(Error::not_found("api_key_not_found", "No such API key."));
  return entry->key;
}

Status ApiKeyService::revoke(const std::string& project_id, const std::string& id) {
  // Its refresh tokens die with it: a refresh checks that the key still exists.
  bool removed = store_.write([&](store::Repositories& r) {
    r.changes.invalidate(store::Topic::api_keys, id);
    return r.api_keys.remove(project_id, id);
  });
  if (!removed) return fail(Error::not_found("api_key_not_found", "No such API key."));
  return {};
}

std::shared_ptr<const ApiKeyService::Entry> ApiKeyService::load(const std::string& id) {
  if (auto cached = cache_.get(id)) return cached;
  uint64_t epoch = cache_.epoch();
  auto found = store_.read([&](store::Repositories& r) { return r.api_keys.find(id); });
  if (!found) return nullptr;
  auto entry = std::make_shared<const Entry>(Entry{std::move(found->first), std::move(found->second)});
  cache_.fill(id, entry, epoch);
  return entry;
}

Result<std::shared_ptr<const ApiKey>> ApiKeyService::authenticate(std::string_view id, std::string_view secret) {
  if (!is_uuid(id) || !crypto::token_well_formed(secret, crypto::kApiKeySecretPrefix)) return fail(invalid_client());
  auto entry = load(std::string(id));
  std::string presented = crypto::keyed_secret_hash(id, secret);
  bool match = entry && crypto::constant_time_equal(presented, entry->secret_hash);
  if (!match || (entry->key.expires_at && *entry->key.expires_at <= clock_.now())) return fail(invalid_client());
  return std::shared_ptr<const ApiKey>(entry, &entry->key);
}

std::shared_ptr<const ApiKey> ApiKeyService::active(const std::string& id) {
  auto entry = load(id);
  if (!entry || (entry->key.expires_at && *entry->key.expires_at <= clock_.now())) return nullptr;
  return std::shared_ptr<const ApiKey>(entry, &entry->key);
}

}  // namespace tessera::session
