#include "http/metrics.hpp"

#include <cstdio>

namespace tessera::http {

Metrics::Metrics(std::vector<std::string> routes) : routes_(std::move(routes)) {
  routes_.push_back("unmatched");
  stats_ = std::make_unique<RouteStats[]>(routes_.size());
}

void Metrics::observe(size_t route, int status, double seconds) {
  RouteStats& s = stats_[route < routes_.size() ? route : unmatched_index()];
  if (status >= 100 && status < 600) s.by_status[status - 100].fetch_add(1, std::memory_order_relaxed);
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  s.buckets[b].fetch_add(1, std::memory_order_relaxed);
  s.sum_micros.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::atomic<uint64_t>& Metrics::counter(const std::string& name, const std::string& help) {
  named_.push_back({name, help, std::make_unique<std::atomic<uint64_t>>(0), nullptr});
  return *named_.back().counter;
}

void Metrics::gauge(const std::string& name, const std::string& help, std::function<double()> read) {
  named_.push_back({name, help, nullptr, std::move(read)});
}

std::string Metrics::render() const {
  std::string out;
  char buf[256];
  out += "# HELP tessera_http_requests_total HTTP requests by route and status.\n";
  out += "# TYPE tessera_http_requests_total counter\n";
  for (size_t r = 0; r < routes_.size(); ++r)
    for (int st = 0; st < 500; ++st)
      if (uint64_t n = stats_[r].by_status[st].load(std::memory_order_relaxed)) {
        std::snprintf(buf, sizeof buf, "tessera_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                      routes_[r].c_str(), st + 100, static_cast<unsigned long long>(n));
        out += buf;
      }
  out += "# HELP tessera_http_request_duration_seconds Time from a complete request to its response.\n";
  out += "# TYPE tessera_http_request_duration_seconds histogram\n";
  for (size_t r = 0; r < routes_.size(); ++r) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) cumulative += stats_[r].buckets[b].load(std::memory_order_relaxed);
    if (cumulative == 0) continue;
    uint64_t running = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      running += stats_[r].buckets[b].load(std::memory_order_relaxed);
      if (b < kBuckets.size())
        std::snprintf(buf, sizeof buf, "tessera_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                      routes_[r].c_str(), kBuckets[b], static_cast<unsigned long long>(running));
      else
        std::snprintf(buf, sizeof buf, "tessera_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                      routes_[r].c_str(), static_cast<unsigned long long>(running));
      out += buf;
    }
    std::snprintf(buf, sizeof buf,
                  "tessera_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                  "tessera_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                  routes_[r].c_str(), stats_[r].sum_micros.load() / 1e6, routes_[r].c_str(),
                  static_cast<unsigned long long>(running));
    out += buf;
  }
  for (auto& n : named_) {
    out += "# HELP " + n.name + " " + n.help + "\n";
    out += "# TYPE " + n.name + (n.counter ? " counter\n" : " gauge\n");
    if (n.counter) std::snprintf(buf, sizeof buf, "%s %llu\n", n.name.c_str(), static_cast<unsigned long long>(n.counter->load()));
    else std::snprintf(buf, sizeof buf, "%s %g\n", n.name.c_str(), n.gauge());
    out += buf;
  }
  return out;
}

}  // namespace tessera::http
