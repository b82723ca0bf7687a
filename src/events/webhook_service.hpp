// Webhooks of a project (webhooks:manage): create, list, change, delete, rotate the signing secret,
// and read the delivery log. Secrets (whsec_...) are shown at creation and rotation only; they are
// derived from a per-webhook salt under a server key, so nothing stored reveals them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "events/event.hpp"

namespace tessera::store {
class Store;
}

namespace tessera::events {

struct WebhookInput {
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;
  std::optional<std::string> description;
  std::optional<bool> active;
};

struct IssuedWebhook {
  Webhook webhook;
  std::string secret;  // shown once
};

class WebhookService {
 public:
  WebhookService(store::Store& store, const Clock& clock);

  Result<IssuedWebhook> create(const std::string& project_id, const WebhookInput& input);
  std::vector<Webhook> list(const std::string& project_id, size_t limit, std::optional<std::string_view> after_id);
  Result<Webhook> get(const std::string& project_id, const std::string& id);
  Result<Webhook> update(const std::string& project_id, const std::string& id, const WebhookInput& input);
  Status remove(const std::string& project_id, const std::string& id);
  Result<IssuedWebhook> rotate_secret(const std::string& project_id, const std::string& id);
  Result<std::vector<Delivery>> deliveries(const std::string& project_id, const std::string& id,
                                           std::optional<DeliveryStatus> status, size_t limit,
                                           std::optional<std::string_view> before_id);

 private:
  std::string secret_for(const Webhook& webhook, const std::string& salt);

  store::Store& store_;
  const Clock& clock_;
};

// "whsec_" + base64url(BLAKE2b keyed with the server key over id and salt).
std::string webhook_secret(const std::string& server_key, const std::string& webhook_id, const std::string& salt);

}  // namespace tessera::events
