// A bounded pool of threads for work that must never run on the I/O threads (password hashing, and
// request handlers when the database driver blocks). Coroutines await it; when the queue is full the
// caller gets an `overloaded` error at once instead of latency that grows without bound.
#pragma once

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace tessera {

class BlockingPool {
 public:
  // Made on each worker thread when it starts and kept until it ends (e.g. a helper process).
  using ThreadResource = std::function<std::shared_ptr<void>()>;

  // `nice` > 0 lowers the workers' CPU priority so that I/O threads (session checks) preempt them.
  BlockingPool(unsigned threads, unsigned queue_limit, int nice = 0, ThreadResource per_thread = nullptr)
      : work_(boost::asio::make_work_guard(context_)), threads_(threads), queue_limit_(queue_limit) {
    for (unsigned i = 0; i < threads; ++i)
      workers_.emplace_back([this, nice, per_thread] {
        if (nice != 0) setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice);
        std::shared_ptr<void> resource = per_thread ? per_thread() : nullptr;
        context_.run();
      });
  }
  ~BlockingPool() {
    work_.reset();  // let the workers finish queued jobs, then return
    for (auto& t : workers_) t.join();
  }

  // Jobs waiting or running.
  unsigned depth() const { return in_flight_.load(std::memory_order_relaxed); }
  unsigned capacity() const { return threads_ + queue_limit_; }

  // Runs fn() on a pool thread and resumes the awaiting coroutine on its own executor.
  // Returns std::nullopt when the pool is full (the caller answers 503).
  template <class F>
  boost::asio::awaitable<std::optional<std::invoke_result_t<F>>> run(F fn) {
    using R = std::invoke_result_t<F>;
    auto seat = take_seat();
    if (!seat) co_return std::nullopt;
    auto initiate = [this, &fn](auto handler) {
      auto home = boost::asio::get_associated_executor(handler);
      boost::asio::post(context_, [fn = std::move(fn), handler = std::move(handler), home]() mutable {
        std::exception_ptr error;
        std::optional<R> value;
        try {
          value.emplace(fn());
        } catch (...) {
          error = std::current_exception();
        }
        boost::asio::post(home, [handler = std::move(handler), error, value = std::move(value)]() mutable {
          std::move(handler)(error, std::move(value));
        });
      });
    };
    std::optional<R> result = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                                   void(std::exception_ptr, std::optional<R>)>(
        initiate, boost::asio::use_awaitable);
    co_return result;
  }

  // Runs the coroutine `work` on the pool's threads (request handlers, when the store blocks) and
  // resumes the awaiting coroutine on its own executor. std::nullopt when the pool is full.
  template <class T>
  boost::asio::awaitable<std::optional<T>> run_awaitable(boost::asio::awaitable<T> work) {
    auto seat = take_seat();
    if (!seat) co_return std::nullopt;
    co_return co_await boost::asio::co_spawn(context_, std::move(work), boost::asio::use_awaitable);
  }

 private:
  // One of capacity()'s places, held while a job waits or runs.
  class Seat {
   public:
    explicit Seat(std::atomic<unsigned>& in_flight) : in_flight_(&in_flight) {}
    Seat(Seat&& other) noexcept : in_flight_(std::exchange(other.in_flight_, nullptr)) {}
    Seat(const Seat&) = delete;
    Seat& operator=(const Seat&) = delete;
    Seat& operator=(Seat&&) = delete;
    ~Seat() {
      if (in_flight_) in_flight_->fetch_sub(1, std::memory_order_relaxed);
    }

   private:
    std::atomic<unsigned>* in_flight_;
  };
  // A place, or std::nullopt when the pool is full.
  std::optional<Seat> take_seat() {
    if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= capacity()) {
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    return std::optional<Seat>(std::in_place, in_flight_);
  }

  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> workers_;
  unsigned threads_;
  unsigned queue_limit_;
  std::atomic<unsigned> in_flight_{0};
};

}  // namespace tessera
