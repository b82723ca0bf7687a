// Events and their deliveries: what happened in a project, and each mail, webhook POST or task that
// must follow from it. Deliveries are outbox rows written in the transaction of the change.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"

namespace tessera::events {

// Every event type a webhook can subscribe to.
const std::vector<std::string_view>& event_types();
bool is_event_type(std::string_view type);

struct Event {
  std::string type;
  std::string project_id;
  boost::json::object data;
};

struct Webhook {
  std::string id;
  std::string project_id;
  std::string url;
  std::vector<std::string> events;  // event types, or "*"
  std::string description;
  bool active = true;
  Timestamp created_at, updated_at;

  bool wants(std::string_view type) const;
};

enum class Channel { webhook, mail, task };
enum class DeliveryStatus { pending, delivered, failed };
std::string_view to_string(Channel c);
std::string_view to_string(DeliveryStatus s);
std::optional<Channel> channel_from(std::string_view text);
std::optional<DeliveryStatus> delivery_status_from(std::string_view text);

struct Delivery {
  std::string id;  // the idempotency key receivers see
  std::string project_id;
  std::string event_id;
  std::string event_type;
  Channel channel = Channel::webhook;
  std::optional<std::string> webhook_id;
  std::string payload;  // JSON: the event (webhook), the mail's recipient and values (mail), the task's input
  DeliveryStatus status = DeliveryStatus::pending;
  int attempts = 0;
  Timestamp next_attempt_at;
  std::optional<int> response_status;
  std::optional<std::string> last_error;
  Timestamp created_at;
  std::optional<Timestamp> delivered_at;
};

// What one attempt came to.
struct DeliveryOutcome {
  std::string id;
  DeliveryStatus status = DeliveryStatus::pending;  // pending: retry at next_attempt_at
  Timestamp next_attempt_at;
  std::optional<int> response_status;
  std::optional<std::string> last_error;
  std::optional<Timestamp> delivered_at;
  std::optional<std::string> payload;  // replaces the stored payload (secrets erased once done)
};

}  // namespace tessera::events
