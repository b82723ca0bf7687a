#include "licenses/license_service.hpp"

#include <boost/json.hpp>

#include "core/uuid.hpp"
#include "events/outbox.hpp"
#include "identity/identifiers.hpp"
#include "licenses/license_key.hpp"
#include "session/key_ring.hpp"
#include "store/store.hpp"

namespace tessera::licenses {

namespace {

constexpr size_t kMaxMetadataBytes = 16 * 1024;
constexpr int64_t kMaxActivations = 100000;

Error not_found() { return Error::not_found("license_not_found", "No such license in this project."); }

int64_t unix_seconds(Timestamp t) { return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(); }

boost::json::value optional_time(const std::optional<Timestamp>& t) {
  return t ? boost::json::value(format_rfc3339(*t)) : boost::json::value(nullptr);
}

// Applies `in` to `l`; user_id must name a user of the project.
void apply(store::Repositories& r, License& l, const LicenseInput& in, std::vector<FieldError>& errors) {
  if (in.product) l.product = *in.product;
  if (in.user_id) {
    l.user_id = *in.user_id;
    if (l.user_id && !r.users.find(l.project_id, *l.user_id))
      errors.push_back({"user_id", "not_found", "is not a user of this project"});
  }
  if (in.expires_at) l.expires_at = *in.expires_at;
  if (in.max_activations) l.max_activations = *in.max_activations;
  if (in.suspended) l.suspended = *in.suspended;
  if (in.metadata) l.metadata = *in.metadata;
}

}  // namespace

std::vector<FieldError> check_license_input(const LicenseInput& in) {
  std::vector<FieldError> errors;
  if (in.product && (in.product->empty() || identity::utf8_length(*in.product) > 128))
    errors.push_back({"product", "length", "must be 1 to 128 characters"});
  if (in.max_activations && (*in.max_activations < 1 || *in.max_activations > kMaxActivations))
    errors.push_back({"max_activations", "range", "must be 1 to 100000"});
  if (in.metadata && boost::json::serialize(*in.metadata).size() > kMaxMetadataBytes)
    errors.push_back({"metadata", "too_large", "must be at most 16 KiB of JSON"});
  return errors;
}

boost::json::object to_json(const License& l) {
  return {{"id", l.id},
          {"project_id", l.project_id},
          {"user_id", l.user_id ? boost::json::value(*l.user_id) : boost::json::value(nullptr)},
          {"product", l.product},
          {"expires_at", optional_time(l.expires_at)},
          {"max_activations", l.max_activations},
          {"suspended", l.suspended},
          {"activations", l.activations},
          {"metadata", l.metadata},
          {"created_at", format_rfc3339(l.created_at)},
          {"updated_at", format_rfc3339(l.updated_at)}};
}

LicenseService::LicenseService(store::Store& store, const Clock& clock, const crypto::ServerKey& key,
                               const session::KeyRing& keys, std::string issuer, Micros token_ttl)
    : store_(store), clock_(clock), key_(key), keys_(keys), issuer_(std::move(issuer)), token_ttl_(token_ttl) {}

std::string LicenseService::key_hash(std::string_view normalized) const { return key_.derive("tessera.license-key.v1", normalized); }

License LicenseService::opened(StoredLicense stored) const {
  License l = std::move(stored.license);
  auto key = key_.open(stored.sealed_key, "license:" + l.id);
  l.key = key ? format_license_key(*key) : "";  // a changed server key: the key cannot be shown
  return l;
}

Result<License> LicenseService::create(const std::string& project_id, const LicenseInput& in) {
  Timestamp now = clock_.now();
  License l;
  l.id = make_uuid_v7(now);
  l.project_id = project_id;
  l.created_at = l.updated_at = now;
  l.key = make_license_key();
  std::string normalized = *normalize_license_key(l.key);
  return store_.write([&](store::Repositories& r) -> Result<License> {
    std::vector<FieldError> errors = check_license_input(in);
    if (!in.product) errors.push_back({"product", "required", "is required"});
    apply(r, l, in, errors);
    if (!errors.empty()) return fail(Error::validation(std::move(errors)));
    r.licenses.insert(l, key_hash(normalized), key_.seal(normalized, "license:" + l.id));
    events::record(r, now, {"license.created", project_id, {{"license", to_json(l)}}});
    return l;
  });
}

Result<License> LicenseService::get(const std::string& project_id, const std::string& id) {
  auto found = store_.read([&](store::Repositories& r) { return r.licenses.find(project_id, id); });
  if (!found) return fail(not_found());
  return opened(std::move(*found));
}

std::vector<License> LicenseService::list(const std::string& project_id, const LicenseFilter& filter, size_t limit,
                                          const std::optional<std::string>& before_id) {
  auto rows = store_.read([&](store::Repositories& r) {
    return r.licenses.list(project_id, filter, limit,
                           before_id ? std::optional<std::string_view>(*before_id) : std::nullopt);
  });
  std::vector<License> out;
  for (auto& row : rows) out.push_back(opened(std::move(row)));
  return out;
}

Result<License> LicenseService::update(const std::string& project_id, const std::string& id, const LicenseInput& in) {
  auto updated = store_.write([&](store::Repositories& r) -> Result<StoredLicense> {
    auto found = r.licenses.find(project_id, id);
    if (!found) return fail(not_found());
    std::vector<FieldError> errors = check_license_input(in);
    apply(r, found->license, in, errors);
    if (!errors.empty()) return fail(Error::validation(std::move(errors)));
    found->license.updated_at = clock_.now();
    r.licenses.update(found->license);
    return std::move(*found);
  });
  if (!updated) return fail(updated.error());
  return opened(std::move(*updated));
}

Status LicenseService::remove(const std::string& project_id, const std::string& id) {
  if (!store_.write([&](store::Repositories& r) { return r.licenses.remove(project_id, id); })) return fail(not_found());
  return {};
}

Result<std::vector<Activation>> LicenseService::activations(const std::string& project_id, const std::string& id) {
  return store_.read([&](store::Repositories& r) -> Result<std::vector<Activation>> {
    if (!r.licenses.find(project_id, id)) return fail(not_found());
    return r.licenses.activations(id);
  });
}

Result<StoredLicense> LicenseService::by_key(store::Repositories& r, const std::string& project_id, const std::string& key) const {
  auto normalized = normalize_license_key(key);
  if (!normalized) {
    Error e = Error::bad_request("invalid_license_key", "This is not a license key: check it for typos.");
    e.fields.push_back({"key", "invalid", "must be 25 characters of Crockford base32 with a valid check character"});
    return fail(e);
  }
  auto found = r.licenses.find_by_key(key_hash(*normalized));
  if (!found || found->license.project_id != project_id) return fail(not_found());
  return std::move(*found);
}

Result<IssuedActivation> LicenseService::activate(const std::string& project_id, const ActivationRequest& in) {
  Timestamp now = clock_.now();
  return store_.write([&](store::Repositories& r) -> Result<IssuedActivation> {
    auto stored = by_key(r, project_id, in.key);
    if (!stored) return fail(stored.error());
    License l = opened(std::move(*stored));
    if (l.suspended) return fail(Error::forbidden("license_suspended", "This license is suspended."));
    if (l.expires_at && *l.expires_at <= now) return fail(Error::forbidden("license_expired", "This license has expired."));
    auto activation = r.licenses.find_activation(l.id, in.fingerprint);
    if (activation) {
      r.licenses.touch_activation(activation->id, now, in.hostname);
      activation->last_activated_at = now;
      if (in.hostname) activation->hostname = in.hostname;
    } else {
      if (l.activations >= l.max_activations)
        return fail(Error::conflict("activation_limit", "Every seat of this license is taken: deactivate a device first."));
      activation = Activation{make_uuid_v7(now), l.id, in.fingerprint, in.hostname, now, now};
      r.licenses.insert_activation(*activation);
      ++l.activations;
    }
    Timestamp expires = now + token_ttl_;
    if (l.expires_at && *l.expires_at < expires) expires = *l.expires_at;
    boost::json::object claims{
        {"iss", issuer_},
        {"aud", "tessera:license"},
        {"sub", l.id},
        {"license_id", l.id},
        {"activation_id", activation->id},
        {"project_id", l.project_id},
        {"product", l.product},
        {"fingerprint", in.fingerprint},
        {"license_expires_at", l.expires_at ? boost::json::value(unix_seconds(*l.expires_at)) : boost::json::value(nullptr)},
        {"iat", unix_seconds(now)},
        {"exp", unix_seconds(expires)}};
    events::record(r, now, {"license.activated", project_id, {{"license", to_json(l)}, {"activation_id", activation->id},
                                                             {"fingerprint", in.fingerprint},
                                                             {"hostname", in.hostname ? boost::json::value(*in.hostname) : nullptr}}});
    return IssuedActivation{l, *activation, keys_.sign(claims, "license+jwt"), expires};
  });
}

Status LicenseService::deactivate(const std::string& project_id, const std::string& key, const std::string& fingerprint) {
  return store_.write([&](store::Repositories& r) -> Status {
    auto stored = by_key(r, project_id, key);
    if (!stored) return fail(stored.error());
    if (!r.licenses.remove_activation(stored->license.id, fingerprint))
      return fail(Error::not_found("activation_not_found", "This device holds no seat of the license."));
    return {};
  });
}

}  // namespace tessera::licenses
