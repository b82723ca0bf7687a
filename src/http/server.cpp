#include "http/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <array>
#include <cctype>
#include <chrono>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "crypto/random.hpp"
#include "http/problem.hpp"
#include "store/store.hpp"

namespace tessera::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct Server::Connection {
  beast::tcp_stream stream;
  std::atomic<bool> busy{false};  // a request is being handled: let it finish on shutdown
  std::string client_ip;
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
};

namespace {

std::string make_request_id() {
  // splitmix64 over a random seed: request ids need uniqueness, not secrecy.
  thread_local uint64_t state = [] {
    uint64_t seed;
    crypto::random_fill(&seed, sizeof seed);
    return seed;
  }();
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (int i = 0; i < 16; ++i) id[i] = kHex[(z >> (4 * i)) & 0xF];
  return id;
}

bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

tcp::endpoint parse_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("listen address must be HOST:PORT, got " + listen);
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = std::stoi(listen.substr(colon + 1));
  if (port < 0 || port > 65535) throw std::invalid_argument("port out of range in " + listen);
  return tcp::endpoint(asio::ip::make_address(host), static_cast<uint16_t>(port));
}

// Errors the connection itself answers before any route runs.
Error read_error(const beast::error_code& ec) {
  if (ec == beast_http::error::body_limit)
    return Error::make(413, "payload_too_large", "The request body exceeds the server's limit.");
  if (ec == beast_http::error::header_limit)
    return Error::make(431, "headers_too_large", "The request headers exceed the server's limit.");
  return Error::bad_request("malformed_request", "The request is not valid HTTP/1.1.");
}

// After refusing a request whose body is still arriving (413), closing at once would reset the
// connection and the client, still sending, might never read the answer (RFC 9112 section 9.6).
// Close our side, then read and drop what comes for a short while.
asio::awaitable<void> discard_unread_input(beast::tcp_stream& stream) {
  constexpr size_t kMaxDiscard = 16u << 20;
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(std::chrono::seconds(2));
  std::array<char, 16384> sink;
  for (size_t total = 0; total < kMaxDiscard;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
    if (ec) break;
    total += n;
  }
}

// The body limit of the route a request goes to: its own, else the server's.
uint64_t body_limit_for(const Router& router, const Request& header, uint64_t server_limit) {
  std::string_view target = header.target();
  RequestContext probe{header, {}, {}, {}};
  auto match = router.match(header.method(), target.substr(0, target.find('?')), probe);
  return match.route && match.route->options.body_limit ? *match.route->options.body_limit : server_limit;
}

}  // namespace

Server::Server(const ServerConfig& config, const Router& router, Metrics& metrics, bool log_requests,
               BlockingPool* handler_pool)
    : config_(config), router_(router), metrics_(metrics), log_requests_(log_requests), handler_pool_(handler_pool),
      acceptor_(ioc_),
      signals_(ioc_, SIGINT, SIGTERM) {}

Server::~Server() = default;

std::string Server::bind() {
  tcp::endpoint ep = parse_listen(config_.listen);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  auto bound = acceptor_.local_endpoint();
  std::string host = bound.address().to_string();
  if (bound.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(bound.port());
}

void Server::run(unsigned threads) {
  signals_.async_wait([this](const beast::error_code& ec, int) {
    if (!ec) stop();
  });
  asio::co_spawn(ioc_, accept_loop(), asio::detached);
  // A handler that throws is a bug; it is logged and the thread goes back to serving, rather than
  // taking every connection down with the process.
  auto serve = [this] {
    if (handler_pool_) forbid_blocking_on_this_thread();  // the store's calls wait on the network
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        log::error("an I/O handler threw", {{"internal", e.what()}});
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back(serve);
  serve();
  for (auto& t : pool) t.join();
}

void Server::stop() {
  asio::post(ioc_, [this] {
    if (stopping_.exchange(true)) return;
    log::info("shutting down: no new connections, finishing in-flight requests");
    beast::error_code ignored;
    acceptor_.close(ignored);
    signals_.cancel(ignored);
    begin_drain();
  });
}

void Server::begin_drain() {
  auto deadline = std::chrono::steady_clock::now() + config_.shutdown_grace;
  auto timer = std::make_shared<asio::steady_timer>(ioc_);
  auto tick = std::make_shared<std::function<void()>>();
  *tick = [this, deadline, timer, tick] {
    size_t open = 0;
    {
      std::lock_guard lock(connections_mutex_);
      for (auto it = connections_.begin(); it != connections_.end();) {
        auto conn = it->second.lock();
        if (!conn) {
          it = connections_.erase(it);
          continue;
        }
        ++open;
        bool force = std::chrono::steady_clock::now() >= deadline;
        // Idle connections (waiting for a request, none arriving) close now; busy ones, and ones whose
        // request has already arrived, after their response.
        asio::post(conn->stream.get_executor(), [conn, force] {
          auto& socket = conn->stream.socket();
          if (!socket.is_open()) return;  // the connection finished meanwhile
          beast::error_code ec;
          bool request_waiting = socket.available(ec) > 0;
          // The error_code overload: nothing may throw out of a handler (it would end io_context::run).
          if (force || (!conn->busy && !request_waiting)) socket.cancel(ec);
        });
        ++it;
      }
    }
    if (open == 0 || std::chrono::steady_clock::now() >= deadline + std::chrono::milliseconds(200)) {
      ioc_.stop();
      *tick = nullptr;  // break the self-reference
      return;
    }
    timer->expires_after(std::chrono::milliseconds(20));
    timer->async_wait([tick](const beast::error_code&) {
      if (*tick) (*tick)();
    });
  };
  (*tick)();
}

asio::awaitable<void> Server::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), kTuple);
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) co_return;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    auto conn = std::make_shared<Connection>(std::move(socket));
    {
      std::lock_guard lock(connections_mutex_);
      if (connections_.size() >= config_.max_connections) {
        // Clean up dead entries once before refusing.
        std::erase_if(connections_, [](auto& kv) { return kv.second.expired(); });
        if (connections_.size() >= config_.max_connections) continue;  // dropping `conn` closes it
      }
      connections_.emplace(next_connection_id_++, conn);
    }
    beast::error_code ignored;
    auto remote = conn->stream.socket().remote_endpoint(ignored);
    conn->client_ip = remote.address().to_string();
    asio::co_spawn(conn->stream.get_executor(), serve(conn), asio::detached);
  }
}

asio::awaitable<void> Server::serve(std::shared_ptr<Connection> conn) {
  beast::flat_buffer buffer;
  auto& stream = conn->stream;
  for (;;) {
    beast_http::request_parser<beast_http::string_body> parser;
    parser.body_limit(boost::none);  // set once the header names the route (routes may allow more)
    parser.header_limit(static_cast<uint32_t>(config_.header_limit));
    beast::error_code pending_ec;
    if (stopping_ && buffer.size() == 0 && stream.socket().available(pending_ec) == 0) break;  // nothing more was asked
    stream.expires_after(config_.idle_timeout);
    auto [hec, hn] = co_await beast_http::async_read_header(stream, buffer, parser, kTuple);
    std::optional<Error> refused;
    if (hec) {
      if (hec == beast_http::error::end_of_stream || hec == asio::error::operation_aborted ||
          hec == beast::error::timeout || hec == asio::error::connection_reset)
        break;
      refused = read_error(hec);
    }
    if (!refused && !parser.is_done()) {
      uint64_t limit = body_limit_for(router_, parser.get(), config_.body_limit);
      parser.body_limit(limit);
      // The parser checks Content-Length against the limit only while reading the header.
      if (parser.content_length().value_or(0) > limit) refused = read_error(beast_http::error::body_limit);
    }
    conn->busy = true;
    if (!refused && !parser.is_done()) {
      auto& header = parser.get();
      if (beast::iequals(header[beast_http::field::expect], "100-continue")) {
        beast_http::response<beast_http::empty_body> cont{beast_http::status::continue_, 11};
        stream.expires_after(config_.write_timeout);
        co_await beast_http::async_write(stream, cont, kTuple);
      }
      stream.expires_after(config_.read_timeout);
      auto [bec, bn] = co_await beast_http::async_read(stream, buffer, parser, kTuple);
      if (bec == beast::error::timeout || bec == asio::error::operation_aborted ||
          bec == beast_http::error::end_of_stream || bec == asio::error::connection_reset)
        break;
      if (bec) refused = read_error(bec);
    }
    bool keep_alive = false;
    Response res;
    if (refused) {
      std::string request_id = make_request_id();
      res = problem_response(*refused, request_id);
      res.set("X-Request-Id", request_id);
      res.keep_alive(false);
    } else {
      res = co_await respond(parser.get(), conn->client_ip, keep_alive);
    }
    stream.expires_after(config_.write_timeout);
    auto [wec, wn] = co_await beast_http::async_write(stream, res, kTuple);
    conn->busy = false;
    if (refused && !wec) co_await discard_unread_input(stream);
    if (wec || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
}

// std::nullopt when the handler reached a store call, which must wait: it then runs on the handler pool.
asio::awaitable<std::optional<Result<Response>>> Server::try_inline(const Route& route, RequestContext& ctx) {
  try {
    co_return co_await route.handler(ctx);
  } catch (const WouldBlock&) {
    co_return std::nullopt;
  }
}

asio::awaitable<Response> Server::respond(const Request& req, const std::string& client_ip, bool& keep_alive) {
  auto started = std::chrono::steady_clock::now();
  RequestContext ctx{req, {}, client_ip, {}};
  auto incoming_id = ctx.header("X-Request-Id");
  ctx.request_id = acceptable_request_id(incoming_id) ? std::string(incoming_id) : make_request_id();

  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  auto match = router_.match(req.method(), path, ctx);
  size_t route_index = metrics_.unmatched_index();
  Result<Response> result = fail(match.error);
  if (match.route) {
    route_index = match.route->index;
    try {
      if (!handler_pool_) {
        result = co_await match.route->handler(ctx);
      } else {
        std::optional<Result<Response>> done;
        if (match.route->options.inline_first) done = co_await try_inline(*match.route, ctx);
        if (!done) done = co_await handler_pool_->run_awaitable(match.route->handler(ctx));
        result = done ? std::move(*done)
                      : fail(Error::unavailable("overloaded", "Too many requests are in progress; retry shortly.", 1));
      }
    } catch (const store::StoreFailure& e) {
      result = fail(Error::internal_error(e.what()));
    } catch (const WouldBlock&) {  // a bug: only inline_first routes run on the I/O threads
      result = fail(Error::internal_error("a store call on an I/O thread"));
    } catch (const std::exception& e) {
      result = fail(Error::internal_error(std::string("unhandled: ") + e.what()));
    }
  }
  Response res;
  if (result) {
    res = std::move(*result);
  } else {
    res = problem_response(result.error(), ctx.request_id);
    if (result.error().status == 405) res.set(beast_http::field::allow, result.error().internal);
  }
  res.set("X-Request-Id", ctx.request_id);
  keep_alive = req.keep_alive() && !stopping_;
  res.keep_alive(keep_alive);
  if (req.method() == beast_http::verb::head) {
    res.content_length(res.body().size());
    res.body().clear();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  int status = res.result_int();
  metrics_.observe(route_index, status, seconds);
  if (log_requests_ && log::enabled(status >= 500 ? log::Level::error : log::Level::info)) {
    log::write(status >= 500 ? log::Level::error : log::Level::info, "request",
               {{"request_id", ctx.request_id},
                {"method", std::string_view(req.method_string())},
                {"path", path},
                {"route", match.route ? std::string_view(match.route->pattern) : std::string_view("unmatched")},
                {"ip", client_ip}},
               {{"status", status}, {"duration_us", static_cast<long long>(seconds * 1e6)}});
  }
  co_return res;
}

}  // namespace tessera::http
