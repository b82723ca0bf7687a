// events/webhook_sender (against a real HTTP listener on loopback) and events/signature.
#include "events/webhook_sender.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "events/signature.hpp"

namespace tessera::events {
namespace {

using namespace std::chrono_literals;

// --- signature ---

TEST(WebhookSignature, MatchesAnIndependentHmac) {
  // Expected values computed with OpenSSL's command line:
  //   printf '%s' '1700000000.{"id":"evt_1","type":"user.created"}' | openssl dgst -sha256 -hmac 'whsec_test_secret'
  //   printf '%s' '1700000000.' | openssl dgst -sha256 -hmac 'whsec_test_secret'
  EXPECT_EQ(webhook_signature("whsec_test_secret", 1700000000, R"({"id":"evt_1","type":"user.created"})"),
            "t=1700000000,v1=f05b1ef15f6e243adcc340e544948703c6d81cf305301168ffc9986284c88f05");
  EXPECT_EQ(webhook_signature("whsec_test_secret", 1700000000, ""),
            "t=1700000000,v1=316b9ab98c15bfa039d243f3196acee619cf29749a91a634e6a8154e2f7b6727");
}

TEST(WebhookSignature, DependsOnSecretTimeAndBody) {
  std::string base = webhook_signature("secret", 1, "{}");
  EXPECT_NE(webhook_signature("secreT", 1, "{}"), base);
  EXPECT_NE(webhook_signature("secret", 2, "{}"), base);
  EXPECT_NE(webhook_signature("secret", 1, "{ }"), base);
  EXPECT_EQ(webhook_signature("secret", 1, "{}"), base);
  EXPECT_EQ(webhook_signature("", 1, "{}").size(), base.size());  // an empty key still works
}

// --- URLs ---

TEST(WebhookUrl, AcceptsHttpAndHttps) {
  for (std::string url : {"https://hooks.example.com/tessera", "http://example.com", "HTTPS://Example.COM:8443/a?b=c",
                          "http://127.0.0.1:8080/hook", "http://[2001:db8::1]/hook", "https://xn--bcher-kva.example/"})
    EXPECT_EQ(webhook_url_problem(url), std::nullopt) << url;
  EXPECT_EQ(webhook_url_problem("https://e.com/" + std::string(2048 - 14, 'a')), std::nullopt);
}

TEST(WebhookUrl, RefusesOtherTargets) {
  EXPECT_EQ(webhook_url_problem("ftp://example.com/x"), "scheme must be http or https");
  EXPECT_EQ(webhook_url_problem("file:///etc/passwd"), "scheme must be http or https");
  EXPECT_EQ(webhook_url_problem("gopher://example.com"), "scheme must be http or https");
  EXPECT_EQ(webhook_url_problem("https://user:pass@example.com/"), "must not contain user:password");
  EXPECT_EQ(webhook_url_problem("https://user@example.com/"), "must not contain user:password");
  EXPECT_EQ(webhook_url_problem("https:///path"), "no host");
  EXPECT_EQ(webhook_url_problem("https:example.com"), "no host");
  EXPECT_EQ(webhook_url_problem("https://example.com:99999/"), "invalid port");
  EXPECT_EQ(webhook_url_problem("https://example.com:0/"), "invalid port");
  EXPECT_EQ(webhook_url_problem("/relative/path"), "not an absolute URL");
  EXPECT_EQ(webhook_url_problem("https://exa mple.com/"), "not an absolute URL");
  EXPECT_EQ(webhook_url_problem("https://example.com/\r\nHost: x"), "not an absolute URL");
  EXPECT_EQ(webhook_url_problem(""), "not an absolute URL");
  EXPECT_EQ(webhook_url_problem("https://e.com/" + std::string(2048 - 13, 'a')), "longer than 2048 characters");
}

// --- address classification ---

bool is_public(const std::string& ip) {
  sockaddr_storage storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
  } else if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
  } else {
    ADD_FAILURE() << "not an IP address: " << ip;
  }
  return is_public_address(reinterpret_cast<sockaddr*>(&storage));
}

TEST(WebhookAddress, RefusesInternalAddresses) {
  for (std::string ip :
       {"127.0.0.1", "127.255.255.254", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.0.1",
        "192.168.255.255", "169.254.169.254", "100.64.0.1", "100.127.255.255", "0.0.0.0", "0.1.2.3", "224.0.0.1",
        "239.255.255.250", "255.255.255.255", "240.0.0.1", "::", "::1", "fc00::1", "fd12:3456:789a::1", "fe80::1",
        "febf:ffff::1", "ff02::1", "ff0e::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254",
        "::ffff:192.168.1.1", "::ffff:0.0.0.0", "::127.0.0.1", "64:ff9b::10.0.0.1", "64:ff9b::127.0.0.1"})
    EXPECT_FALSE(is_public(ip)) << ip;
}

TEST(WebhookAddress, AcceptsPublicAddresses) {
  for (std::string ip : {"8.8.8.8", "1.1.1.1", "93.184.216.34", "9.255.255.255", "11.0.0.1", "100.63.255.255",
                         "100.128.0.1", "126.255.255.255", "128.0.0.1", "169.253.255.255", "172.15.255.255",
                         "172.32.0.1", "192.167.255.255", "192.169.0.1", "223.255.255.255", "2606:4700:4700::1111",
                         "2001:4860:4860::8888", "2a00:1450:4001::200e", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8"})
    EXPECT_TRUE(is_public(ip)) << ip;
}

TEST(WebhookAddress, RefusesOtherFamilies) {
  sockaddr_un unix_address{};
  unix_address.sun_family = AF_UNIX;
  EXPECT_FALSE(is_public_address(reinterpret_cast<sockaddr*>(&unix_address)));
}

// --- WebhookSender against a real listener ---

// A one-connection-at-a-time HTTP/1.1 listener on 127.0.0.1: it records each request and answers with
// a canned response, or never answers (to exercise timeouts) when the response is empty. With
// `endless`, the response is followed by body bytes until the client stops reading.
class TestHttpServer {
 public:
  explicit TestHttpServer(std::string response, bool endless = false)
      : response_(std::move(response)), endless_(endless) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener_, 8) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("cannot listen on loopback");
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~TestHttpServer() {
    shutdown(listener_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    close(listener_);
  }

  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  unsigned port() const { return port_; }
  int connections() const { return connections_; }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    for (int fd; (fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0; close(fd)) {
      ++connections_;
      std::string request = read_request(fd);
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      if (response_.empty()) {  // hang until the client gives up
        char buf[256];
        while (recv(fd, buf, sizeof buf, 0) > 0) {
        }
        continue;
      }
      if (send_all(fd, response_) && endless_)
        while (send_all(fd, std::string(16 * 1024, 'x'))) {
        }
    }
  }

  static bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;  // the client stopped reading
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  static std::string read_request(int fd) {
    std::string data;
    char buf[4096];
    size_t wanted = std::string::npos;
    while (data.size() < wanted) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      data.append(buf, static_cast<size_t>(n));
      size_t end = data.find("\r\n\r\n");
      if (end != std::string::npos && wanted == std::string::npos) {
        size_t length = 0;
        size_t at = data.find("Content-Length: ");
        if (at != std::string::npos && at < end) length = std::stoul(data.substr(at + 16));
        wanted = end + 4 + length;
      }
    }
    return data;
  }

  std::string response_;
  bool endless_;
  int listener_ = -1;
  unsigned port_ = 0;
  std::atomic<int> connections_ = 0;
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

constexpr const char* kOk = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nreceived";

WebhookRequest sample_request(std::string url) {
  return {.url = std::move(url),
          .body = R"({"id":"evt_1","type":"user.created","data":{}})",
          .headers = {{"Tessera-Event-Id", "evt_1"},
                      {"Tessera-Event-Type", "user.created"},
                      {"Tessera-Delivery-Id", "dlv_1"},
                      {"Tessera-Delivery-Attempt", "1"},
                      {"Tessera-Signature", "t=1,v1=ab"}}};
}

TEST(WebhookSender, RefusesLoopbackUnlessPrivateNetworksAreAllowed) {
  TestHttpServer server(kOk);
  WebhookSender sender(5s, false, "Tessera/test");
  WebhookResponse response = sender.post(sample_request(server.url("/hook")));
  EXPECT_EQ(response.status, 0);
  EXPECT_EQ(response.error, "address not allowed: 127.0.0.1");
  EXPECT_FALSE(response.ok());

  // A name is checked on the address it resolves to.
  response = sender.post(sample_request("http://localhost:" + std::to_string(server.port()) + "/hook"));
  EXPECT_TRUE(response.error.starts_with("address not allowed: ")) << response.error;
  EXPECT_EQ(server.connections(), 0);
}

TEST(WebhookSender, DeliversHeadersAndBodyAndReportsTheStatus) {
  TestHttpServer server(kOk);
  WebhookRequest request = sample_request(server.url("/hook?x=1"));
  WebhookResponse response = WebhookSender(5s, true, "Tessera/0.1.0").post(request);
  EXPECT_EQ(response.error, "");
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.ok());

  ASSERT_EQ(server.requests().size(), 1u);
  std::string received = server.requests()[0];
  EXPECT_TRUE(received.starts_with("POST /hook?x=1 HTTP/1.1\r\n")) << received;
  for (std::string line : {"Content-Type: application/json", "User-Agent: Tessera/0.1.0", "Tessera-Event-Id: evt_1",
                           "Tessera-Event-Type: user.created", "Tessera-Delivery-Id: dlv_1",
                           "Tessera-Delivery-Attempt: 1", "Tessera-Signature: t=1,v1=ab"})
    EXPECT_NE(received.find("\r\n" + line + "\r\n"), std::string::npos) << line << " in " << received;
  EXPECT_EQ(received.find("Expect:"), std::string::npos);
  EXPECT_TRUE(received.ends_with("\r\n\r\n" + request.body)) << received;
}

TEST(WebhookSender, ReportsErrorStatuses) {
  TestHttpServer server("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  WebhookResponse response = WebhookSender(5s, true, "Tessera/test").post(sample_request(server.url("/")));
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.error, "");
  EXPECT_FALSE(response.ok());
}

TEST(WebhookSender, DoesNotFollowRedirects) {
  TestHttpServer server("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n"
                        "Connection: close\r\n\r\n");
  WebhookResponse response = WebhookSender(5s, true, "Tessera/test").post(sample_request(server.url("/")));
  EXPECT_EQ(response.status, 302);
  EXPECT_EQ(response.error, "");
  EXPECT_FALSE(response.ok());
  EXPECT_EQ(server.connections(), 1);
}

TEST(WebhookSender, ReportsATimeout) {
  TestHttpServer server("");  // never answers
  auto start = std::chrono::steady_clock::now();
  WebhookResponse response = WebhookSender(300ms, true, "Tessera/test").post(sample_request(server.url("/")));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(response.status, 0);
  EXPECT_NE(response.error.find("timed out"), std::string::npos) << response.error;
  EXPECT_FALSE(response.ok());
}

TEST(WebhookSender, StopsReadingALargeResponseButKeepsTheStatus) {
  // A body without end: reading it all would end in the timeout instead.
  TestHttpServer server("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", true);
  WebhookResponse response = WebhookSender(5s, true, "Tessera/test").post(sample_request(server.url("/")));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.error, "");
  EXPECT_TRUE(response.ok());
}

TEST(WebhookSender, ReportsARefusedConnection) {
  int port;
  {
    TestHttpServer closed(kOk);  // a port that was free a moment ago
    port = static_cast<int>(closed.port());
  }
  WebhookResponse response =
      WebhookSender(5s, true, "Tessera/test").post(sample_request("http://127.0.0.1:" + std::to_string(port) + "/"));
  EXPECT_EQ(response.status, 0);
  EXPECT_FALSE(response.error.empty());
}

TEST(WebhookSender, RefusesBadUrlsAndHeadersWithoutConnecting) {
  WebhookSender sender(5s, true, "Tessera/test");
  WebhookResponse response = sender.post(sample_request("ftp://127.0.0.1/"));
  EXPECT_EQ(response.error, "invalid URL: scheme must be http or https");
  TestHttpServer server(kOk);
  WebhookRequest request = sample_request(server.url("/"));
  request.headers.push_back({"X-Test", "a\r\nInjected: yes"});
  EXPECT_EQ(sender.post(request).error, "invalid header X-Test");
  EXPECT_EQ(server.connections(), 0);
}

}  // namespace
}  // namespace tessera::events
