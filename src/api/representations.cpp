#include "api/representations.hpp"

#include "api/caller.hpp"
#include "crypto/token.hpp"
#include "events/mail_templates.hpp"
#include "external/provider_spec.hpp"
#include "licenses/license_service.hpp"

#include <boost/json/value_from.hpp>

namespace tessera::api {

namespace {
boost::json::value optional_string(const std::optional<std::string>& v) {
  return v ? boost::json::value(*v) : boost::json::value(nullptr);
}

std::string cookie(std::string_view name, std::string_view value, int64_t max_age_seconds, bool http_only, bool secure) {
  std::string c = std::string(name) + "=" + std::string(value) + "; Path=/; Max-Age=" + std::to_string(max_age_seconds) +
                  "; SameSite=Lax";
  if (http_only) c += "; HttpOnly";
  if (secure) c += "; Secure";
  return c;
}
}  // namespace

boost::json::object user_json(const identity::User& u) { return identity::to_json(u); }

boost::json::object session_json(const session::Session& s, bool current) {
  return {
      {"id", s.id},
      {"created_at", format_rfc3339(s.created_at)},
      {"expires_at", format_rfc3339(s.expires_at)},
      {"idle_expires_at", format_rfc3339(s.idle_expires_at)},
      {"last_used_at", format_rfc3339(s.last_used_at)},
      {"ip", s.ip},
      {"user_agent", s.user_agent},
      {"current", current},
  };
}

boost::json::object issued_session_json(const session::IssuedSession& issued) {
  const auto& s = issued.session;
  return {
      {"id", s.id},
      {"token", issued.token},
      {"expires_at", format_rfc3339(s.expires_at)},
      {"idle_expires_at", format_rfc3339(s.idle_expires_at)},
      {"csrf_token", crypto::csrf_token_for(issued.token)},
  };
}

http::Response signed_in_response(http::beast_http::status status, const identity::User& user,
                                  const session::IssuedSession& issued, bool secure_cookies) {
  auto res = http::json_response(status, boost::json::object{{"user", user_json(user)},
                                                             {"session", issued_session_json(issued)}});
  int64_t max_age = std::chrono::duration_cast<std::chrono::seconds>(issued.session.expires_at - issued.session.created_at).count();
  res.insert(http::beast_http::field::set_cookie, cookie(kSessionCookie, issued.token, max_age, true, secure_cookies));
  res.insert(http::beast_http::field::set_cookie,
             cookie(kCsrfCookie, crypto::csrf_token_for(issued.token), max_age, false, secure_cookies));
  return res;
}

boost::json::array permissions_json(const access::PermissionSet& permissions) {
  boost::json::array out;
  for (const auto& p : permissions.list()) out.emplace_back(p);
  return out;
}

boost::json::value optional_time_json(const std::optional<Timestamp>& t) {
  return t ? boost::json::value(format_rfc3339(*t)) : boost::json::value(nullptr);
}

boost::json::object api_key_json(const session::ApiKey& k) {
  return {{"id", k.id},
          {"project_id", k.project_id},
          {"name", k.name},
          {"permissions", permissions_json(k.permissions)},
          {"expires_at", optional_time_json(k.expires_at)},
          {"created_at", format_rfc3339(k.created_at)}};
}

boost::json::object personal_token_json(const session::PersonalToken& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"permissions", permissions_json(t.permissions)},
          {"expires_at", format_rfc3339(t.expires_at)},
          {"created_at", format_rfc3339(t.created_at)}};
}

boost::json::object role_json(const access::Role& r) {
  return {{"id", r.id},
          {"name", r.name},
          {"description", r.description},
          {"permissions", permissions_json(r.permissions)},
          {"created_at", format_rfc3339(r.created_at)},
          {"updated_at", format_rfc3339(r.updated_at)}};
}

void clear_session_cookies(http::Response& res, bool secure_cookies) {
  res.insert(http::beast_http::field::set_cookie, cookie(kSessionCookie, "", 0, true, secure_cookies));
  res.insert(http::beast_http::field::set_cookie, cookie(kCsrfCookie, "", 0, false, secure_cookies));
}


boost::json::object webhook_json(const events::Webhook& w) {
  boost::json::array types;
  for (auto& e : w.events) types.emplace_back(e);
  return {{"id", w.id},
          {"url", w.url},
          {"events", std::move(types)},
          {"description", w.description},
          {"active", w.active},
          {"created_at", format_rfc3339(w.created_at)},
          {"updated_at", format_rfc3339(w.updated_at)}};
}

boost::json::object delivery_json(const events::Delivery& d) {
  return {{"id", d.id},
          {"event_id", d.event_id},
          {"event_type", d.event_type},
          {"status", events::to_string(d.status)},
          {"attempts", d.attempts},
          {"response_status", d.response_status ? boost::json::value(*d.response_status) : boost::json::value(nullptr)},
          {"last_error", optional_string(d.last_error)},
          {"next_attempt_at", d.status == events::DeliveryStatus::pending ? boost::json::value(format_rfc3339(d.next_attempt_at))
                                                                         : boost::json::value(nullptr)},
          {"created_at", format_rfc3339(d.created_at)},
          {"delivered_at", optional_time_json(d.delivered_at)}};
}

boost::json::object project_json(const projects::Project& p) {
  boost::json::object templates;
  for (auto name : events::mail_template_names()) {
    auto t = events::mail_template_for(p, name);
    templates[name] = {{"subject", t.subject}, {"text", t.text}, {"html", t.html}, {"custom", p.mail_templates.contains(std::string(name))}};
  }
  return {{"id", p.id},
          {"alias", p.alias},
          {"name", p.name},
          {"public_url", optional_string(p.public_url)},
          {"mail_from", optional_string(p.mail_from)},
          {"mail_templates", std::move(templates)},
          {"redirect_allow_list", boost::json::value_from(p.redirect_allow_list)},
          {"link_by_email", p.link_by_email},
          {"created_at", format_rfc3339(p.created_at)}};
}

boost::json::object provider_json(const external::Provider& p) {
  boost::json::object out{{"name", p.name},
                          {"kind", external::kind_name(p.kind)},
                          {"preset", optional_string(p.preset)},
                          {"enabled", p.enabled},
                          {"source", p.from_config ? "config" : "api"}};
  if (p.kind != external::ProviderKind::jwt) {
    out["has_client_secret"] = p.has_client_secret();
    out["client_secret_env"] = optional_string(p.client_secret_env);
  }
  // Every field of the kind, null when unset, so clients see the whole shape.
  auto settings = external::settings_json(p.settings);
  for (std::string_view field : {"issuer", "tenant", "client_id", "scopes", "redirect_uri", "authorization_endpoint",
                                 "token_endpoint", "api_url", "jwks_uri", "audience", "url", "mapping"}) {
    if (field == "tenant" && p.preset != "microsoft") continue;
    if (!external::field_applies(p.kind, field)) continue;
    auto* v = settings.if_contains(field);
    out[field] = v ? *v : boost::json::value(nullptr);
  }
  out["created_at"] = format_rfc3339(p.created_at);
  out["updated_at"] = format_rfc3339(p.updated_at);
  return out;
}

boost::json::object identity_json(const external::Identity& i) {
  return {{"provider", i.provider}, {"subject", i.subject}, {"email", optional_string(i.email)}, {"created_at", format_rfc3339(i.created_at)}};
}

boost::json::object license_json(const licenses::License& l) {
  auto out = licenses::to_json(l);
  out["key"] = l.key;
  return out;
}

boost::json::object activation_json(const licenses::Activation& a) {
  return {{"id", a.id},
          {"fingerprint", a.fingerprint},
          {"hostname", optional_string(a.hostname)},
          {"created_at", format_rfc3339(a.created_at)},
          {"last_activated_at", format_rfc3339(a.last_activated_at)}};
}

boost::json::object context_json(const contexts::Context& c) {
  return {{"id", c.id},
          {"project_id", c.project_id},
          {"name", c.name},
          {"description", c.description},
          {"members", c.members},
          {"created_at", format_rfc3339(c.created_at)},
          {"updated_at", format_rfc3339(c.updated_at)}};
}

boost::json::object member_json(const contexts::Member& m) {
  return {{"user_id", m.user_id},
          {"public_key", m.public_key},
          {"key_type", m.key_type},
          {"added_at", format_rfc3339(m.added_at)},
          {"updated_at", format_rfc3339(m.updated_at)}};
}

}  // namespace tessera::api
