#include "external/provider_spec.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <set>

#include "core/http_client.hpp"

namespace tessera::external {

namespace {

struct Preset {
  std::string_view name;
  ProviderKind kind;
  std::string_view issuer;  // "{tenant}" / "{audience}" are filled in
  std::vector<std::string_view> scopes;
  std::string_view response_mode;
};

const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = {
      {"google", ProviderKind::oidc, "https://accounts.google.com", {}, ""},
      {"microsoft", ProviderKind::oidc, "https://login.microsoftonline.com/{tenant}/v2.0", {}, ""},
      {"apple", ProviderKind::oidc, "https://appleid.apple.com", {"openid", "email", "name"}, "form_post"},
      {"facebook", ProviderKind::oidc, "https://www.facebook.com", {"openid", "email", "public_profile"}, ""},
      {"github", ProviderKind::github, "", {}, ""},
      {"firebase", ProviderKind::jwt, "https://securetoken.google.com/{audience}", {}, ""},
  };
  return all;
}

const Preset* find_preset(std::string_view name) {
  for (auto& p : presets())
    if (p.name == name) return &p;
  return nullptr;
}

constexpr std::string_view kGithubAuthorize = "https://github.com/login/oauth/authorize";
constexpr std::string_view kGithubToken = "https://github.com/login/oauth/access_token";
constexpr std::string_view kGithubApi = "https://api.github.com";
constexpr std::string_view kFirebaseJwks =
    "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com";

const std::set<std::string_view> kMappable = {"id", "login", "email", "email_verified", "full_name", "phone"};

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(std::islower(static_cast<unsigned char>(s[0])) || std::isdigit(static_cast<unsigned char>(s[0]))))
    return false;
  return std::ranges::all_of(s, [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; });
}

bool valid_env_name(std::string_view s) {
  return !s.empty() && s.size() <= 128 && !std::isdigit(static_cast<unsigned char>(s[0])) &&
         std::ranges::all_of(s, [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
}

bool valid_scope(std::string_view s) {
  return !s.empty() && s.size() <= 128 &&
         std::ranges::all_of(s, [](char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '\\'; });
}

// Reads the fields of one object, collecting type errors, and remembers which fields were read.
class Reader {
 public:
  explicit Reader(const boost::json::object& o) : o_(o) {}

  std::optional<std::string> text(std::string_view name, size_t max = 2048) {
    const auto* v = get(name);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) return type(name, "must be a string"), std::nullopt;
    std::string s(v->as_string());
    if (s.empty() || s.size() > max) return errors.push_back({std::string(name), "length", "must be 1 to " + std::to_string(max) + " characters"}), std::nullopt;
    return s;
  }
  std::optional<bool> boolean(std::string_view name) {
    const auto* v = get(name);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_bool()) return type(name, "must be true or false"), std::nullopt;
    return v->as_bool();
  }
  std::optional<std::vector<std::string>> strings(std::string_view name) {
    const auto* v = get(name);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_array()) return type(name, "must be an array of strings"), std::nullopt;
    std::vector<std::string> out;
    for (auto& item : v->as_array()) {
      if (!item.is_string()) return type(name, "must be an array of strings"), std::nullopt;
      out.emplace_back(item.as_string());
    }
    return out;
  }
  std::optional<boost::json::object> object(std::string_view name) {
    const auto* v = get(name);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_object()) return type(name, "must be an object"), std::nullopt;
    return v->as_object();
  }
  void skip(std::string_view name) { known_.insert(std::string(name)); }
  std::optional<std::string> unknown() const {
    for (auto& [k, v] : o_)
      if (!known_.contains(std::string(k))) return std::string(k);
    return std::nullopt;
  }

  std::vector<FieldError> errors;

 private:
  const boost::json::value* get(std::string_view name) {
    known_.insert(std::string(name));
    return o_.if_contains(name);
  }
  void type(std::string_view name, const char* detail) { errors.push_back({std::string(name), "type", detail}); }

  const boost::json::object& o_;
  std::set<std::string, std::less<>> known_;
};

void check_url(const char* field, const std::optional<std::string>& url, const SpecRules& rules, std::vector<FieldError>& errors) {
  if (!url) return;
  if (auto problem = http_url_problem(*url)) return errors.push_back({field, "invalid_url", *problem});
  if (!rules.allow_private && !url->starts_with("https://"))
    errors.push_back({field, "https_required", "must be an https URL"});
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

}  // namespace

bool field_applies(ProviderKind kind, std::string_view field) {
  static const std::set<std::string_view> oidc = {"issuer", "tenant", "client_id", "client_secret", "client_secret_env",
                                                  "client_secret_file", "scopes", "redirect_uri"};
  static const std::set<std::string_view> github = {"client_id", "client_secret", "client_secret_env", "client_secret_file",
                                                    "scopes", "redirect_uri", "authorization_endpoint", "token_endpoint", "api_url"};
  static const std::set<std::string_view> jwt = {"issuer", "jwks_uri", "audience"};
  static const std::set<std::string_view> verify = {"url", "client_secret", "client_secret_env", "client_secret_file", "mapping"};
  switch (kind) {
    case ProviderKind::oidc: return oidc.contains(field);
    case ProviderKind::github: return github.contains(field);
    case ProviderKind::jwt: return jwt.contains(field);
    case ProviderKind::verify_url: return verify.contains(field);
  }
  return false;
}

Result<ProviderSpec> parse_provider_spec(const boost::json::object& fields, const SpecRules& rules, bool has_sealed_secret) {
  Reader in(fields);
  ProviderSpec spec;
  Provider& p = spec.provider;
  ProviderSettings& s = p.settings;
  auto& errors = in.errors;

  auto name = in.text("name", 64);
  auto kind = in.text("kind", 32);
  auto preset = in.text("preset", 32);
  p.enabled = in.boolean("enabled").value_or(true);
  s.issuer = in.text("issuer");
  s.tenant = in.text("tenant", 128);
  s.client_id = in.text("client_id", 512);
  spec.client_secret = in.text("client_secret", 4096);
  p.client_secret_env = in.text("client_secret_env", 128);
  auto scopes = in.strings("scopes");
  s.redirect_uri = in.text("redirect_uri");
  s.authorization_endpoint = in.text("authorization_endpoint");
  s.token_endpoint = in.text("token_endpoint");
  s.api_url = in.text("api_url");
  s.jwks_uri = in.text("jwks_uri");
  s.audience = in.text("audience", 512);
  s.url = in.text("url");
  s.mapping = in.object("mapping");
  if (rules.from_config) {
    in.skip("project");
    p.client_secret_file = in.text("client_secret_file", 4096);
  }
  if (auto field = in.unknown()) {
    Error e = Error::bad_request("unknown_field", "Unknown field \"" + *field + "\".");
    e.fields.push_back({*field, "unknown_field", "is not a field of a provider"});
    return fail(e);
  }
  if (rules.from_config && spec.client_secret)
    errors.push_back({"client_secret", "secret_in_file", "is a secret: use client_secret_env or client_secret_file"});

  auto absent = [&](const char* field) { return !fields.contains(field) || fields.at(field).is_null(); };
  if (absent("name")) errors.push_back({"name", "required", "is required"});
  else if (name && !valid_name(*name))
    errors.push_back({"name", "format", "must be 1 to 64 of a-z, 0-9, '-' and '_', starting with a letter or digit"});
  if (name) p.name = *name;

  const Preset* chosen = nullptr;
  if (preset) {
    chosen = find_preset(*preset);
    if (!chosen) errors.push_back({"preset", "invalid", "must be google, microsoft, apple, facebook, github or firebase"});
    else p.preset = *preset;
  }
  std::optional<ProviderKind> parsed_kind = kind ? kind_from(*kind) : std::nullopt;
  if (kind && !parsed_kind) errors.push_back({"kind", "invalid", "must be oidc, github, jwt or verify_url"});
  if (chosen && parsed_kind && *parsed_kind != chosen->kind)
    errors.push_back({"kind", "preset_mismatch", "the " + std::string(chosen->name) + " preset is of kind " + std::string(kind_name(chosen->kind))});
  if (!kind && !chosen && !preset) errors.push_back({"kind", "required", "give a kind or a preset"});
  if (!errors.empty() && !parsed_kind && !chosen) return fail(Error::validation(std::move(errors)));
  p.kind = chosen ? chosen->kind : parsed_kind.value_or(ProviderKind::oidc);

  for (auto field : {"issuer", "tenant", "client_id", "client_secret", "client_secret_env", "client_secret_file", "scopes",
                     "redirect_uri", "authorization_endpoint", "token_endpoint", "api_url", "jwks_uri", "audience", "url", "mapping"})
    if (fields.contains(field) && !fields.at(field).is_null() && !field_applies(p.kind, field))
      errors.push_back({field, "not_for_kind", "does not apply to a provider of kind " + std::string(kind_name(p.kind))});
  if (s.tenant && (!chosen || chosen->name != "microsoft"))
    errors.push_back({"tenant", "not_for_kind", "applies to the microsoft preset only"});

  // Presets fill in what the provider fixes.
  if (chosen) {
    std::string issuer(chosen->issuer);
    if (chosen->name == "microsoft") {
      if (!s.tenant) s.tenant = "common";
      replace_all(issuer, "{tenant}", *s.tenant);
    }
    if (chosen->name == "firebase") {
      if (!s.audience) errors.push_back({"audience", "required", "is the Firebase project id"});
      replace_all(issuer, "{audience}", s.audience.value_or(""));
      if (!s.jwks_uri) s.jwks_uri = std::string(kFirebaseJwks);
    }
    if (!issuer.empty()) {
      if (s.issuer && *s.issuer != issuer) errors.push_back({"issuer", "preset_fixed", "is " + issuer + " for this preset"});
      s.issuer = issuer;
    }
    if (!scopes && !chosen->scopes.empty()) scopes = std::vector<std::string>(chosen->scopes.begin(), chosen->scopes.end());
    if (!chosen->response_mode.empty()) s.response_mode = std::string(chosen->response_mode);
    if (chosen->kind == ProviderKind::github) {
      if (!s.authorization_endpoint) s.authorization_endpoint = std::string(kGithubAuthorize);
      if (!s.token_endpoint) s.token_endpoint = std::string(kGithubToken);
      if (!s.api_url) s.api_url = std::string(kGithubApi);
    }
  }

  auto require = [&](const char* field, const std::optional<std::string>& value) {
    if (!value && absent(field)) errors.push_back({field, "required", "is required for kind " + std::string(kind_name(p.kind))});
  };
  switch (p.kind) {
    case ProviderKind::oidc:
      require("issuer", s.issuer);
      require("client_id", s.client_id);
      check_url("issuer", s.issuer, rules, errors);
      if (!scopes) scopes = std::vector<std::string>{"openid", "email", "profile"};
      if (std::ranges::find(*scopes, "openid") == scopes->end())
        errors.push_back({"scopes", "openid_required", "must contain openid"});
      break;
    case ProviderKind::github:
      require("client_id", s.client_id);
      if (!s.authorization_endpoint) s.authorization_endpoint = std::string(kGithubAuthorize);
      if (!s.token_endpoint) s.token_endpoint = std::string(kGithubToken);
      if (!s.api_url) s.api_url = std::string(kGithubApi);
      check_url("authorization_endpoint", s.authorization_endpoint, rules, errors);
      check_url("token_endpoint", s.token_endpoint, rules, errors);
      check_url("api_url", s.api_url, rules, errors);
      if (!scopes) scopes = std::vector<std::string>{"read:user", "user:email"};
      break;
    case ProviderKind::jwt:
      require("issuer", s.issuer);
      require("jwks_uri", s.jwks_uri);
      require("audience", s.audience);
      check_url("jwks_uri", s.jwks_uri, rules, errors);
      break;
    case ProviderKind::verify_url:
      require("url", s.url);
      check_url("url", s.url, rules, errors);
      break;
  }
  // The browser is sent there, Tessera never calls it: http is fine (a developer's machine).
  check_url("redirect_uri", s.redirect_uri, {.allow_private = true}, errors);
  if (scopes) {
    if (scopes->empty() || scopes->size() > 32 || !std::ranges::all_of(*scopes, valid_scope))
      errors.push_back({"scopes", "invalid", "must be 1 to 32 scope names without spaces or quotes"});
    s.scopes = *scopes;
  }
  if (s.mapping) {
    for (auto& [k, v] : *s.mapping)
      if (!kMappable.contains(k) || !v.is_string() || v.as_string().empty() || v.as_string().size() > 256)
        errors.push_back({"mapping." + std::string(k), "invalid",
                          "maps id, login, email, email_verified, full_name or phone to a dotted path of the answer"});
  }
  if (p.client_secret_env && !valid_env_name(*p.client_secret_env))
    errors.push_back({"client_secret_env", "format", "must be an environment variable name (A-Z, 0-9, _)"});
  int secret_sources = spec.client_secret.has_value() + p.client_secret_env.has_value() + p.client_secret_file.has_value();
  if (secret_sources > 1)
    errors.push_back({"client_secret", "conflict", "give one of client_secret, client_secret_env or client_secret_file"});
  if (secret_sources == 0 && !has_sealed_secret && uses_redirect_flow(p.kind))
    errors.push_back({"client_secret", "required", "give client_secret or client_secret_env (the token endpoint authenticates Tessera)"});
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  return spec;
}

Result<ProviderSpec> patch_provider_spec(const Provider& current, const boost::json::object& patch, const SpecRules& rules) {
  std::vector<FieldError> errors;
  boost::json::object merged = settings_json(current.settings);
  merged.erase("response_mode");  // set by a preset, not a field of the API
  merged["name"] = current.name;
  merged["kind"] = kind_name(current.kind);
  if (current.preset) merged["preset"] = *current.preset;
  merged["enabled"] = current.enabled;
  if (current.client_secret_env) merged["client_secret_env"] = *current.client_secret_env;
  for (auto field : {"name", "kind", "preset", "issuer", "tenant"}) {
    auto* v = patch.if_contains(field);
    if (!v) continue;
    auto* before = merged.if_contains(field);
    bool same = before ? *before == *v : v->is_null();
    if (!same) errors.push_back({field, "immutable", "cannot change; create a new provider instead"});
  }
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  bool clear_secret = false;
  for (auto& [k, v] : patch) {
    if (k == "client_secret" && v.is_null()) clear_secret = true;
    if ((k == "client_secret" && !v.is_null()) || (k == "client_secret_env" && !v.is_null())) {
      merged.erase("client_secret_env");
      clear_secret = true;  // a new source replaces the sealed secret
    }
    if (v.is_null()) merged.erase(k);
    else merged[k] = v;
  }
  auto spec = parse_provider_spec(merged, rules, current.sealed_secret && !clear_secret);
  if (!spec) return spec;
  Provider& p = spec->provider;
  if (!clear_secret && !spec->client_secret && !p.client_secret_env) p.sealed_secret = current.sealed_secret;
  spec->clear_secret = clear_secret;
  if (p.sealed_secret && p.client_secret_env) p.sealed_secret.reset();
  p.id = current.id;
  p.project_id = current.project_id;
  p.created_at = current.created_at;
  return spec;
}

}  // namespace tessera::external
