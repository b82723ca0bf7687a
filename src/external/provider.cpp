#include "external/provider.hpp"

#include <boost/json.hpp>

namespace tessera::external {

namespace {
// Each optional text field with its JSON name, in the order the API shows them.
template <class Settings, class Visit>
void each_text_field(Settings& s, Visit visit) {
  visit("issuer", s.issuer);
  visit("tenant", s.tenant);
  visit("client_id", s.client_id);
  visit("redirect_uri", s.redirect_uri);
  visit("authorization_endpoint", s.authorization_endpoint);
  visit("token_endpoint", s.token_endpoint);
  visit("api_url", s.api_url);
  visit("jwks_uri", s.jwks_uri);
  visit("audience", s.audience);
  visit("url", s.url);
  visit("response_mode", s.response_mode);
}
}  // namespace

std::string_view kind_name(ProviderKind kind) {
  switch (kind) {
    case ProviderKind::oidc: return "oidc";
    case ProviderKind::github: return "github";
    case ProviderKind::jwt: return "jwt";
    case ProviderKind::verify_url: return "verify_url";
  }
  return "oidc";
}

std::optional<ProviderKind> kind_from(std::string_view name) {
  for (auto kind : {ProviderKind::oidc, ProviderKind::github, ProviderKind::jwt, ProviderKind::verify_url})
    if (kind_name(kind) == name) return kind;
  return std::nullopt;
}

boost::json::object settings_json(const ProviderSettings& settings) {
  boost::json::object out;
  each_text_field(settings, [&](const char* name, const std::optional<std::string>& value) {
    if (value) out[name] = *value;
  });
  if (!settings.scopes.empty()) {
    boost::json::array scopes;
    for (auto& s : settings.scopes) scopes.emplace_back(s);
    out["scopes"] = std::move(scopes);
  }
  if (settings.mapping) out["mapping"] = *settings.mapping;
  return out;
}

ProviderSettings settings_from_json(const boost::json::object& json) {
  ProviderSettings settings;
  each_text_field(settings, [&](const char* name, std::optional<std::string>& value) {
    if (auto* v = json.if_contains(name); v && v->is_string()) value = std::string(v->as_string());
  });
  if (auto* v = json.if_contains("scopes"); v && v->is_array())
    for (auto& s : v->as_array())
      if (s.is_string()) settings.scopes.emplace_back(s.as_string());
  if (auto* v = json.if_contains("mapping"); v && v->is_object()) settings.mapping = v->as_object();
  return settings;
}

}  // namespace tessera::external
