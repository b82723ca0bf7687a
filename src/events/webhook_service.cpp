#include "events/webhook_service.hpp"

#include "core/uuid.hpp"
#include "crypto/random.hpp"
#include "crypto/token.hpp"
#include "events/webhook_sender.hpp"
#include "store/store.hpp"

namespace tessera::events {

namespace {
constexpr size_t kMaxDescription = 1024;
constexpr size_t kMaxEvents = 64;
constexpr size_t kSaltBytes = 32;

Error webhook_not_found() { return Error::not_found("webhook_not_found", "No such webhook."); }

// Applies `in` to `w`, collecting rule errors; `creating` makes url and events required.
void apply(Webhook& w, const WebhookInput& in, bool creating, std::vector<FieldError>& errors) {
  if (in.url) {
    if (auto problem = webhook_url_problem(*in.url)) errors.push_back({"url", "invalid", *problem});
    w.url = *in.url;
  } else if (creating) {
    errors.push_back({"url", "required", "is required"});
  }
  if (in.events) {
    if (in.events->empty()) errors.push_back({"events", "required", "must name at least one event type, or \"*\""});
    if (in.events->size() > kMaxEvents) errors.push_back({"events", "too_many", "must name at most 64 event types"});
    for (const auto& e : *in.events)
      if (e != "*" && !is_event_type(e)) {
        errors.push_back({"events", "unknown_event", "'" + e + "' is not an event type (see docs/events.md)"});
        break;
      }
    w.events = *in.events;
  } else if (creating) {
    errors.push_back({"events", "required", "is required"});
  }
  if (in.description) {
    if (in.description->size() > kMaxDescription) errors.push_back({"description", "too_long", "must be at most 1024 bytes"});
    w.description = *in.description;
  }
  if (in.active) w.active = *in.active;
}
}  // namespace

std::string webhook_secret(const std::string& server_key, const std::string& webhook_id, const std::string& salt) {
  return "whsec_" + crypto::base64url_encode(crypto::keyed_secret_hash(server_key, webhook_id + ":" + salt));
}

WebhookService::WebhookService(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

std::string WebhookService::secret_for(const Webhook& w, const std::string& salt) {
  std::string key = store_.write([](store::Repositories& r) { return r.webhooks.secret_key(); });
  return webhook_secret(key, w.id, salt);
}

Result<IssuedWebhook> WebhookService::create(const std::string& project_id, const WebhookInput& in) {
  Webhook w;
  std::vector<FieldError> errors;
  apply(w, in, true, errors);
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  Timestamp now = clock_.now();
  w.id = make_uuid_v7(now);
  w.project_id = project_id;
  w.created_at = w.updated_at = now;
  std::string salt = crypto::random_bytes(kSaltBytes);
  store_.write([&](store::Repositories& r) { r.webhooks.insert(w, salt); });
  return IssuedWebhook{w, secret_for(w, salt)};
}

std::vector<Webhook> WebhookService::list(const std::string& project_id, size_t limit,
                                          std::optional<std::string_view> after_id) {
  return store_.read([&](store::Repositories& r) { return r.webhooks.list(project_id, limit, after_id); });
}

Result<Webhook> WebhookService::get(const std::string& project_id, const std::string& id) {
  auto found = store_.read([&](store::Repositories& r) { return r.webhooks.find(project_id, id); });
  if (!found) return fail(webhook_not_found());
  return found->first;
}

Result<Webhook> WebhookService::update(const std::string& project_id, const std::string& id, const WebhookInput& in) {
  auto current = get(project_id, id);
  if (!current) return current;
  Webhook w = *current;
  std::vector<FieldError> errors;
  apply(w, in, false, errors);
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  w.updated_at = clock_.now();
  if (!store_.write([&](store::Repositories& r) { return r.webhooks.update(w); })) return fail(webhook_not_found());
  return w;
}

Status WebhookService::remove(const std::string& project_id, const std::string& id) {
  if (!store_.write([&](store::Repositories& r) { return r.webhooks.remove(project_id, id); }))
    return fail(webhook_not_found());
  return {};
}

Result<IssuedWebhook> WebhookService::rotate_secret(const std::string& project_id, const std::string& id) {
  std::string salt = crypto::random_bytes(kSaltBytes);
  Timestamp now = clock_.now();
  auto found = store_.write([&](store::Repositories& r) {
    auto w = r.webhooks.find(project_id, id);
    if (w) {
      r.webhooks.set_salt(id, salt, now);
      w->first.updated_at = now;
    }
    return w;
  });
  if (!found) return fail(webhook_not_found());
  return IssuedWebhook{found->first, secret_for(found->first, salt)};
}

Result<std::vector<Delivery>> WebhookService::deliveries(const std::string& project_id, const std::string& id,
                                                         std::optional<DeliveryStatus> status, size_t limit,
                                                         std::optional<std::string_view> before_id) {
  auto rows = store_.read([&](store::Repositories& r) -> std::optional<std::vector<Delivery>> {
    if (!r.webhooks.find(project_id, id)) return std::nullopt;
    return r.outbox.list_for_webhook(id, status, limit, before_id);
  });
  if (!rows) return fail(webhook_not_found());
  return std::move(*rows);
}

}  // namespace tessera::events
