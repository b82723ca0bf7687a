// Fixed-window request counters by key (an email address, a client address), in memory and bounded:
// when full, expired windows are dropped; if none is expired, new keys are refused rather than
// letting an attacker reset others' counters by flooding the table.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"

namespace tessera {

class RateLimiter {
 public:
  RateLimiter(unsigned limit, Micros window, size_t capacity = 100000);

  // Counts one request for `key`. nullopt when allowed, else how long until the window ends.
  std::optional<Micros> hit(const std::string& key, Timestamp now);

 private:
  struct Window {
    Timestamp start;
    unsigned count = 0;
  };
  unsigned limit_;
  Micros window_;
  size_t capacity_;
  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace tessera
