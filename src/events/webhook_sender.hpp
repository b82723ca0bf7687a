// POSTs one webhook delivery through libcurl, refusing targets on internal networks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/http_client.hpp"

namespace tessera::events {

struct WebhookRequest {
  std::string url;
  std::string body;  // JSON
  std::vector<std::pair<std::string, std::string>> headers;
};

struct WebhookResponse {
  long status = 0;    // HTTP status, 0 when none arrived
  std::string error;  // empty when a response arrived; else why not (timeout, refused, blocked address...)
  bool ok() const { return error.empty() && status >= 200 && status < 300; }
};

class WebhookSender {
 public:
  WebhookSender(Micros timeout, bool allow_private_networks, std::string user_agent);

  // Blocking; thread-safe. Redirects are not followed: a 3xx is the answer. The response body is
  // read and discarded; beyond 64 KiB reading stops and the status still counts.
  WebhookResponse post(const WebhookRequest& request) const;

 private:
  HttpClient client_;
};

// Why `url` cannot be a webhook target, nullopt when it can (see http_url_problem).
inline std::optional<std::string> webhook_url_problem(std::string_view url) { return http_url_problem(url); }

using tessera::curl_timeout_ms;
using tessera::init_curl;
using tessera::is_public_address;

}  // namespace tessera::events
