#include "core/uuid.hpp"

#include "crypto/random.hpp"

namespace tessera {

std::string make_uuid_v7(Timestamp now) {
  unsigned char b[16];
  crypto::random_fill(b, sizeof b);
  uint64_t us = static_cast<uint64_t>(to_micros(now));
  uint64_t ms = us / 1000;
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  // rand_a carries the sub-millisecond part of the time (RFC 9562 6.2, method 3), so ids made one after
  // another within a millisecond still sort in creation order ("newest first" lists rely on it).
  uint64_t fraction = (us % 1000) * 4096 / 1000;
  b[6] = static_cast<unsigned char>(0x70 | (fraction >> 8));
  b[7] = static_cast<unsigned char>(fraction & 0xFF);
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3F));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xF]);
  }
  return out;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace tessera
