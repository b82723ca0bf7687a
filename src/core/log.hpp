// Structured logs: one JSON object per line on stderr, with a request id whenever there is one.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace tessera::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(std::string_view level);
bool enabled(Level level);

using Field = std::pair<std::string_view, std::string_view>;
// Numbers are passed as text and written as JSON numbers when `raw` keys are used; keep it simple:
// every value is written as a JSON string except those in `numbers`.
void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {},
           std::initializer_list<std::pair<std::string_view, long long>> numbers = {});

inline void info(std::string_view msg, std::initializer_list<Field> f = {},
                 std::initializer_list<std::pair<std::string_view, long long>> n = {}) {
  if (enabled(Level::info)) write(Level::info, msg, f, n);
}
inline void warn(std::string_view msg, std::initializer_list<Field> f = {},
                 std::initializer_list<std::pair<std::string_view, long long>> n = {}) {
  if (enabled(Level::warn)) write(Level::warn, msg, f, n);
}
inline void error(std::string_view msg, std::initializer_list<Field> f = {},
                  std::initializer_list<std::pair<std::string_view, long long>> n = {}) {
  if (enabled(Level::error)) write(Level::error, msg, f, n);
}

}  // namespace tessera::log
