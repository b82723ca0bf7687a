// Time comes from an injectable clock so tests can drive expiry without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace tessera {

using Micros = std::chrono::microseconds;
using Timestamp = std::chrono::sys_time<Micros>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp now() const override {
    return std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now());
  }
};

// A clock that only moves when told to; for tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start) : now_(start.time_since_epoch().count()) {}
  Timestamp now() const override { return Timestamp(Micros(now_.load())); }
  void advance(Micros d) { now_ += d.count(); }

 private:
  std::atomic<int64_t> now_;
};

inline int64_t to_micros(Timestamp t) { return t.time_since_epoch().count(); }
inline Timestamp from_micros(int64_t us) { return Timestamp(Micros(us)); }

// RFC 3339 UTC with microseconds: 2026-11-24T10:00:00.123456Z
std::string format_rfc3339(Timestamp t);
// Accepts RFC 3339 with or without fraction, with Z or an offset. Returns false when malformed.
bool parse_rfc3339(std::string_view text, Timestamp& out);

}  // namespace tessera
