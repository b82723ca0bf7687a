// POSTs one webhook delivery through libcurl, refusing targets on internal networks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"

struct sockaddr;

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

  // Blocking; thread-safe (one CURL handle per call). Redirects are not followed: a 3xx is the answer.
  // The response body is read and discarded; beyond 64 KiB reading stops and the status still counts.
  WebhookResponse post(const WebhookRequest& request) const;

 private:
  Micros timeout_;
  bool allow_private_networks_;
  std::string user_agent_;
};

// Why `url` cannot be a webhook target, nullopt when it can: http or https, a host, no user:password,
// at most 2048 characters.
std::optional<std::string> webhook_url_problem(std::string_view url);

// False for loopback, private, link-local, CGNAT, unspecified, multicast, broadcast and reserved
// addresses, also in their IPv4-mapped and NAT64 IPv6 forms, and for anything not IPv4/IPv6.
bool is_public_address(const sockaddr* address);

// curl_global_init, once per process, before the first transfer (both senders call it).
void init_curl();

// A timeout as libcurl milliseconds, at least 1 (0 would mean "no timeout").
long curl_timeout_ms(Micros timeout);

}  // namespace tessera::events
