#include "store/sql/sql_context_store.hpp"

namespace tessera::store::sql {

using contexts::Context;
using contexts::Member;

namespace {

#define CONTEXT_COLUMNS \
  "c.id, c.project_id, c.name, c.description, c.created_at, c.updated_at, " \
  "(SELECT count(*) FROM context_members m WHERE m.context_id = c.id) "

Context context_from(const Statement& st) {
  return Context{st.text(0), st.text(1), st.text(2), st.text(3), st.integer(6), st.time(4), st.time(5)};
}

Member member_from(const Statement& st) {
  return Member{st.text(0), st.text(1), st.text(2), st.text(3), st.time(4), st.time(5)};
}

void bind_optional(Statement& st, int index, std::optional<std::string_view> v) {
  if (v) st.bind(index, *v);
  else st.bind_null(index);
}

}  // namespace

void SqlContextStore::insert(const Context& c) {
  auto st = conn_.prepare(
      "INSERT INTO contexts (id, project_id, name, description, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  st.bind(1, c.id).bind(2, c.project_id).bind(3, c.name).bind(4, c.description).bind(5, c.created_at).bind(6, c.updated_at).run();
}

std::optional<Context> SqlContextStore::find(std::string_view project_id, std::string_view id) {
  auto st = conn_.prepare("SELECT " CONTEXT_COLUMNS "FROM contexts c WHERE c.project_id = ?1 AND c.id = ?2");
  st.bind(1, project_id).bind(2, id);
  if (!st.step()) return std::nullopt;
  return context_from(st);
}

std::vector<Context> SqlContextStore::list(std::string_view project_id, std::optional<std::string_view> member_id,
                                              size_t limit, std::optional<std::string_view> before_id) {
  auto st = conn_.prepare("SELECT " CONTEXT_COLUMNS
                          "FROM contexts c WHERE c.project_id = ?1 AND (EXISTS (SELECT 1 FROM "
                          "context_members m WHERE m.context_id = c.id AND m.user_id = ?2) OR ?2 IS NULL) "
                          "AND (c.id < ?3 OR ?3 IS NULL) ORDER BY c.id DESC LIMIT ?4");
  st.bind(1, project_id);
  bind_optional(st, 2, member_id);
  bind_optional(st, 3, before_id);
  st.bind(4, static_cast<int64_t>(limit));
  std::vector<Context> out;
  while (st.step()) out.push_back(context_from(st));
  return out;
}

bool SqlContextStore::remove(std::string_view project_id, std::string_view id) {
  conn_.prepare("DELETE FROM contexts WHERE project_id = ?1 AND id = ?2").bind(1, project_id).bind(2, id).run();
  return conn_.changes() > 0;
}

std::optional<Member> SqlContextStore::find_member(std::string_view context_id, std::string_view user_id) {
  auto st = conn_.prepare(
      "SELECT context_id, user_id, public_key, key_type, added_at, updated_at FROM context_members "
      "WHERE context_id = ?1 AND user_id = ?2");
  st.bind(1, context_id).bind(2, user_id);
  if (!st.step()) return std::nullopt;
  return member_from(st);
}

void SqlContextStore::put_member(const Member& m) {
  auto st = conn_.prepare(
      "INSERT INTO context_members (context_id, user_id, public_key, key_type, added_at, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (context_id, user_id) DO UPDATE SET "
      "public_key = excluded.public_key, key_type = excluded.key_type, updated_at = excluded.updated_at");
  st.bind(1, m.context_id).bind(2, m.user_id).bind(3, m.public_key).bind(4, m.key_type).bind(5, m.added_at);
  st.bind(6, m.updated_at).run();
}

bool SqlContextStore::remove_member(std::string_view context_id, std::string_view user_id) {
  conn_.prepare("DELETE FROM context_members WHERE context_id = ?1 AND user_id = ?2").bind(1, context_id).bind(2, user_id).run();
  return conn_.changes() > 0;
}

std::vector<Member> SqlContextStore::members(std::string_view context_id, size_t limit,
                                                const std::optional<std::pair<Timestamp, std::string>>& after) {
  auto st = conn_.prepare(
      "SELECT context_id, user_id, public_key, key_type, added_at, updated_at FROM context_members "
      "WHERE context_id = ?1 AND ((added_at, user_id) > (?2, ?3) OR ?2 IS NULL) ORDER BY added_at, user_id LIMIT ?4");
  st.bind(1, context_id);
  if (after) st.bind(2, after->first).bind(3, after->second);
  else st.bind_null(2).bind_null(3);
  st.bind(4, static_cast<int64_t>(limit));
  std::vector<Member> out;
  while (st.step()) out.push_back(member_from(st));
  return out;
}

std::vector<Member> SqlContextStore::keys_of(std::string_view project_id, std::string_view user_id, size_t limit) {
  auto st = conn_.prepare(
      "SELECT m.context_id, m.user_id, m.public_key, m.key_type, m.added_at, m.updated_at FROM context_members m "
      "JOIN contexts c ON c.id = m.context_id WHERE m.user_id = ?1 AND c.project_id = ?2 ORDER BY m.updated_at DESC LIMIT ?3");
  st.bind(1, user_id).bind(2, project_id).bind(3, static_cast<int64_t>(limit));
  std::vector<Member> out;
  while (st.step()) out.push_back(member_from(st));
  return out;
}

void SqlContextStore::insert_challenge(const contexts::KeyChallenge& c) {
  auto st = conn_.prepare(
      "INSERT INTO key_challenges (id, project_id, user_id, context_id, message, expires_at, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  st.bind(1, c.id).bind(2, c.project_id).bind(3, c.user_id).bind(4, c.context_id).bind_blob(5, c.message);
  st.bind(6, c.expires_at).bind(7, c.created_at).run();
}

std::optional<contexts::KeyChallenge> SqlContextStore::consume_challenge(std::string_view id) {
  auto st = conn_.prepare(
      "DELETE FROM key_challenges WHERE id = ?1 RETURNING id, project_id, user_id, context_id, message, expires_at, created_at");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  contexts::KeyChallenge c{st.text(0), st.text(1), st.optional_text(2), st.optional_text(3), st.blob(4), st.time(5), st.time(6)};
  while (st.step()) {
  }
  return c;
}

uint64_t SqlContextStore::remove_expired_challenges(Timestamp now) {
  conn_.prepare("DELETE FROM key_challenges WHERE expires_at <= ?1").bind(1, now).run();
  return static_cast<uint64_t>(conn_.changes());
}

}  // namespace tessera::store::sql
