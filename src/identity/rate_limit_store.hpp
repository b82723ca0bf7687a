// Fixed-window request counters, kept in the database so that every node counts the same requests.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/clock.hpp"

namespace tessera::identity {

struct RateWindow {
  Timestamp start;
  int64_t hits = 0;
};

class RateLimitStore {
 public:
  virtual ~RateLimitStore() = default;
  // Counts one hit for `key_hash`: in its current window, or in a new window starting at `now` when
  // the current one started at or before `stale_before`. Returns the window after the hit.
  virtual RateWindow hit(std::string_view key_hash, Timestamp now, Timestamp stale_before) = 0;
  // Drops windows that started at or before `stale_before`; returns how many.
  virtual uint64_t remove_stale(Timestamp stale_before) = 0;
};

}  // namespace tessera::identity
