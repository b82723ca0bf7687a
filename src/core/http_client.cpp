#include "core/http_client.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace tessera {

namespace {

constexpr size_t kMaxUrlChars = 2048;

using CurlPtr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using ListPtr = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

bool in_v4(uint32_t address, uint32_t network, int prefix) {
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return (address & mask) == network;
}

bool is_public_v4(uint32_t a) {  // host byte order
  return !(in_v4(a, 0x00000000, 8) ||     // "this network", 0.0.0.0
           in_v4(a, 0x0A000000, 8) ||     // 10/8
           in_v4(a, 0x64400000, 10) ||    // 100.64/10 CGNAT
           in_v4(a, 0x7F000000, 8) ||     // 127/8 loopback
           in_v4(a, 0xA9FE0000, 16) ||    // 169.254/16 link-local (cloud metadata services)
           in_v4(a, 0xAC100000, 12) ||    // 172.16/12
           in_v4(a, 0xC0000000, 24) ||    // 192.0.0/24 protocol assignments
           in_v4(a, 0xC0A80000, 16) ||    // 192.168/16
           in_v4(a, 0xC6120000, 15) ||    // 198.18/15 benchmarking, often internal
           in_v4(a, 0xE0000000, 4) ||     // 224/4 multicast
           in_v4(a, 0xF0000000, 4));      // 240/4 reserved, 255.255.255.255 broadcast
}

uint32_t v4_at(const unsigned char* bytes) {
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 | bytes[3];
}

bool is_public_v6(const unsigned char* b) {
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr unsigned char kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  static constexpr unsigned char kZero[12] = {};
  // ::ffff:a.b.c.d reaches a.b.c.d; 64:ff9b::a.b.c.d does through a NAT64 gateway.
  if (std::memcmp(b, kMapped, 12) == 0 || std::memcmp(b, kNat64, 12) == 0) return is_public_v4(v4_at(b + 12));
  if (std::memcmp(b, kZero, 12) == 0) return false;  // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
  if ((b[0] & 0xfe) == 0xfc) return false;            // fc00::/7 unique local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return false;  // fe80::/10 link-local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return false;  // fec0::/10 site-local (deprecated)
  if (b[0] == 0xff) return false;                           // ff00::/8 multicast
  return true;
}

std::string address_text(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text, sizeof text);
  else if (address->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text, sizeof text);
  return text;
}

// What the socket callback shares with post(): libcurl's own error for a refused socket is only
// "could not connect", so the callback leaves the reason here.
struct Connection {
  bool allow_private = false;
  std::string refused;
};

// Runs for every address libcurl is about to connect to, after DNS: a name that resolves (or later
// re-resolves) to an internal address is caught here, where a check of the URL could be bypassed.
curl_socket_t open_socket(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
  auto* connection = static_cast<Connection*>(clientp);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  if (!connection->allow_private && !is_public_address(&address->addr)) {
    connection->refused = address_text(&address->addr);
    return CURL_SOCKET_BAD;
  }
  // Close-on-exec: the server spawns helper processes, which must not inherit connections.
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

struct Sink {
  std::string& body;
  size_t limit;
  bool too_large = false;
};

size_t keep_body(char* data, size_t size, size_t count, void* userdata) {
  auto* sink = static_cast<Sink*>(userdata);
  size_t n = size * count;
  if (sink->body.size() + n > sink->limit) {
    sink->too_large = true;
    return 0;  // makes libcurl stop reading (CURLE_WRITE_ERROR)
  }
  sink->body.append(data, n);
  return n;
}

// Boost.URL's port_number() does not refuse 99999; curl would, later and more vaguely.
bool valid_port(std::string_view port) {
  unsigned number = 0;
  auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
  return error == std::errc() && end == port.data() + port.size() && number >= 1 && number <= 65535;
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

}  // namespace

void init_curl() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
}

long curl_timeout_ms(Micros timeout) {
  return std::max<long>(1, static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()));
}

bool is_public_address(const sockaddr* address) {
  if (address->sa_family == AF_INET)
    return is_public_v4(ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr));
  if (address->sa_family == AF_INET6)
    return is_public_v6(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr.s6_addr);
  return false;
}

std::optional<std::string> http_url_problem(std::string_view url) {
  if (url.size() > kMaxUrlChars) return "longer than 2048 characters";
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return "not an absolute URL";
  if (parsed->scheme_id() != boost::urls::scheme::http && parsed->scheme_id() != boost::urls::scheme::https)
    return "scheme must be http or https";
  if (!parsed->has_authority() || parsed->encoded_host().empty()) return "no host";
  if (parsed->has_userinfo()) return "must not contain user:password";
  if (!parsed->port().empty() && !valid_port(parsed->port())) return "invalid port";
  return std::nullopt;
}

HttpClient::HttpClient(Micros timeout, bool allow_private_networks, std::string user_agent, size_t max_answer_bytes)
    : timeout_(timeout),
      allow_private_networks_(allow_private_networks),
      user_agent_(std::move(user_agent)),
      max_answer_bytes_(max_answer_bytes) {}

HttpResponse HttpClient::send(const HttpRequest& request) const {
  HttpResponse response;
  if (auto problem = http_url_problem(request.url)) {
    response.error = "invalid URL: " + *problem;
    return response;
  }
  bool post = request.method == "POST";
  // "Expect:" turns off curl's 100-continue wait on large bodies; receivers rarely answer it.
  ListPtr headers(curl_slist_append(nullptr, "Expect:"), &curl_slist_free_all);
  bool has_content_type = false;
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || name.find(':') != std::string::npos || has_line_break(name) || has_line_break(value)) {
      response.error = "invalid header " + name;
      return response;
    }
    has_content_type = has_content_type || iequals(name, "Content-Type");
    curl_slist_append(headers.get(), (name + ": " + value).c_str());
  }
  if (post && !has_content_type) curl_slist_append(headers.get(), "Content-Type: application/json");

  init_curl();
  CurlPtr curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) {
    response.error = "curl_easy_init failed";
    return response;
  }
  Connection connection{allow_private_networks_, {}};
  Sink sink{response.body, max_answer_bytes_};
  char error[CURL_ERROR_SIZE] = "";
  long timeout_ms = curl_timeout_ms(timeout_);

  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROXY, "");  // never a proxy from the environment
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &connection);
  curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent_.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  if (post) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);

  CURLcode code = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  char* type = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type) response.content_type = type;
  response.truncated = sink.too_large;
  if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && sink.too_large)) return response;
  if (code == CURLE_COULDNT_CONNECT && !connection.refused.empty())
    response.error = "address not allowed: " + connection.refused;
  else
    response.error = error[0] != '\0' ? error : curl_easy_strerror(code);
  return response;
}

}  // namespace tessera
