// Blocking store calls never run on the I/O threads (core/would_block.hpp): a blocking store refuses a
// call made on a marked thread before doing anything, and http::Server then runs an inline_first
// route again on its handler pool; other routes go to the pool at once. A real server on port 0,
// spoken to over HTTP.
#include "core/would_block.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <string>
#include <thread>

#include "core/blocking_pool.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "store/store.hpp"

namespace tessera {
namespace {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;

// A store that blocks (as PostgreSQL's does) and counts the transactions it was asked to run.
class BlockingStore final : public store::Store {
 public:
  bool blocking() const override { return true; }
  std::atomic<int> transactions{0};

 protected:
  void transact(bool, const std::function<bool(store::Repositories&)>&) override { ++transactions; }
};

TEST(WouldBlock, ABlockingStoreRefusesAMarkedThreadBeforeDoingAnything) {
  BlockingStore store;
  std::thread marked([&] {
    forbid_blocking_on_this_thread();
    EXPECT_THROW(store.read([](store::Repositories&) {}), WouldBlock);
    EXPECT_THROW(store.write([](store::Repositories&) {}), WouldBlock);
  });
  marked.join();
  EXPECT_EQ(store.transactions, 0);
  store.read([](store::Repositories&) {});  // this thread is not marked
  EXPECT_EQ(store.transactions, 1);
}

// How often a handler started, and how often on a thread where blocking is forbidden (an I/O thread).
struct Runs {
  std::atomic<int> started{0};
  std::atomic<int> on_io_thread{0};
  void note() {
    ++started;
    if (detail::blocking_forbidden) ++on_io_thread;
  }
};

class ServerOnABlockingStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto route = [](Runs& runs, bool calls_store) {
      return [&runs, calls_store](http::RequestContext&) -> http::HandlerResult {
        runs.note();
        if (calls_store) check_may_block();  // what every store call of a blocking store does first
        co_return http::text_response(beast_http::status::ok, "done", "text/plain");
      };
    };
    router_.add(beast_http::verb::get, "/inline-cached", route(inline_cached_, false), {.inline_first = true});
    router_.add(beast_http::verb::get, "/inline-store", route(inline_store_, true), {.inline_first = true});
    router_.add(beast_http::verb::get, "/pooled", route(pooled_, true));
    ServerConfig config;
    config.listen = "127.0.0.1:0";
    config.threads = 2;
    server_ = std::make_unique<http::Server>(config, router_, metrics_, false, &pool_);
    address_ = server_->bind();
    runner_ = std::thread([this] { server_->run(2); });
  }
  void TearDown() override {
    server_->stop();
    runner_.join();
  }

  std::string get(const std::string& target) {
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    auto colon = address_.rfind(':');
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address(address_.substr(0, colon)),
                                     static_cast<unsigned short>(std::stoi(address_.substr(colon + 1))));
    socket.connect(endpoint);
    beast_http::request<beast_http::string_body> req{beast_http::verb::get, target, 11};
    req.set(beast_http::field::host, "localhost");
    beast_http::write(socket, req);
    boost::beast::flat_buffer buffer;
    beast_http::response<beast_http::string_body> res;
    beast_http::read(socket, buffer, res);
    return std::to_string(res.result_int()) + " " + res.body();
  }

  Runs inline_cached_, inline_store_, pooled_;
  http::Router router_;
  http::Metrics metrics_{{"/inline-cached", "/inline-store", "/pooled"}};
  BlockingPool pool_{2, 16};
  std::unique_ptr<http::Server> server_;
  std::string address_;
  std::thread runner_;
};

TEST_F(ServerOnABlockingStore, AnInlineFirstRouteWithoutStoreCallsRunsOnceOnAnIoThread) {
  EXPECT_EQ(get("/inline-cached"), "200 done");
  EXPECT_EQ(inline_cached_.started, 1);
  EXPECT_EQ(inline_cached_.on_io_thread, 1);
}

TEST_F(ServerOnABlockingStore, AnInlineFirstRouteThatReachesTheStoreRunsAgainOnThePool) {
  EXPECT_EQ(get("/inline-store"), "200 done");
  EXPECT_EQ(inline_store_.started, 2);  // refused on the I/O thread, then completed on the pool
  EXPECT_EQ(inline_store_.on_io_thread, 1);
}

TEST_F(ServerOnABlockingStore, OtherRoutesRunOnlyOnThePool) {
  // On an I/O thread the store call would be refused, and the answer would be a 500.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(get("/pooled"), "200 done");
  EXPECT_EQ(pooled_.started, 4);
  EXPECT_EQ(pooled_.on_io_thread, 0);
}

}  // namespace
}  // namespace tessera
