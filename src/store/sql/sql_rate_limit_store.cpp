#include "store/sql/sql_rate_limit_store.hpp"

namespace tessera::store::sql {

// One statement, so that concurrent hits on one key (from any node) are counted by the database.
identity::RateWindow SqlRateLimitStore::hit(std::string_view key_hash, Timestamp now, Timestamp stale_before) {
  auto st = conn_.prepare(
      "INSERT INTO rate_limits (key_hash, window_start, hits) VALUES (?1, ?2, 1) "
      "ON CONFLICT (key_hash) DO UPDATE SET "
      "hits = CASE WHEN rate_limits.window_start <= ?3 THEN 1 ELSE rate_limits.hits + 1 END, "
      "window_start = CASE WHEN rate_limits.window_start <= ?3 THEN ?2 ELSE rate_limits.window_start END "
      "RETURNING window_start, hits");
  st.bind_blob(1, key_hash).bind(2, now).bind(3, stale_before);
  if (!st.step()) return {now, 1};
  return {st.time(0), st.integer(1)};
}

uint64_t SqlRateLimitStore::remove_stale(Timestamp stale_before) {
  conn_.prepare("DELETE FROM rate_limits WHERE window_start <= ?1").bind(1, stale_before).run();
  return static_cast<uint64_t>(conn_.changes());
}

}  // namespace tessera::store::sql
