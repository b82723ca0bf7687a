#include "core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <mutex>

#include "core/clock.hpp"

namespace tessera::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_mutex;

void append_json_string(std::string& out, std::string_view s) {
  out += boost::json::serialize(boost::json::string(s));
}
constexpr std::string_view kNames[] = {"debug", "info", "warn", "error"};
}  // namespace

void set_level(std::string_view level) {
  for (int i = 0; i < 4; ++i)
    if (kNames[i] == level) g_level = i;
}

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view msg, std::initializer_list<Field> fields,
           std::initializer_list<std::pair<std::string_view, long long>> numbers) {
  std::string line = "{\"time\":\"" + format_rfc3339(SystemClock().now()) + "\",\"level\":\"";
  line += kNames[static_cast<int>(level)];
  line += "\",\"msg\":";
  append_json_string(line, msg);
  for (auto& [k, v] : fields) {
    line += ',';
    append_json_string(line, k);
    line += ':';
    append_json_string(line, v);
  }
  for (auto& [k, v] : numbers) {
    line += ',';
    append_json_string(line, k);
    line += ':';
    line += std::to_string(v);
  }
  line += "}\n";
  std::lock_guard lock(g_mutex);
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

}  // namespace tessera::log
