#include "events/event.hpp"

#include <algorithm>

namespace tessera::events {

const std::vector<std::string_view>& event_types() {
  static const std::vector<std::string_view> all = {
      "user.created",     "user.updated",     "user.deleted",
      "user.login",       "user.login_failed", "session.revoked",
      "password.reset_requested", "password.changed", "email.verification_requested",
      "license.created",  "license.activated",
  };
  return all;
}

bool is_event_type(std::string_view type) {
  auto& all = event_types();
  return std::find(all.begin(), all.end(), type) != all.end();
}

bool Webhook::wants(std::string_view type) const {
  return std::any_of(events.begin(), events.end(), [&](const std::string& e) { return e == "*" || e == type; });
}

std::string_view to_string(Channel c) {
  switch (c) {
    case Channel::webhook: return "webhook";
    case Channel::mail: return "mail";
    case Channel::task: return "task";
  }
  return "task";
}

std::string_view to_string(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::pending: return "pending";
    case DeliveryStatus::delivered: return "delivered";
    case DeliveryStatus::failed: return "failed";
  }
  return "failed";
}

std::optional<Channel> channel_from(std::string_view t) {
  for (Channel c : {Channel::webhook, Channel::mail, Channel::task})
    if (to_string(c) == t) return c;
  return std::nullopt;
}

std::optional<DeliveryStatus> delivery_status_from(std::string_view t) {
  for (DeliveryStatus s : {DeliveryStatus::pending, DeliveryStatus::delivered, DeliveryStatus::failed})
    if (to_string(s) == t) return s;
  return std::nullopt;
}

}  // namespace tessera::events
