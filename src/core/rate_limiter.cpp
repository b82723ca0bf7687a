#include "core/rate_limiter.hpp"

namespace tessera {

RateLimiter::RateLimiter(unsigned limit, Micros window, size_t capacity)
    : limit_(limit), window_(window), capacity_(capacity) {}

std::optional<Micros> RateLimiter::hit(const std::string& key, Timestamp now) {
  std::lock_guard lock(mutex_);
  auto it = windows_.find(key);
  if (it == windows_.end()) {
    if (windows_.size() >= capacity_) std::erase_if(windows_, [&](auto& kv) { return now - kv.second.start >= window_; });
    if (windows_.size() >= capacity_) return window_;
    it = windows_.emplace(key, Window{now, 0}).first;
  }
  Window& w = it->second;
  if (now - w.start >= window_) w = Window{now, 0};
  if (w.count >= limit_) return w.start + window_ - now;
  ++w.count;
  return std::nullopt;
}

}  // namespace tessera
