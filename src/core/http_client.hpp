// Outgoing HTTP through libcurl, for every call Tessera makes to addresses that projects configure
// (webhooks, identity providers): bounded time and answer size, no redirects, no proxy from the
// environment, and targets on internal networks refused at connect time.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"

struct sockaddr;

namespace tessera {

struct HttpRequest {
  std::string method = "GET";  // GET or POST
  std::string url;
  std::string body;            // POST only
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpResponse {
  long status = 0;            // HTTP status, 0 when none arrived
  std::string body;           // up to the client's limit (see truncated)
  std::string content_type;
  bool truncated = false;     // the answer was longer than the limit; reading stopped
  std::string error;          // empty when a response arrived; else why not (timeout, refused, blocked address...)
  bool ok() const { return error.empty() && status >= 200 && status < 300; }
};

class HttpClient {
 public:
  HttpClient(Micros timeout, bool allow_private_networks, std::string user_agent, size_t max_answer_bytes);

  // Blocking; thread-safe (one CURL handle per call). A 3xx is the answer: redirects are not followed.
  HttpResponse send(const HttpRequest& request) const;

  bool allow_private_networks() const { return allow_private_networks_; }

 private:
  Micros timeout_;
  bool allow_private_networks_;
  std::string user_agent_;
  size_t max_answer_bytes_;
};

// Why `url` cannot be called, nullopt when it can: http or https, a host, no user:password, a valid
// port, at most 2048 characters.
std::optional<std::string> http_url_problem(std::string_view url);

// False for loopback, private, link-local, CGNAT, unspecified, multicast, broadcast and reserved
// addresses, also in their IPv4-mapped and NAT64 IPv6 forms, and for anything not IPv4/IPv6.
bool is_public_address(const sockaddr* address);

// curl_global_init, once per process, before the first transfer.
void init_curl();

// A timeout as libcurl milliseconds, at least 1 (0 would mean "no timeout").
long curl_timeout_ms(Micros timeout);

}  // namespace tessera
