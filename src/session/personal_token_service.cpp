#include "session/personal_token_service.hpp"

#include "core/uuid.hpp"
#include "crypto/token.hpp"
#include "store/store.hpp"

namespace tessera::session {

namespace {
constexpr auto kDefaultTtl = std::chrono::hours(24 * 90);
Error invalid_token() { return Error::unauthorized("invalid_token", "The access token is not valid."); }
}  // namespace

PersonalTokenService::PersonalTokenService(store::Store& store, const Clock& clock, Micros max_ttl, size_t cache_size)
    : store_(store), clock_(clock), max_ttl_(max_ttl), cache_(cache_size) {
  store_.caches().follow(store::Topic::personal_tokens, cache_);
}

Result<IssuedPersonalToken> PersonalTokenService::create(const std::string& project_id, const std::string& user_id,
                                                         const NewPersonalToken& in,
                                                         const access::PermissionSet& owner_permissions) {
  std::vector<FieldError> errors;
  auto permissions = access::PermissionSet::parse(in.permissions, "permissions");
  if (!permissions) errors = permissions.error().fields;
  if (in.name.empty() || in.name.size() > 256) errors.push_back({"name", "length", "must be 1 to 256 characters"});
  Timestamp now = clock_.now();
  Timestamp expires_at = in.expires_at.value_or(now + std::min<Micros>(kDefaultTtl, max_ttl_));
  if (expires_at <= now) errors.push_back({"expires_at", "past", "must be in the future"});
  if (expires_at > now + max_ttl_) errors.push_back({"expires_at", "too_far", "is beyond the longest lifetime allowed"});
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  if (!owner_permissions.covers(*permissions)) {
    Error e = Error::forbidden("forbidden", "A personal access token cannot hold a permission its owner does not.");
    for (const auto& p : permissions->list())
      if (!owner_permissions.allows(p)) e.missing_permission = p;
    return fail(std::move(e));
  }
  IssuedPersonalToken out;
  out.token = PersonalToken{make_uuid_v7(now), project_id, user_id, in.name, *permissions, expires_at, now, std::nullopt};
  out.secret = crypto::make_token(crypto::kPersonalTokenPrefix);
  std::string hash = crypto::token_hash(out.secret);
  store_.write([&](store::Repositories& r) { r.personal_tokens.insert(out.token, hash); });
  return out;
}

std::vector<PersonalToken> PersonalTokenService::list(const std::string& user_id, size_t limit,
                                                      std::optional<std::string_view> after_id) {
  return store_.read([&](store::Repositories& r) { return r.personal_tokens.list_for_user(user_id, limit, after_id); });
}

Status PersonalTokenService::revoke(const std::string& user_id, const std::string& id) {
  auto hash = store_.write([&](store::Repositories& r) {
    auto removed = r.personal_tokens.remove(user_id, id);
    if (removed) r.changes.invalidate(store::Topic::personal_tokens, *removed);
    return removed;
  });
  if (!hash) return fail(Error::not_found("token_not_found", "No such personal access token."));
  return {};
}

Result<std::shared_ptr<const PersonalToken>> PersonalTokenService::authenticate(std::string_view token) {
  if (!crypto::token_well_formed(token, crypto::kPersonalTokenPrefix)) return fail(invalid_token());
  std::string hash = crypto::token_hash(token);
  auto cached = cache_.get(hash);
  if (!cached) {
    uint64_t epoch = cache_.epoch();
    auto found = store_.read([&](store::Repositories& r) { return r.personal_tokens.find_by_hash(hash); });
    if (!found) return fail(invalid_token());
    cached = std::make_shared<const PersonalToken>(std::move(*found));
    cache_.fill(hash, cached, epoch);
  }
  if (cached->expires_at <= clock_.now()) return fail(Error::unauthorized("token_expired", "The personal access token has expired."));
  return cached;
}

}  // namespace tessera::session
