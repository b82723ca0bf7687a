#include "external/oauth_flow.hpp"

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url.hpp>

#include "crypto/random.hpp"
#include "crypto/token.hpp"
#include "external/id_token.hpp"
#include "store/store.hpp"

namespace tessera::external {

namespace {

std::string form_encode(std::string_view s) { return boost::urls::encode(s, boost::urls::unreserved_chars); }

std::optional<std::string> text(const boost::json::object& o, std::string_view name) {
  auto* v = o.if_contains(name);
  if (!v || !v->is_string() || v->as_string().empty()) return std::nullopt;
  return std::string(v->as_string());
}

Error invalid_state() {
  return Error::bad_request("invalid_state", "The sign-in could not be matched to one in progress (unknown, used or expired state); start again.");
}

bool multi_tenant(const Provider& p) {
  return p.preset == "microsoft" && p.settings.tenant &&
         (*p.settings.tenant == "common" || *p.settings.tenant == "organizations" || *p.settings.tenant == "consumers");
}

}  // namespace

OAuthFlows::OAuthFlows(store::Store& store, const Clock& clock, const crypto::ServerKey& key, ProviderClient& client,
                       const ProviderService& providers, FlowSettings settings)
    : store_(store), clock_(clock), key_(key), client_(client), providers_(providers), settings_(std::move(settings)) {}

std::string OAuthFlows::pkce_verifier(const std::string& state) const {
  return crypto::base64url_encode(key_.derive("tessera.oauth.pkce.v1", state));
}

std::string OAuthFlows::nonce_for(const std::string& state) const {
  return crypto::base64url_encode(key_.derive("tessera.oauth.nonce.v1", state));
}

std::string OAuthFlows::redirect_uri(const Provider& provider) const {
  if (provider.settings.redirect_uri) return *provider.settings.redirect_uri;
  if (settings_.server_public_url.empty()) return "";
  std::string base = settings_.server_public_url;
  if (base.ends_with('/')) base.pop_back();
  return base + "/v1/auth/oauth/" + provider.name + "/callback";
}

Result<std::string> OAuthFlows::start(const projects::Project& project, const Provider& provider, const FlowStart& start) {
  if (!uses_redirect_flow(provider.kind)) return fail(provider_not_found(provider.name));
  std::string callback = redirect_uri(provider);
  if (callback.empty())
    return fail(Error::conflict("provider_misconfigured",
                                "Set the server's public_url or the provider's redirect_uri, so the provider knows where to send users back."));
  std::string endpoint;
  if (provider.kind == ProviderKind::oidc) {
    auto metadata = client_.metadata(*provider.settings.issuer);
    if (!metadata) return fail(metadata.error());
    endpoint = metadata->authorization_endpoint;
  } else {
    endpoint = *provider.settings.authorization_endpoint;
  }
  auto url = boost::urls::parse_uri(endpoint);
  if (!url) return fail(provider_unavailable("authorization_endpoint is not a URL: " + endpoint));

  std::string state = crypto::base64url_encode(crypto::random_bytes(32));
  Timestamp now = clock_.now();
  OAuthFlow flow{project.id, provider.name, start.action, start.redirect_to, start.code_challenge, now + settings_.flow_ttl, now};
  store_.write([&](store::Repositories& r) { r.flows.insert_flow(crypto::token_hash(state), flow); });

  std::string scope;
  for (auto& s : provider.settings.scopes) scope += (scope.empty() ? "" : " ") + s;
  boost::urls::url target(*url);
  auto params = target.params();
  params.append({"response_type", "code"});
  params.append({"client_id", *provider.settings.client_id});
  params.append({"redirect_uri", callback});
  params.append({"scope", scope});
  params.append({"state", state});
  params.append({"code_challenge", crypto::pkce_s256(pkce_verifier(state))});
  params.append({"code_challenge_method", "S256"});
  if (provider.kind == ProviderKind::oidc)
    params.append({"nonce", nonce_for(state)});
  if (provider.settings.response_mode) params.append({"response_mode", *provider.settings.response_mode});
  return std::string(target.buffer());
}

Result<OAuthFlow> OAuthFlows::take(const std::string& provider, const std::string& state) {
  if (state.empty() || state.size() > 512) return fail(invalid_state());
  auto flow = store_.write([&](store::Repositories& r) { return r.flows.consume_flow(crypto::token_hash(state)); });
  if (!flow || flow->provider != provider || flow->expires_at <= clock_.now()) return fail(invalid_state());
  return *flow;
}

Result<ExternalProfile> OAuthFlows::complete(const Provider& provider, const std::string& state, const std::string& code) {
  if (code.empty() || code.size() > 4096) return fail(invalid_external_token("no authorization code"));
  if (provider.kind == ProviderKind::github) {
    auto tokens = exchange_code(provider, *provider.settings.token_endpoint, true, state, code);
    if (!tokens) return fail(tokens.error());
    return github_profile(provider, *tokens);
  }
  auto metadata = client_.metadata(*provider.settings.issuer);
  if (!metadata) return fail(metadata.error());
  auto tokens = exchange_code(provider, metadata->token_endpoint, metadata->client_secret_post_only, state, code);
  if (!tokens) return fail(tokens.error());
  return oidc_profile(provider, *metadata, *tokens, state);
}

Result<boost::json::object> OAuthFlows::exchange_code(const Provider& provider, const std::string& token_endpoint,
                                                      bool secret_in_body, const std::string& state, const std::string& code) {
  auto secret = providers_.client_secret(provider);
  if (!secret) return fail(secret.error());
  const std::string& client_id = *provider.settings.client_id;
  std::string form = "grant_type=authorization_code&code=" + form_encode(code) +
                     "&redirect_uri=" + form_encode(redirect_uri(provider)) + "&code_verifier=" + pkce_verifier(state) +
                     "&client_id=" + form_encode(client_id);
  HttpRequest request{"POST", token_endpoint, "", {{"Content-Type", "application/x-www-form-urlencoded"}}};
  if (*secret && secret_in_body) form += "&client_secret=" + form_encode(**secret);
  else if (*secret) request.headers.emplace_back("Authorization", "Basic " + crypto::base64_encode(form_encode(client_id) + ":" + form_encode(**secret)));
  request.body = std::move(form);
  auto answer = client_.call(request, "token endpoint");
  if (!answer) return fail(answer.error());
  const auto* body = answer->body.if_object();
  if (answer->status >= 400 && answer->status < 500) {
    std::string error = body ? text(*body, "error").value_or("") : "";
    return fail(invalid_external_token("token endpoint refused the code: HTTP " + std::to_string(answer->status) + " " + error));
  }
  if (answer->status != 200 || !body || !text(*body, "access_token")) {
    // GitHub answers 200 {"error": "bad_verification_code"} for a refused code.
    if (body && text(*body, "error")) return fail(invalid_external_token("token endpoint: " + *text(*body, "error")));
    return fail(provider_unavailable("token endpoint " + token_endpoint + ": no access_token in the answer"));
  }
  return *body;
}

Result<ExternalProfile> OAuthFlows::oidc_profile(const Provider& provider, const OidcMetadata& metadata,
                                                 const boost::json::object& tokens, const std::string& state) {
  auto id_token = text(tokens, "id_token");
  if (!id_token) return fail(invalid_external_token("the token endpoint returned no id_token"));
  auto keys = client_.keys_for(metadata.jwks_uri, *id_token);
  if (!keys) return fail(keys.error());
  auto claims = (*keys)->verify(*id_token);
  if (!claims) return fail(claims.error());
  IdTokenExpectations expected{*provider.settings.issuer,
                               *provider.settings.client_id,
                               nonce_for(state),
                               to_micros(clock_.now()) / 1000000,
                               settings_.clock_skew.count() / 1000000,
                               multi_tenant(provider)};
  if (auto ok = check_id_token(*claims, expected); !ok) return fail(ok.error());
  auto profile = profile_from_claims(*claims);
  if (!profile) return profile;
  auto access_token = text(tokens, "access_token");
  if (profile->email || !metadata.userinfo_endpoint || !access_token) return profile;
  // Providers may keep the email out of the ID token of a code flow; the user-info endpoint has it.
  auto answer = client_.call({"GET", *metadata.userinfo_endpoint, "", {{"Authorization", "Bearer " + *access_token}}}, "userinfo");
  if (!answer) return fail(answer.error());
  const auto* info = answer->body.if_object();
  if (answer->status != 200 || !info) return fail(provider_unavailable("userinfo: HTTP " + std::to_string(answer->status)));
  auto from_info = profile_from_claims(*info);
  if (!from_info || from_info->subject != profile->subject) return fail(invalid_external_token("userinfo sub differs from the ID token's"));
  profile->email = from_info->email;
  profile->email_verified = from_info->email_verified;
  if (!profile->full_name) profile->full_name = from_info->full_name;
  if (!profile->phone) profile->phone = from_info->phone;
  return profile;
}

Result<ExternalProfile> OAuthFlows::github_profile(const Provider& provider, const boost::json::object& tokens) {
  std::string api = *provider.settings.api_url;
  if (api.ends_with('/')) api.pop_back();
  std::vector<std::pair<std::string, std::string>> headers = {{"Authorization", "Bearer " + *text(tokens, "access_token")},
                                                              {"X-GitHub-Api-Version", "2022-11-28"}};
  auto user = client_.call({"GET", api + "/user", "", headers}, "github user");
  if (!user) return fail(user.error());
  const auto* u = user->body.if_object();
  if (user->status == 401) return fail(invalid_external_token("GitHub refused the access token"));
  if (user->status != 200 || !u) return fail(provider_unavailable("github user: HTTP " + std::to_string(user->status)));
  ExternalProfile profile;
  if (auto* id = u->if_contains("id"); id && (id->is_int64() || id->is_uint64())) profile.subject = boost::json::serialize(*id);
  else if (auto s = text(*u, "id")) profile.subject = *s;
  if (profile.subject.empty()) return fail(provider_unavailable("github user: no id"));
  profile.full_name = text(*u, "name");
  // Only a verified address may identify the person (the public one in /user is not checked by GitHub).
  auto emails = client_.call({"GET", api + "/user/emails", "", headers}, "github emails");
  if (!emails) return fail(emails.error());
  if (emails->status == 200 && emails->body.is_array()) {
    for (auto& e : emails->body.as_array()) {
      const auto* o = e.if_object();
      if (o && o->if_contains("primary") && o->at("primary") == true && o->if_contains("verified") && o->at("verified") == true) {
        profile.email = text(*o, "email");
        profile.email_verified = profile.email.has_value();
      }
    }
  }
  return profile;
}

}  // namespace tessera::external
