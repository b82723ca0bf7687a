#include "store/sql/json_columns.hpp"
#include "store/sql/sql_credential_stores.hpp"

namespace tessera::store::sql {

using session::PersonalToken;

namespace {
#define PAT_COLUMNS "id, project_id, user_id, name, permissions, expires_at, created_at, last_used_at"
PersonalToken read_token(const Statement& s) {
  return PersonalToken{s.text(0), s.text(1), s.text(2), s.text(3), access::PermissionSet(from_json_array(s.text(4))),
                       s.time(5), s.time(6), s.optional_time(7)};
}
}  // namespace

void SqlPersonalTokenStore::insert(const PersonalToken& t, std::string_view token_hash) {
  auto st = conn_.prepare("INSERT INTO personal_access_tokens (" PAT_COLUMNS
                          ", token_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  st.bind(1, t.id).bind(2, t.project_id).bind(3, t.user_id).bind(4, t.name).bind(5, to_json_array(t.permissions.list()));
  st.bind(6, t.expires_at).bind(7, t.created_at).bind(8, t.last_used_at).bind_blob(9, token_hash).run();
}

std::optional<PersonalToken> SqlPersonalTokenStore::find_by_hash(std::string_view token_hash) {
  auto st = conn_.prepare("SELECT " PAT_COLUMNS " FROM personal_access_tokens WHERE token_hash = ?1");
  st.bind_blob(1, token_hash);
  if (!st.step()) return std::nullopt;
  return read_token(st);
}

std::vector<PersonalToken> SqlPersonalTokenStore::list_for_user(std::string_view user_id, size_t limit,
                                                                   std::optional<std::string_view> after_id) {
  auto st = conn_.prepare("SELECT " PAT_COLUMNS " FROM personal_access_tokens WHERE user_id = ?1 AND (id > ?2 OR ?2 IS NULL) "
                          "ORDER BY id LIMIT ?3");
  st.bind(1, user_id);
  if (after_id) st.bind(2, *after_id);
  else st.bind_null(2);
  st.bind(3, static_cast<int64_t>(limit));
  std::vector<PersonalToken> out;
  while (st.step()) out.push_back(read_token(st));
  return out;
}

std::optional<std::string> SqlPersonalTokenStore::remove(std::string_view user_id, std::string_view id) {
  auto st = conn_.prepare("DELETE FROM personal_access_tokens WHERE id = ?1 AND user_id = ?2 RETURNING token_hash");
  st.bind(1, id).bind(2, user_id);
  if (!st.step()) return std::nullopt;
  std::string hash = st.blob(0);
  st.run();
  return hash;
}

}  // namespace tessera::store::sql
