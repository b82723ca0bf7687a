#include "store/sql/sql_event_stores.hpp"

#include "crypto/random.hpp"
#include "store/sql/json_columns.hpp"

namespace tessera::store::sql {

using events::Delivery;
using events::DeliveryStatus;
using events::Webhook;

namespace {
#define WEBHOOK_COLUMNS "id, project_id, url, events, description, active, created_at, updated_at"
Webhook read_webhook(const Statement& s) {
  return Webhook{s.text(0), s.text(1), s.text(2), from_json_array(s.text(3)), s.text(4), s.boolean(5), s.time(6), s.time(7)};
}

#define DELIVERY_COLUMNS                                                                                          \
  "id, project_id, event_id, event_type, channel, webhook_id, payload, status, attempts, next_attempt_at, " \
  "response_status, last_error, created_at, delivered_at"
Delivery read_delivery(const Statement& s) {
  Delivery d;
  d.id = s.text(0);
  d.project_id = s.text(1);
  d.event_id = s.text(2);
  d.event_type = s.text(3);
  d.channel = events::channel_from(s.text(4)).value_or(events::Channel::task);
  d.webhook_id = s.optional_text(5);
  d.payload = s.text(6);
  d.status = events::delivery_status_from(s.text(7)).value_or(DeliveryStatus::failed);
  d.attempts = static_cast<int>(s.integer(8));
  d.next_attempt_at = s.time(9);
  if (!s.is_null(10)) d.response_status = static_cast<int>(s.integer(10));
  d.last_error = s.optional_text(11);
  d.created_at = s.time(12);
  d.delivered_at = s.optional_time(13);
  return d;
}

std::string_view purpose_name(identity::TokenPurpose p) {
  return p == identity::TokenPurpose::password_reset ? "password_reset" : "email_verification";
}
}  // namespace

void SqlWebhookStore::insert(const Webhook& w, std::string_view secret_salt) {
  auto st = conn_.prepare("INSERT INTO webhooks (" WEBHOOK_COLUMNS ", secret_salt) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  st.bind(1, w.id).bind(2, w.project_id).bind(3, w.url).bind(4, to_json_array(w.events)).bind(5, w.description);
  st.bind(6, w.active).bind(7, w.created_at).bind(8, w.updated_at).bind_blob(9, secret_salt).run();
}

std::optional<std::pair<Webhook, std::string>> SqlWebhookStore::find(std::string_view project_id, std::string_view id) {
  auto st = conn_.prepare("SELECT " WEBHOOK_COLUMNS ", secret_salt FROM webhooks WHERE id = ?1 AND project_id = ?2");
  st.bind(1, id).bind(2, project_id);
  if (!st.step()) return std::nullopt;
  return std::make_pair(read_webhook(st), st.blob(8));
}

std::vector<Webhook> SqlWebhookStore::list(std::string_view project_id, size_t limit,
                                              std::optional<std::string_view> after_id) {
  auto st = conn_.prepare("SELECT " WEBHOOK_COLUMNS
                          " FROM webhooks WHERE project_id = ?1 AND (id > ?2 OR ?2 IS NULL) ORDER BY id LIMIT ?3");
  st.bind(1, project_id);
  if (after_id) st.bind(2, *after_id);
  else st.bind_null(2);
  st.bind(3, static_cast<int64_t>(limit));
  std::vector<Webhook> out;
  while (st.step()) out.push_back(read_webhook(st));
  return out;
}

std::vector<Webhook> SqlWebhookStore::active(std::string_view project_id) {
  auto st = conn_.prepare("SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE project_id = ?1 AND active = TRUE ORDER BY id");
  st.bind(1, project_id);
  std::vector<Webhook> out;
  while (st.step()) out.push_back(read_webhook(st));
  return out;
}

bool SqlWebhookStore::update(const Webhook& w) {
  auto st = conn_.prepare(
      "UPDATE webhooks SET url = ?3, events = ?4, description = ?5, active = ?6, updated_at = ?7 "
      "WHERE id = ?1 AND project_id = ?2");
  st.bind(1, w.id).bind(2, w.project_id).bind(3, w.url).bind(4, to_json_array(w.events)).bind(5, w.description);
  st.bind(6, w.active).bind(7, w.updated_at).run();
  return conn_.changes() > 0;
}

void SqlWebhookStore::set_salt(std::string_view id, std::string_view secret_salt, Timestamp updated_at) {
  conn_.prepare("UPDATE webhooks SET secret_salt = ?2, updated_at = ?3 WHERE id = ?1")
      .bind(1, id)
      .bind_blob(2, secret_salt)
      .bind(3, updated_at)
      .run();
}

bool SqlWebhookStore::remove(std::string_view project_id, std::string_view id) {
  conn_.prepare("DELETE FROM webhooks WHERE id = ?1 AND project_id = ?2").bind(1, id).bind(2, project_id).run();
  return conn_.changes() > 0;
}

std::string SqlWebhookStore::secret_key() {
  conn_.prepare("INSERT INTO server_secrets (name, value) VALUES ('webhook_secret_key', ?1) ON CONFLICT DO NOTHING")
      .bind_blob(1, crypto::random_bytes(32))
      .run();
  auto st = conn_.prepare("SELECT value FROM server_secrets WHERE name = 'webhook_secret_key'");
  st.step();
  return st.blob(0);
}

void SqlOutboxStore::insert(const Delivery& d) {
  auto st = conn_.prepare("INSERT INTO outbox (" DELIVERY_COLUMNS
                          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL, NULL, ?11, NULL)");
  st.bind(1, d.id).bind(2, d.project_id).bind(3, d.event_id).bind(4, d.event_type).bind(5, events::to_string(d.channel));
  st.bind(6, d.webhook_id).bind(7, d.payload).bind(8, events::to_string(d.status)).bind(9, int64_t{d.attempts});
  st.bind(10, d.next_attempt_at).bind(11, d.created_at).run();
  inserted_ = true;
}

std::vector<Delivery> SqlOutboxStore::claim(Timestamp now, Timestamp lease_until, size_t limit,
                                            std::string_view holder) {
  auto st = conn_.prepare(
      "UPDATE outbox SET locked_until = ?2, locked_by = ?4, attempts = attempts + 1 WHERE id IN ("
      "  SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1"
      "  AND (locked_until IS NULL OR locked_until <= ?1) ORDER BY next_attempt_at LIMIT ?3) "
      "RETURNING " DELIVERY_COLUMNS);
  st.bind(1, now).bind(2, lease_until).bind(3, static_cast<int64_t>(limit)).bind(4, holder);
  std::vector<Delivery> out;
  while (st.step()) out.push_back(read_delivery(st));
  return out;
}

void SqlOutboxStore::record(const events::DeliveryOutcome& o) {
  auto st = conn_.prepare(
      "UPDATE outbox SET status = ?2, next_attempt_at = ?3, locked_until = NULL, locked_by = NULL, response_status = ?4, "
      "last_error = ?5, delivered_at = ?6, payload = COALESCE(?7, payload) WHERE id = ?1");
  st.bind(1, o.id).bind(2, events::to_string(o.status)).bind(3, o.next_attempt_at);
  if (o.response_status) st.bind(4, int64_t{*o.response_status});
  else st.bind_null(4);
  st.bind(5, o.last_error).bind(6, o.delivered_at).bind(7, o.payload).run();
}

void SqlOutboxStore::release_leases(std::string_view holder) {
  conn_.prepare("UPDATE outbox SET locked_until = NULL, locked_by = NULL WHERE status = 'pending' "
                "AND locked_until IS NOT NULL AND (locked_by = ?1 OR locked_by IS NULL)")
      .bind(1, holder)
      .run();
}

std::vector<Delivery> SqlOutboxStore::list_for_webhook(std::string_view webhook_id,
                                                          std::optional<DeliveryStatus> status, size_t limit,
                                                          std::optional<std::string_view> before_id) {
  auto st = conn_.prepare("SELECT " DELIVERY_COLUMNS
                          " FROM outbox WHERE webhook_id = ?1 AND (status = ?2 OR ?2 IS NULL) AND (id < ?3 OR ?3 IS NULL)"
                          " ORDER BY id DESC LIMIT ?4");
  st.bind(1, webhook_id);
  if (status) st.bind(2, events::to_string(*status));
  else st.bind_null(2);
  if (before_id) st.bind(3, *before_id);
  else st.bind_null(3);
  st.bind(4, static_cast<int64_t>(limit));
  std::vector<Delivery> out;
  while (st.step()) out.push_back(read_delivery(st));
  return out;
}

uint64_t SqlOutboxStore::remove_finished(Timestamp before) {
  conn_.prepare("DELETE FROM outbox WHERE status <> 'pending' AND created_at < ?1").bind(1, before).run();
  return static_cast<uint64_t>(conn_.changes());
}

std::optional<Timestamp> SqlOutboxStore::next_due() {
  auto st = conn_.prepare("SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'");
  if (!st.step() || st.is_null(0)) return std::nullopt;
  return st.time(0);
}

uint64_t SqlOutboxStore::count_pending() {
  auto st = conn_.prepare("SELECT count(*) FROM outbox WHERE status = 'pending'");
  st.step();
  return static_cast<uint64_t>(st.integer(0));
}

void SqlOneTimeTokenStore::insert(std::string_view token_hash, const identity::OneTimeToken& t) {
  auto st = conn_.prepare(
      "INSERT INTO one_time_tokens (token_hash, purpose, project_id, user_id, email, expires_at, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  st.bind_blob(1, token_hash).bind(2, purpose_name(t.purpose)).bind(3, t.project_id).bind(4, t.user_id);
  st.bind(5, t.email).bind(6, t.expires_at).bind(7, t.created_at).run();
}

std::optional<identity::OneTimeToken> SqlOneTimeTokenStore::consume(std::string_view token_hash,
                                                                       identity::TokenPurpose purpose) {
  auto st = conn_.prepare(
      "DELETE FROM one_time_tokens WHERE token_hash = ?1 AND purpose = ?2 "
      "RETURNING project_id, user_id, email, expires_at, created_at");
  st.bind_blob(1, token_hash).bind(2, purpose_name(purpose));
  if (!st.step()) return std::nullopt;
  identity::OneTimeToken t{purpose, st.text(0), st.text(1), st.text(2), st.time(3), st.time(4)};
  while (st.step()) {
  }
  return t;
}

void SqlOneTimeTokenStore::remove_for_user(std::string_view user_id, identity::TokenPurpose purpose) {
  conn_.prepare("DELETE FROM one_time_tokens WHERE user_id = ?1 AND purpose = ?2")
      .bind(1, user_id)
      .bind(2, purpose_name(purpose))
      .run();
}

uint64_t SqlOneTimeTokenStore::remove_expired(Timestamp now) {
  conn_.prepare("DELETE FROM one_time_tokens WHERE expires_at <= ?1").bind(1, now).run();
  return static_cast<uint64_t>(conn_.changes());
}

}  // namespace tessera::store::sql
