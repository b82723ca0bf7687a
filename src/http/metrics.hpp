// Prometheus metrics: requests by route and status, a latency histogram per route, and named
// counters and gauges registered by the services. Hot-path updates are relaxed atomics.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tessera::http {

class Metrics {
 public:
  static constexpr std::array<double, 13> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,    0.25,  0.5,    1,     2.5,  5};
  // `routes`: label of each route index; one extra "unmatched" slot is added.
  explicit Metrics(std::vector<std::string> routes);

  void observe(size_t route_index, int status, double seconds);
  size_t unmatched_index() const { return routes_.size() - 1; }

  std::atomic<uint64_t>& counter(const std::string& name, const std::string& help);
  void gauge(const std::string& name, const std::string& help, std::function<double()> read);

  std::string render() const;

 private:
  struct RouteStats {
    std::array<std::atomic<uint64_t>, 500> by_status{};  // index: status - 100
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets{};
    std::atomic<uint64_t> sum_micros{0};
  };
  struct Named {
    std::string name, help;
    std::unique_ptr<std::atomic<uint64_t>> counter;
    std::function<double()> gauge;
  };
  std::vector<std::string> routes_;
  std::unique_ptr<RouteStats[]> stats_;
  std::vector<Named> named_;
};

}  // namespace tessera::http
