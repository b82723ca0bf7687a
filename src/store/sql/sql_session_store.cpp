#include "store/sql/sql_session_store.hpp"

namespace tessera::store::sql {

using session::Session;

namespace {
#define SESSION_COLUMNS \
  "id, project_id, user_id, token_hash, created_at, expires_at, idle_expires_at, last_used_at, ip, user_agent"

Session read_session(const Statement& s) {
  Session x;
  x.id = s.text(0);
  x.project_id = s.text(1);
  x.user_id = s.text(2);
  x.token_hash = s.blob(3);
  x.created_at = s.time(4);
  x.expires_at = s.time(5);
  x.idle_expires_at = s.time(6);
  x.last_used_at = s.time(7);
  x.ip = s.text(8);
  x.user_agent = s.text(9);
  return x;
}
}  // namespace

void SqlSessionStore::insert(const Session& s) {
  auto st = conn_.prepare("INSERT INTO sessions (" SESSION_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  st.bind(1, s.id).bind(2, s.project_id).bind(3, s.user_id).bind_blob(4, s.token_hash).bind(5, s.created_at);
  st.bind(6, s.expires_at).bind(7, s.idle_expires_at).bind(8, s.last_used_at).bind(9, s.ip).bind(10, s.user_agent);
  st.run();
}

std::optional<Session> SqlSessionStore::find_by_token_hash(std::string_view token_hash) {
  auto st = conn_.prepare("SELECT " SESSION_COLUMNS " FROM sessions WHERE token_hash = ?1");
  st.bind_blob(1, token_hash);
  if (!st.step()) return std::nullopt;
  return read_session(st);
}

std::vector<Session> SqlSessionStore::list_for_user(std::string_view user_id, size_t limit,
                                                       std::optional<std::string_view> before_id) {
  auto st = conn_.prepare("SELECT " SESSION_COLUMNS
                          " FROM sessions WHERE user_id = ?1 AND (id < ?2 OR ?2 IS NULL) ORDER BY id DESC LIMIT ?3");
  st.bind(1, user_id);
  if (before_id) st.bind(2, *before_id);
  else st.bind_null(2);
  st.bind(3, static_cast<int64_t>(limit));
  std::vector<Session> out;
  while (st.step()) out.push_back(read_session(st));
  return out;
}

std::optional<std::string> SqlSessionStore::remove(std::string_view user_id, std::string_view session_id) {
  auto st = conn_.prepare("DELETE FROM sessions WHERE id = ?1 AND user_id = ?2 RETURNING token_hash");
  st.bind(1, session_id).bind(2, user_id);
  if (!st.step()) return std::nullopt;
  std::string hash = st.blob(0);
  st.run();
  return hash;
}

std::vector<session::RemovedSession> SqlSessionStore::remove_for_user(
    std::string_view user_id, std::optional<std::string_view> except_session_id) {
  auto st = conn_.prepare("DELETE FROM sessions WHERE user_id = ?1 AND (id <> ?2 OR ?2 IS NULL) RETURNING id, token_hash");
  st.bind(1, user_id);
  if (except_session_id) st.bind(2, *except_session_id);
  else st.bind_null(2);
  std::vector<session::RemovedSession> removed;
  while (st.step()) removed.push_back({st.text(0), st.blob(1)});
  return removed;
}

void SqlSessionStore::touch(std::string_view session_id, Timestamp idle_expires_at, Timestamp last_used_at) {
  auto st = conn_.prepare("UPDATE sessions SET idle_expires_at = ?2, last_used_at = ?3 WHERE id = ?1");
  st.bind(1, session_id).bind(2, idle_expires_at).bind(3, last_used_at).run();
}

uint64_t SqlSessionStore::remove_expired(Timestamp idle_cutoff, Timestamp now) {
  auto st = conn_.prepare("DELETE FROM sessions WHERE idle_expires_at <= ?1 OR expires_at <= ?2");
  st.bind(1, idle_cutoff).bind(2, now).run();
  return static_cast<uint64_t>(conn_.changes());
}

uint64_t SqlSessionStore::count_active(Timestamp now) {
  auto st = conn_.prepare("SELECT count(*) FROM sessions WHERE idle_expires_at > ?1 AND expires_at > ?1");
  st.bind(1, now);
  st.step();
  return static_cast<uint64_t>(st.integer(0));
}

}  // namespace tessera::store::sql
