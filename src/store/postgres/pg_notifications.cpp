#include "store/postgres/pg_notifications.hpp"

#include <array>
#include <charconv>

#include "crypto/random.hpp"

namespace tessera::store::postgres {

namespace {

std::optional<std::string> hex_decode(std::string_view hex) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

}  // namespace

std::string encode_changes(std::string_view node_id, const std::vector<Change>& changes) {
  std::string out(node_id);
  for (const Change& c : changes)
    out += "\n" + std::to_string(static_cast<int>(c.topic)) + ":" + crypto::hex_encode(c.key);
  if (out.size() <= kMaxNotificationPayload) return out;
  std::array<bool, kTopicCount> touched{};
  for (const Change& c : changes) touched[static_cast<size_t>(c.topic)] = true;
  out = node_id;
  for (size_t t = 0; t < kTopicCount; ++t)
    if (touched[t]) out += "\n" + std::to_string(t) + ":";
  return out;
}

std::vector<Change> decode_changes(std::string_view payload, std::string_view own_node_id) {
  std::vector<Change> out;
  auto line_end = payload.find('\n');
  if (payload.substr(0, line_end) == own_node_id) return out;
  while (line_end != std::string_view::npos) {
    payload.remove_prefix(line_end + 1);
    line_end = payload.find('\n');
    std::string_view entry = payload.substr(0, line_end);
    auto colon = entry.find(':');
    int topic = -1;
    if (colon == std::string_view::npos) continue;
    auto [end, ec] = std::from_chars(entry.data(), entry.data() + colon, topic);
    if (ec != std::errc() || end != entry.data() + colon || topic < 0 || static_cast<size_t>(topic) >= kTopicCount)
      continue;
    auto key = hex_decode(entry.substr(colon + 1));
    if (!key) continue;
    out.push_back(Change{static_cast<Topic>(topic), std::move(*key)});
  }
  return out;
}

}  // namespace tessera::store::postgres
