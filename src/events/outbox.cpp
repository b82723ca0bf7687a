#include "events/outbox.hpp"

#include <boost/json/serialize.hpp>

#include "core/uuid.hpp"
#include "store/store.hpp"

namespace tessera::events {

namespace {
Delivery pending(std::string_view project_id, const std::string& event_id, std::string_view type, Channel channel,
                 Timestamp now) {
  Delivery d;
  d.id = make_uuid_v7(now);
  d.project_id = project_id;
  d.event_id = event_id;
  d.event_type = type;
  d.channel = channel;
  d.next_attempt_at = d.created_at = now;
  return d;
}
}  // namespace

std::string record(store::Repositories& r, Timestamp now, const Event& event, const std::optional<MailRequest>& mail) {
  std::string event_id = make_uuid_v7(now);
  std::optional<std::string> body;  // the same JSON for every webhook
  for (const Webhook& w : r.webhooks.active(event.project_id)) {
    if (!w.wants(event.type)) continue;
    if (!body)
      body = boost::json::serialize(boost::json::object{{"id", event_id},
                                                        {"type", event.type},
                                                        {"created_at", format_rfc3339(now)},
                                                        {"project_id", event.project_id},
                                                        {"data", event.data}});
    Delivery d = pending(event.project_id, event_id, event.type, Channel::webhook, now);
    d.webhook_id = w.id;
    d.payload = *body;
    r.outbox.insert(d);
  }
  if (mail) {
    Delivery d = pending(event.project_id, event_id, event.type, Channel::mail, now);
    d.payload = boost::json::serialize(
        boost::json::object{{"to", mail->to}, {"template", mail->template_name}, {"values", mail->values}});
    r.outbox.insert(d);
  }
  return event_id;
}

bool has_subscribers(store::Repositories& r, std::string_view project_id, std::string_view type) {
  for (const Webhook& w : r.webhooks.active(project_id))
    if (w.wants(type)) return true;
  return false;
}

void record_task(store::Repositories& r, Timestamp now, std::string_view project_id, std::string_view task,
                 boost::json::object input) {
  std::string id = make_uuid_v7(now);
  Delivery d = pending(project_id, id, task, Channel::task, now);
  d.payload = boost::json::serialize(input);
  r.outbox.insert(d);
}

}  // namespace tessera::events
