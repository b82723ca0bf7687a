#include "external/provider_client.hpp"

#include <boost/json.hpp>

namespace tessera::external {

namespace {

constexpr size_t kMaxCached = 1024;  // more providers than this share the cache by evicting it

std::optional<std::string> string_member(const boost::json::object& o, std::string_view name) {
  auto* v = o.if_contains(name);
  if (!v || !v->is_string() || v->as_string().empty()) return std::nullopt;
  return std::string(v->as_string());
}

template <class Map>
void bound(Map& map) {
  if (map.size() >= kMaxCached) map.clear();
}

}  // namespace

Error provider_unavailable(std::string internal) {
  Error e = Error::make(502, "provider_unavailable", "The identity provider could not be reached or gave an unexpected answer.");
  e.internal = std::move(internal);
  return e;
}

ProviderClient::ProviderClient(const HttpClient& http, const Clock& clock, Micros cache_ttl, Micros refresh_interval)
    : http_(http), clock_(clock), cache_ttl_(cache_ttl), refresh_interval_(refresh_interval) {}

Result<ProviderClient::JsonAnswer> ProviderClient::call(const HttpRequest& request, std::string_view what) const {
  HttpRequest with_accept = request;
  with_accept.headers.emplace_back("Accept", "application/json");
  auto answer = http_.send(with_accept);
  std::string where = std::string(what) + " " + request.url;
  if (!answer.error.empty()) return fail(provider_unavailable(where + ": " + answer.error));
  if (answer.truncated) return fail(provider_unavailable(where + ": answer too large"));
  if (answer.status >= 500 || answer.status < 200) return fail(provider_unavailable(where + ": HTTP " + std::to_string(answer.status)));
  boost::system::error_code ec;
  auto body = boost::json::parse(answer.body, ec);
  if (ec) {
    if (answer.status >= 300) return JsonAnswer{answer.status, nullptr};  // an error page: the status says enough
    return fail(provider_unavailable(where + ": the answer is not JSON"));
  }
  return JsonAnswer{answer.status, std::move(body)};
}

Result<OidcMetadata> ProviderClient::metadata(const std::string& issuer) {
  Timestamp now = clock_.now();
  {
    std::lock_guard lock(mutex_);
    if (auto it = metadata_.find(issuer); it != metadata_.end() && now - it->second.fetched_at < cache_ttl_)
      return it->second.metadata;
  }
  std::string url = issuer;
  if (url.ends_with('/')) url.pop_back();
  url += "/.well-known/openid-configuration";
  auto answer = call({"GET", url, "", {}}, "discovery");
  if (!answer) return fail(answer.error());
  const auto* doc = answer->body.if_object();
  if (answer->status != 200 || !doc) return fail(provider_unavailable("discovery " + url + ": HTTP " + std::to_string(answer->status)));
  OidcMetadata m;
  m.issuer = string_member(*doc, "issuer").value_or("");
  if (m.issuer != issuer) return fail(provider_unavailable("discovery " + url + ": issuer is " + m.issuer + ", not " + issuer));
  auto authorization = string_member(*doc, "authorization_endpoint");
  auto token = string_member(*doc, "token_endpoint");
  auto jwks = string_member(*doc, "jwks_uri");
  if (!authorization || !token || !jwks)
    return fail(provider_unavailable("discovery " + url + ": authorization_endpoint, token_endpoint or jwks_uri missing"));
  // The discovery document names where codes and keys come from: the same https rule as configured URLs.
  for (const auto* endpoint : {&*authorization, &*token, &*jwks})
    if (!http_.allow_private_networks() && !endpoint->starts_with("https://"))
      return fail(provider_unavailable("discovery " + url + ": " + *endpoint + " is not https"));
  m.authorization_endpoint = *authorization;
  m.token_endpoint = *token;
  m.jwks_uri = *jwks;
  m.userinfo_endpoint = string_member(*doc, "userinfo_endpoint");
  if (m.userinfo_endpoint && !http_.allow_private_networks() && !m.userinfo_endpoint->starts_with("https://"))
    m.userinfo_endpoint.reset();
  if (auto* methods = doc->if_contains("token_endpoint_auth_methods_supported"); methods && methods->is_array()) {
    bool basic = false, post = false;
    for (auto& v : methods->as_array()) {
      basic = basic || v == "client_secret_basic";
      post = post || v == "client_secret_post";
    }
    m.client_secret_post_only = post && !basic;
  }
  std::lock_guard lock(mutex_);
  bound(metadata_);
  metadata_[issuer] = {m, now};
  return m;
}

Result<std::shared_ptr<const crypto::UpstreamKeySet>> ProviderClient::keys_for(const std::string& jwks_uri, std::string_view token) {
  Timestamp now = clock_.now();
  auto kid = crypto::jws_kid(token);
  std::shared_ptr<const crypto::UpstreamKeySet> cached;
  {
    std::lock_guard lock(mutex_);
    if (auto it = keys_.find(jwks_uri); it != keys_.end()) {
      cached = it->second.keys;
      bool fresh = now - it->second.fetched_at < cache_ttl_;
      bool knows_kid = !kid || cached->has_kid(*kid);
      if (fresh && (knows_kid || now - it->second.last_attempt < refresh_interval_)) return cached;
      it->second.last_attempt = now;  // claims this refetch: concurrent callers keep the cached set
    }
  }
  auto answer = call({"GET", jwks_uri, "", {}}, "jwks");
  if (answer && answer->status != 200) answer = fail(provider_unavailable("jwks " + jwks_uri + ": HTTP " + std::to_string(answer->status)));
  auto parsed = answer ? crypto::UpstreamKeySet::parse(answer->body) : Result<crypto::UpstreamKeySet>(fail(answer.error()));
  if (!parsed) {
    if (cached) return cached;  // a provider briefly down keeps working with the keys it had
    Error e = parsed.error();
    return fail(e.code == "provider_unavailable" ? e : provider_unavailable("jwks " + jwks_uri + ": " + e.internal));
  }
  auto keys = std::make_shared<const crypto::UpstreamKeySet>(std::move(*parsed));
  std::lock_guard lock(mutex_);
  bound(keys_);
  keys_[jwks_uri] = {keys, now, now};
  return keys;
}

}  // namespace tessera::external
