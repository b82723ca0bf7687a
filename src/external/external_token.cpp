#include "external/external_token.hpp"

#include <boost/json.hpp>

#include "external/id_token.hpp"

namespace tessera::external {

namespace {

const boost::json::value* at_path(const boost::json::object& root, std::string_view path) {
  const boost::json::object* o = &root;
  for (;;) {
    auto dot = path.find('.');
    auto* v = o->if_contains(path.substr(0, dot));
    if (!v || dot == std::string_view::npos) return v;
    o = v->if_object();
    if (!o) return nullptr;
    path.remove_prefix(dot + 1);
  }
}

}  // namespace

ExternalTokens::ExternalTokens(ProviderClient& client, const ProviderService& providers, const Clock& clock, Micros clock_skew)
    : client_(client), providers_(providers), clock_(clock), clock_skew_(clock_skew) {}

Result<ExternalProfile> ExternalTokens::verify(const std::string& project_id, const Provider& provider, const std::string& token) {
  if (provider.kind == ProviderKind::jwt) return verify_jwt(provider, token);
  if (provider.kind == ProviderKind::verify_url) return verify_with_url(project_id, provider, token);
  return fail(Error::validation({{"provider", "wrong_kind", "signs in through GET /v1/auth/oauth/" + provider.name + "/start, not with a token"}}));
}

Result<ExternalProfile> ExternalTokens::verify_jwt(const Provider& provider, const std::string& token) {
  auto keys = client_.keys_for(*provider.settings.jwks_uri, token);
  if (!keys) return fail(keys.error());
  auto claims = (*keys)->verify(token);
  if (!claims) return fail(claims.error());
  IdTokenExpectations expected{*provider.settings.issuer, *provider.settings.audience, std::nullopt,
                               to_micros(clock_.now()) / 1000000, clock_skew_.count() / 1000000, false};
  if (auto ok = check_id_token(*claims, expected); !ok) return fail(ok.error());
  return profile_from_claims(*claims);
}

Result<ExternalProfile> ExternalTokens::verify_with_url(const std::string& project_id, const Provider& provider,
                                                        const std::string& token) {
  auto secret = providers_.client_secret(provider);
  if (!secret) return fail(secret.error());
  boost::json::object body{{"token", token}, {"provider", provider.name}, {"project_id", project_id}};
  HttpRequest request{"POST", *provider.settings.url, boost::json::serialize(body), {{"Content-Type", "application/json"}}};
  if (*secret) request.headers.emplace_back("Authorization", "Bearer " + **secret);
  auto answer = client_.call(request, "verify_url");
  if (!answer) return fail(answer.error());
  if (answer->status == 401 || answer->status == 403 || answer->status == 404)
    return fail(invalid_external_token("verify_url answered " + std::to_string(answer->status)));
  const auto* object = answer->body.if_object();
  if (answer->status < 200 || answer->status >= 300 || !object)
    return fail(provider_unavailable("verify_url answered " + std::to_string(answer->status) + (object ? "" : " without a JSON object")));
  return profile_from_answer(*object, provider.settings.mapping);
}

Result<ExternalProfile> profile_from_answer(const boost::json::object& answer, const std::optional<boost::json::object>& mapping) {
  auto field = [&](std::string_view name) -> const boost::json::value* {
    if (mapping)
      if (auto* path = mapping->if_contains(name); path && path->is_string()) return at_path(answer, path->as_string());
    return answer.if_contains(name);
  };
  auto text = [&](std::string_view name) -> std::optional<std::string> {
    auto* v = field(name);
    if (!v || !v->is_string() || v->as_string().empty()) return std::nullopt;
    return std::string(v->as_string());
  };
  ExternalProfile p;
  auto* id = field("id");
  if (id && id->is_string()) p.subject = std::string(id->as_string());
  else if (id && (id->is_int64() || id->is_uint64())) p.subject = boost::json::serialize(*id);
  if (p.subject.empty() || p.subject.size() > 255)
    return fail(provider_unavailable("verify_url answer has no id (a string or an integer of at most 255 characters)"));
  p.login = text("login");
  p.email = text("email");
  auto* verified = field("email_verified");
  p.email_verified = verified && *verified == true;
  p.full_name = text("full_name");
  p.phone = text("phone");
  return p;
}

}  // namespace tessera::external
