#include "events/webhook_sender.hpp"

namespace tessera::events {

namespace {
constexpr size_t kMaxResponseBytes = 64 * 1024;
}

WebhookSender::WebhookSender(Micros timeout, bool allow_private_networks, std::string user_agent)
    : client_(timeout, allow_private_networks, std::move(user_agent), kMaxResponseBytes) {}

WebhookResponse WebhookSender::post(const WebhookRequest& request) const {
  auto answer = client_.send({"POST", request.url, request.body, request.headers});
  return {answer.status, answer.error};
}

}  // namespace tessera::events
