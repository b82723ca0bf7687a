#include "session/token_service.hpp"

#include "core/uuid.hpp"
#include "crypto/token.hpp"
#include "store/store.hpp"

namespace tessera::session {

namespace {

Error oauth_error(int status, std::string code, std::string message) {
  Error e = Error::make(status, std::move(code), std::move(message));
  e.oauth = true;
  return e;
}
Error invalid_grant(std::string message) { return oauth_error(400, "invalid_grant", std::move(message)); }
Error invalid_token(std::string internal) {
  Error e = Error::unauthorized("invalid_token", "The access token is not valid.");
  e.internal = std::move(internal);
  return e;
}
int64_t seconds(Micros d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }
int64_t unix_seconds(Timestamp t) { return seconds(t.time_since_epoch()); }

}  // namespace

TokenService::TokenService(store::Store& store, const Clock& clock, const TokenConfig& config, std::string issuer,
                           KeyRing& keys, size_t cache_size)
    : store_(store), clock_(clock), config_(config), issuer_(std::move(issuer)), keys_(keys), verified_(cache_size) {}

Result<access::PermissionSet> TokenService::narrow(const access::PermissionSet& holds,
                                                   const std::optional<std::string>& scope) {
  if (!scope) return holds;
  access::PermissionSet wanted = access::PermissionSet::from_scope(*scope);
  size_t words = 0;
  for (size_t i = 0; i < scope->size(); ++i)
    if ((*scope)[i] != ' ' && (i == 0 || (*scope)[i - 1] == ' ')) ++words;
  if (wanted.list().size() != words && words > 0) {
    // from_scope drops unknown permissions; a scope naming one is an error, not a silent narrowing.
    return fail(oauth_error(400, "invalid_scope", "The scope names an unknown permission."));
  }
  if (!holds.covers(wanted))
    return fail(oauth_error(400, "invalid_scope", "The scope asks for more than the credential holds."));
  return wanted;
}

// Everything but the insert happens before the transaction: signing and hashing never hold the
// store's writer.
TokenService::Prepared TokenService::prepare(const GrantSubject& subject, const access::PermissionSet& scope,
                                             const std::string& family_id) {
  Timestamp now = clock_.now();
  Timestamp expires = now + config_.access_ttl;
  boost::json::object claims{
      {"iss", issuer_},
      {"sub", subject.id},
      {"aud", config_.audience},
      {"iat", unix_seconds(now)},
      {"exp", unix_seconds(expires)},
      {"jti", make_uuid_v7(now)},
      {"scope", scope.scope()},
      {"project", subject.project_id},
      {"kind", subject.kind == SubjectKind::user ? "user" : "api_key"},
  };
  if (subject.kind == SubjectKind::api_key) claims["client_id"] = subject.id;
  Prepared out;
  out.response.access_token = keys_.sign(claims);
  out.response.expires_in = seconds(config_.access_ttl);
  out.response.scope = scope.scope();
  out.row = RefreshToken{make_uuid_v7(now), family_id, subject.project_id, subject.kind, subject.id, scope, now,
                         now + config_.refresh_ttl, std::nullopt};
  if (out.row.family_id.empty()) out.row.family_id = out.row.id;
  out.response.refresh_token = crypto::make_token(crypto::kRefreshTokenPrefix);
  out.response.refresh_expires_in = seconds(config_.refresh_ttl);
  out.refresh_hash = crypto::token_hash(out.response.refresh_token);
  return out;
}

Result<TokenResponse> TokenService::grant(const GrantSubject& subject, const std::optional<std::string>& scope) {
  auto granted = narrow(subject.holds, scope);
  if (!granted) return fail(granted.error());
  Prepared issued = prepare(subject, *granted, "");
  store_.write([&](store::Repositories& r) { r.refresh_tokens.insert(issued.row, issued.refresh_hash); });
  return issued.response;
}

Result<TokenResponse> TokenService::refresh(std::string_view token, const std::optional<std::string>& scope,
                                            const std::optional<std::string>& client,
                                            const std::function<std::optional<GrantSubject>(const RefreshToken&)>& current) {
  if (!crypto::token_well_formed(token, crypto::kRefreshTokenPrefix)) return fail(invalid_grant("The refresh token is not valid."));
  std::string hash = crypto::token_hash(token);
  auto row = store_.read([&](store::Repositories& r) { return r.refresh_tokens.find_by_hash(hash); });
  Timestamp now = clock_.now();
  if (!row) return fail(invalid_grant("The refresh token is not valid."));
  if (row->expires_at <= now) return fail(invalid_grant("The refresh token has expired."));
  if (client && (row->subject_kind != SubjectKind::api_key || row->subject_id != *client))
    return fail(invalid_grant("The refresh token was issued to another client."));
  auto subject = current(*row);
  if (!subject) return fail(invalid_grant("The credential this refresh token was granted to is no longer valid."));
  // What the token may carry now: its own scope, within what the subject still holds.
  auto holds = row->scope.intersect(subject->holds);
  auto granted = narrow(holds, scope);
  if (!granted) return fail(granted.error());
  bool reused = false;
  Prepared issued = prepare(*subject, *granted, row->family_id);
  store_.write([&](store::Repositories& r) {
    if (!r.refresh_tokens.spend(row->id, now)) {
      // Spent already: a retry within the grace period gets a fresh pair; anything later is reuse of a
      // leaked token, and the whole family dies (committed, even though this request fails).
      auto again = r.refresh_tokens.find_by_hash(hash);
      if (!again || !again->spent_at || now - *again->spent_at > config_.refresh_reuse_grace) {
        r.refresh_tokens.remove_family(row->family_id);
        reused = true;
        return;
      }
    }
    r.refresh_tokens.insert(issued.row, issued.refresh_hash);
  });
  if (reused) return fail(invalid_grant("The refresh token was already used; every token of its family is revoked."));
  return issued.response;
}

Result<std::shared_ptr<const AccessToken>> TokenService::verify(std::string_view jwt) {
  std::string hash = crypto::token_hash(jwt);
  Timestamp now = clock_.now();
  auto cached = verified_.get(hash);
  if (!cached) {
    uint64_t epoch = verified_.epoch();
    auto claims = keys_.verify(jwt);
    if (!claims) return fail(claims.error());
    if (auto ok = crypto::check_registered_claims(*claims, unix_seconds(now), issuer_, config_.audience); !ok)
      return fail(ok.error());
    auto text = [&](const char* name) -> std::string {
      auto it = claims->find(name);
      return it != claims->end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
    };
    auto number = [&](const char* name) -> int64_t {
      auto it = claims->find(name);
      return it != claims->end() && it->value().is_int64() ? it->value().as_int64() : 0;
    };
    auto token = std::make_shared<AccessToken>();
    token->jti = text("jti");
    token->project_id = text("project");
    token->subject = text("sub");
    token->kind = text("kind") == "user" ? SubjectKind::user : SubjectKind::api_key;
    token->scope = access::PermissionSet::from_scope(text("scope"));
    token->issued_at = from_micros(number("iat") * 1000000);
    token->expires_at = from_micros(number("exp") * 1000000);
    if (token->jti.empty() || token->project_id.empty() || token->subject.empty())
      return fail(invalid_token("missing jti, project or sub"));
    if (store_.read([&](store::Repositories& r) { return r.revoked_tokens.contains(token->jti); }))
      return fail(invalid_token("revoked"));
    cached = token;
    verified_.fill(hash, cached, epoch);
  }
  if (cached->expires_at <= now) return fail(invalid_token("expired"));
  return cached;
}

std::optional<RefreshToken> TokenService::find_refresh(std::string_view token) {
  if (!crypto::token_well_formed(token, crypto::kRefreshTokenPrefix)) return std::nullopt;
  std::string hash = crypto::token_hash(token);
  auto row = store_.read([&](store::Repositories& r) { return r.refresh_tokens.find_by_hash(hash); });
  if (!row || row->spent_at || row->expires_at <= clock_.now()) return std::nullopt;
  return row;
}

void TokenService::revoke(const std::string& project_id, std::string_view token) {
  if (token.starts_with(crypto::kRefreshTokenPrefix)) {
    std::string hash = crypto::token_hash(token);
    store_.write([&](store::Repositories& r) {
      auto row = r.refresh_tokens.find_by_hash(hash);
      if (row && row->project_id == project_id) r.refresh_tokens.remove_family(row->family_id);
    });
    return;
  }
  auto access = verify(token);
  if (!access || (*access)->project_id != project_id) return;
  store_.write([&](store::Repositories& r) {
    r.revoked_tokens.insert((*access)->jti, project_id, (*access)->expires_at);
  });
  verified_.erase(crypto::token_hash(token));
}

void TokenService::sweep() {
  store_.write([&](store::Repositories& r) { r.revoked_tokens.remove_expired(clock_.now()); });
}

}  // namespace tessera::session
