// The HTTP/1.1 server: Boost.Beast on Asio with C++20 coroutines, one I/O thread per core.
// Each connection loops read -> handle -> write with timeouts and size limits; SIGTERM/SIGINT stop
// accepting, let in-flight requests finish (up to the grace period) and then stop the threads.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/blocking_pool.hpp"
#include "core/would_block.hpp"
#include "core/config.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"

namespace tessera::http {

class Server {
 public:
  // `handler_pool`: when set, handlers run there instead of on the I/O threads (their store calls block).
  Server(const ServerConfig& config, const Router& router, Metrics& metrics, bool log_requests,
         BlockingPool* handler_pool = nullptr);
  ~Server();

  // Binds; returns the bound address ("127.0.0.1:41234"), useful with port 0.
  std::string bind();
  // Runs until a stop signal and the drain complete.
  void run(unsigned threads);
  void stop();

 private:
  struct Connection;
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(std::shared_ptr<Connection> conn);
  boost::asio::awaitable<Response> respond(const Request& req, const std::string& client_ip, bool& keep_alive);
  boost::asio::awaitable<std::optional<Result<Response>>> try_inline(const Route& route, RequestContext& ctx);
  void begin_drain();

  ServerConfig config_;
  const Router& router_;
  Metrics& metrics_;
  bool log_requests_;
  BlockingPool* handler_pool_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::signal_set signals_;
  std::atomic<bool> stopping_{false};
  std::mutex connections_mutex_;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections_;
  uint64_t next_connection_id_ = 0;
};

}  // namespace tessera::http
