#include "session/token_service.hpp"

#include <boost/json.hpp>

#include "core/uuid.hpp"
#include "crypto/random.hpp"
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
    : store_(store), clock_(clock), config_(config), issuer_(std::move(issuer)), keys_(keys), verified_(cache_size) {
  store_.caches().follow(store::Topic::access_tokens, verified_);
  mac_key_ = store_.write([](store::Repositories& r) { return r.refresh_tokens.mac_key(); });
}

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

// A refresh token carries its own data: "tsr_" + base64url(JSON) + "." + base64url(keyed BLAKE2b of
// what precedes the dot). Issuing one writes nothing; only its use is recorded (rotation).
std::string TokenService::encode_refresh(const RefreshToken& rt) const {
  boost::json::object payload{{"i", rt.id},
                              {"f", rt.family_id},
                              {"p", rt.project_id},
                              {"k", rt.subject_kind == SubjectKind::user ? "user" : "api_key"},
                              {"s", rt.subject_id},
                              {"c", rt.scope.scope()},
                              {"t", to_micros(rt.created_at)},
                              {"e", to_micros(rt.expires_at)}};
  std::string body = std::string(crypto::kRefreshTokenPrefix) + crypto::base64url_encode(boost::json::serialize(payload));
  return body + "." + crypto::base64url_encode(crypto::keyed_secret_hash(mac_key_, body));
}

std::optional<RefreshToken> TokenService::decode_refresh(std::string_view token) const {
  constexpr size_t kMaxLength = 4096;
  size_t dot = token.rfind('.');
  if (token.size() > kMaxLength || !token.starts_with(crypto::kRefreshTokenPrefix) || dot == std::string_view::npos)
    return std::nullopt;
  std::string_view body = token.substr(0, dot);
  std::string mac;
  if (!crypto::base64url_decode(token.substr(dot + 1), mac) ||
      !crypto::constant_time_equal(mac, crypto::keyed_secret_hash(mac_key_, body)))
    return std::nullopt;
  std::string json;
  if (!crypto::base64url_decode(body.substr(crypto::kRefreshTokenPrefix.size()), json)) return std::nullopt;
  boost::system::error_code ec;
  auto value = boost::json::parse(json, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& o = value.as_object();
  auto text = [&](const char* k) -> std::optional<std::string> {
    auto it = o.find(k);
    if (it == o.end() || !it->value().is_string()) return std::nullopt;
    return std::string(it->value().as_string());
  };
  auto number = [&](const char* k) -> std::optional<int64_t> {
    auto it = o.find(k);
    if (it == o.end() || !it->value().is_int64()) return std::nullopt;
    return it->value().as_int64();
  };
  auto id = text("i"), family = text("f"), project = text("p"), kind = text("k"), subject = text("s"), scope = text("c");
  auto created = number("t"), expires = number("e");
  if (!id || !family || !project || !kind || !subject || !scope || !created || !expires) return std::nullopt;
  return RefreshToken{*id, *family, *project, *kind == "user" ? SubjectKind::user : SubjectKind::api_key, *subject,
                      access::PermissionSet::from_scope(*scope), from_micros(*created), from_micros(*expires)};
}

// Signing and encoding happen before any transaction: they never hold the store's writer.
TokenResponse TokenService::prepare(const GrantSubject& subject, const access::PermissionSet& scope,
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
  TokenResponse out;
  out.access_token = keys_.sign(claims);
  out.expires_in = seconds(config_.access_ttl);
  out.scope = scope.scope();
  RefreshToken rt{make_uuid_v7(now), family_id, subject.project_id, subject.kind, subject.id, scope, now,
                  now + config_.refresh_ttl};
  if (rt.family_id.empty()) rt.family_id = rt.id;
  out.refresh_token = encode_refresh(rt);
  out.refresh_expires_in = seconds(config_.refresh_ttl);
  return out;
}

Result<TokenResponse> TokenService::grant(const GrantSubject& subject, const std::optional<std::string>& scope) {
  auto granted = narrow(subject.holds, scope);
  if (!granted) return fail(granted.error());
  return prepare(subject, *granted, "");
}

Result<TokenResponse> TokenService::refresh(std::string_view token, const std::optional<std::string>& scope,
                                            const std::optional<std::string>& client,
                                            const std::function<std::optional<GrantSubject>(const RefreshToken&)>& current) {
  auto row = decode_refresh(token);
  Timestamp now = clock_.now();
  if (!row) return fail(invalid_grant("The refresh token is not valid."));
  if (row->expires_at <= now) return fail(invalid_grant("The refresh token has expired."));
  if (client && (row->subject_kind != SubjectKind::api_key || row->subject_id != *client))
    return fail(invalid_grant("The refresh token was issued to another client."));
  auto fate = store_.read([&](store::Repositories& r) { return r.refresh_tokens.fate(row->id, row->family_id, row->subject_id); });
  if (fate.family_revoked || (fate.subject_revoked_at && row->created_at <= *fate.subject_revoked_at))
    return fail(invalid_grant("The refresh token was revoked."));
  auto subject = current(*row);
  if (!subject) return fail(invalid_grant("The credential this refresh token was granted to is no longer valid."));
  // What the token may carry now: its own scope, within what the subject still holds.
  auto holds = row->scope.intersect(subject->holds);
  auto granted = narrow(holds, scope);
  if (!granted) return fail(granted.error());
  TokenResponse issued = prepare(*subject, *granted, row->family_id);
  bool reused = false;
  store_.write([&](store::Repositories& r) {
    if (r.refresh_tokens.mark_spent(row->id, row->family_id, now, row->expires_at)) return;
    // Used before: a retry within the grace period gets a fresh pair; anything later is reuse of a
    // leaked token, and the whole family dies (committed, even though this request fails).
    auto spent_at = r.refresh_tokens.fate(row->id, row->family_id, row->subject_id).spent_at;
    if (!spent_at || now - *spent_at > config_.refresh_reuse_grace) {
      r.refresh_tokens.revoke_family(row->family_id, now + config_.refresh_ttl);
      reused = true;
    }
  });
  if (reused) return fail(invalid_grant("The refresh token was already used; every token of its family is revoked."));
  return issued;
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
  auto row = decode_refresh(token);
  if (!row || row->expires_at <= clock_.now()) return std::nullopt;
  auto fate = store_.read([&](store::Repositories& r) { return r.refresh_tokens.fate(row->id, row->family_id, row->subject_id); });
  if (fate.spent_at || fate.family_revoked || (fate.subject_revoked_at && row->created_at <= *fate.subject_revoked_at))
    return std::nullopt;
  return row;
}

void TokenService::revoke(const std::string& project_id, std::string_view token) {
  if (token.starts_with(crypto::kRefreshTokenPrefix)) {
    auto row = decode_refresh(token);
    if (row && row->project_id == project_id)
      store_.write([&](store::Repositories& r) { r.refresh_tokens.revoke_family(row->family_id, clock_.now() + config_.refresh_ttl); });
    return;
  }
  auto access = verify(token);
  if (!access || (*access)->project_id != project_id) return;
  store_.write([&](store::Repositories& r) {
    r.revoked_tokens.insert((*access)->jti, project_id, (*access)->expires_at);
    r.changes.invalidate(store::Topic::access_tokens, crypto::token_hash(token));
  });
}

void TokenService::sweep() {
  store_.write([&](store::Repositories& r) {
    r.revoked_tokens.remove_expired(clock_.now());
    r.refresh_tokens.remove_expired(clock_.now());
  });
}

}  // namespace tessera::session
