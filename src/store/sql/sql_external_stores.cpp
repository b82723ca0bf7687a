#include "store/sql/sql_external_stores.hpp"

#include <boost/json.hpp>

namespace tessera::store::sql {

using external::Identity;
using external::LoginCode;
using external::OAuthFlow;
using external::Provider;

namespace {

// The columns provider_from() reads, in its order.
#define PROVIDER_COLUMNS \
  "id, project_id, name, kind, preset, enabled, settings, sealed_secret, client_secret_env, created_at, updated_at "

Provider provider_from(const Statement& st) {
  Provider p;
  p.id = st.text(0);
  p.project_id = st.text(1);
  p.name = st.text(2);
  p.kind = external::kind_from(st.text(3)).value_or(external::ProviderKind::oidc);
  p.preset = st.optional_text(4);
  p.enabled = st.boolean(5);
  p.settings = external::settings_from_json(boost::json::parse(st.text(6)).as_object());
  if (!st.is_null(7)) p.sealed_secret = st.blob(7);
  p.client_secret_env = st.optional_text(8);
  p.created_at = st.time(9);
  p.updated_at = st.time(10);
  return p;
}

Identity identity_from(const Statement& st) {
  return Identity{st.text(0), st.text(1), st.text(2), st.text(3), st.optional_text(4), st.time(5)};
}

void drain(Statement& st) {
  while (st.step()) {
  }
}

}  // namespace

bool SqlProviderStore::insert(const Provider& p) {
  auto st = conn_.prepare(
      "INSERT INTO providers (id, project_id, name, kind, preset, enabled, settings, sealed_secret, client_secret_env, "
      "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  st.bind(1, p.id).bind(2, p.project_id).bind(3, p.name).bind(4, external::kind_name(p.kind)).bind(5, p.preset);
  st.bind(6, p.enabled).bind(7, boost::json::serialize(external::settings_json(p.settings)));
  if (p.sealed_secret) st.bind_blob(8, *p.sealed_secret);
  else st.bind_null(8);
  st.bind(9, p.client_secret_env).bind(10, p.created_at).bind(11, p.updated_at);
  return !st.run_unique().has_value();
}

std::optional<Provider> SqlProviderStore::find(std::string_view project_id, std::string_view name) {
  auto st = conn_.prepare("SELECT " PROVIDER_COLUMNS "FROM providers WHERE project_id = ?1 AND name = ?2");
  st.bind(1, project_id).bind(2, name);
  if (!st.step()) return std::nullopt;
  return provider_from(st);
}

std::vector<Provider> SqlProviderStore::list(std::string_view project_id) {
  auto st = conn_.prepare("SELECT " PROVIDER_COLUMNS "FROM providers WHERE project_id = ?1 ORDER BY name");
  st.bind(1, project_id);
  std::vector<Provider> out;
  while (st.step()) out.push_back(provider_from(st));
  return out;
}

void SqlProviderStore::update(const Provider& p) {
  auto st = conn_.prepare(
      "UPDATE providers SET kind = ?2, preset = ?3, enabled = ?4, settings = ?5, sealed_secret = ?6, "
      "client_secret_env = ?7, updated_at = ?8 WHERE id = ?1");
  st.bind(1, p.id).bind(2, external::kind_name(p.kind)).bind(3, p.preset).bind(4, p.enabled);
  st.bind(5, boost::json::serialize(external::settings_json(p.settings)));
  if (p.sealed_secret) st.bind_blob(6, *p.sealed_secret);
  else st.bind_null(6);
  st.bind(7, p.client_secret_env).bind(8, p.updated_at).run();
}

bool SqlProviderStore::remove(std::string_view project_id, std::string_view name) {
  conn_.prepare("DELETE FROM providers WHERE project_id = ?1 AND name = ?2").bind(1, project_id).bind(2, name).run();
  return conn_.changes() > 0;
}

std::optional<Identity> SqlIdentityStore::find(std::string_view project_id, std::string_view provider,
                                                  std::string_view subject) {
  auto st = conn_.prepare(
      "SELECT project_id, provider, subject, user_id, email, created_at FROM identities "
      "WHERE project_id = ?1 AND provider = ?2 AND subject = ?3");
  st.bind(1, project_id).bind(2, provider).bind(3, subject);
  if (!st.step()) return std::nullopt;
  return identity_from(st);
}

std::vector<Identity> SqlIdentityStore::list_for_user(std::string_view user_id) {
  auto st = conn_.prepare(
      "SELECT project_id, provider, subject, user_id, email, created_at FROM identities WHERE user_id = ?1 "
      "ORDER BY created_at, provider");
  st.bind(1, user_id);
  std::vector<Identity> out;
  while (st.step()) out.push_back(identity_from(st));
  return out;
}

bool SqlIdentityStore::insert(const Identity& i) {
  auto st = conn_.prepare(
      "INSERT INTO identities (project_id, provider, subject, user_id, email, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  st.bind(1, i.project_id).bind(2, i.provider).bind(3, i.subject).bind(4, i.user_id).bind(5, i.email).bind(6, i.created_at);
  return !st.run_unique().has_value();
}

bool SqlIdentityStore::remove(std::string_view user_id, std::string_view provider) {
  conn_.prepare("DELETE FROM identities WHERE user_id = ?1 AND provider = ?2").bind(1, user_id).bind(2, provider).run();
  return conn_.changes() > 0;
}

std::vector<std::string> SqlIdentityStore::remove_for_provider(std::string_view project_id, std::string_view provider) {
  auto st = conn_.prepare("DELETE FROM identities WHERE project_id = ?1 AND provider = ?2 RETURNING user_id");
  st.bind(1, project_id).bind(2, provider);
  std::vector<std::string> users;
  while (st.step()) users.push_back(st.text(0));
  return users;
}

void SqlFlowStore::insert_flow(std::string_view state_hash, const OAuthFlow& f) {
  auto st = conn_.prepare(
      "INSERT INTO oauth_flows (state_hash, project_id, provider, action, redirect_to, code_challenge, expires_at, "
      "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  st.bind_blob(1, state_hash).bind(2, f.project_id).bind(3, f.provider);
  st.bind(4, std::string_view(f.action == external::FlowAction::signin ? "signin" : "signup"));
  st.bind(5, f.redirect_to).bind(6, f.code_challenge).bind(7, f.expires_at).bind(8, f.created_at).run();
}

std::optional<OAuthFlow> SqlFlowStore::consume_flow(std::string_view state_hash) {
  auto st = conn_.prepare(
      "DELETE FROM oauth_flows WHERE state_hash = ?1 "
      "RETURNING project_id, provider, action, redirect_to, code_challenge, expires_at, created_at");
  st.bind_blob(1, state_hash);
  if (!st.step()) return std::nullopt;
  OAuthFlow f{st.text(0),          st.text(1),          st.text(2) == "signin" ? external::FlowAction::signin : external::FlowAction::signup,
              st.optional_text(3), st.optional_text(4), st.time(5), st.time(6)};
  drain(st);
  return f;
}

void SqlFlowStore::insert_code(std::string_view code_hash, const LoginCode& c) {
  auto st = conn_.prepare(
      "INSERT INTO login_codes (code_hash, project_id, user_id, user_created, provider, code_challenge, expires_at, "
      "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  st.bind_blob(1, code_hash).bind(2, c.project_id).bind(3, c.user_id).bind(4, c.user_created).bind(5, c.provider);
  st.bind(6, c.code_challenge).bind(7, c.expires_at).bind(8, c.created_at).run();
}

std::optional<LoginCode> SqlFlowStore::consume_code(std::string_view code_hash) {
  auto st = conn_.prepare(
      "DELETE FROM login_codes WHERE code_hash = ?1 "
      "RETURNING project_id, user_id, user_created, provider, code_challenge, expires_at, created_at");
  st.bind_blob(1, code_hash);
  if (!st.step()) return std::nullopt;
  LoginCode c{st.text(0), st.text(1), st.boolean(2), st.text(3), st.optional_text(4), st.time(5), st.time(6)};
  drain(st);
  return c;
}

uint64_t SqlFlowStore::remove_expired(Timestamp now) {
  conn_.prepare("DELETE FROM oauth_flows WHERE expires_at <= ?1").bind(1, now).run();
  uint64_t removed = static_cast<uint64_t>(conn_.changes());
  conn_.prepare("DELETE FROM login_codes WHERE expires_at <= ?1").bind(1, now).run();
  return removed + static_cast<uint64_t>(conn_.changes());
}

}  // namespace tessera::store::sql
