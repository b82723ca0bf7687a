#include "core/clock.hpp"


namespace tessera {

std::string format_rfc3339(Timestamp t) {
  // Hand-formatted: it is on the hot path of every user object (snprintf cost more than the rest).
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  int64_t us = (t - day).count();
  auto put = [](char* p, int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10) p[i] = static_cast<char>('0' + v % 10);
  };
  std::string out = "0000-00-00T00:00:00.000000Z";
  put(&out[0], static_cast<int>(ymd.year()), 4);
  put(&out[5], static_cast<unsigned>(ymd.month()), 2);
  put(&out[8], static_cast<unsigned>(ymd.day()), 2);
  put(&out[11], us / 3600000000, 2);
  put(&out[14], us / 60000000 % 60, 2);
  put(&out[17], us / 1000000 % 60, 2);
  put(&out[20], us % 1000000, 6);
  return out;
}

namespace {
bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}
}  // namespace

bool parse_rfc3339(std::string_view s, Timestamp& out) {
  using namespace std::chrono;
  int y, mo, d, h, mi, sec;
  if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec))
    return false;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return false;
  size_t pos = 19;
  int64_t frac_us = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int ndigits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (ndigits < 6) frac_us = frac_us * 10 + (s[pos] - '0');
      ++ndigits;
      ++pos;
    }
    if (ndigits == 0) return false;
    for (int i = ndigits; i < 6; ++i) frac_us *= 10;
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) ||
        oh > 23 || om > 59)
      return false;
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  auto t = sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} - seconds{offset_s};
  out = time_point_cast<Micros>(t) + Micros(frac_us);
  return true;
}

}  // namespace tessera
