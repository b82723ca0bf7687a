#include "store/sqlite/sqlite_credential_stores.hpp"

namespace tessera::store::sqlite {

using session::RefreshToken;

namespace {
#define REFRESH_COLUMNS "id, family_id, project_id, subject_kind, subject_id, scope, created_at, expires_at, spent_at"
RefreshToken read_token(const Statement& s) {
  return RefreshToken{s.text(0), s.text(1), s.text(2),
                      s.text(3) == "user" ? session::SubjectKind::user : session::SubjectKind::api_key,
                      s.text(4), access::PermissionSet::from_scope(s.text(5)), s.time(6), s.time(7), s.optional_time(8)};
}
}  // namespace

void SqliteRefreshTokenStore::insert(const RefreshToken& t, std::string_view token_hash) {
  auto st = conn_.prepare("INSERT INTO refresh_tokens (" REFRESH_COLUMNS
                          ", token_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  st.bind(1, t.id).bind(2, t.family_id).bind(3, t.project_id);
  st.bind(4, std::string_view(t.subject_kind == session::SubjectKind::user ? "user" : "api_key"));
  st.bind(5, t.subject_id).bind(6, t.scope.scope()).bind(7, t.created_at).bind(8, t.expires_at).bind(9, t.spent_at);
  st.bind_blob(10, token_hash).run();
}

std::optional<RefreshToken> SqliteRefreshTokenStore::find_by_hash(std::string_view token_hash) {
  auto st = conn_.prepare("SELECT " REFRESH_COLUMNS " FROM refresh_tokens WHERE token_hash = ?1");
  st.bind_blob(1, token_hash);
  if (!st.step()) return std::nullopt;
  return read_token(st);
}

bool SqliteRefreshTokenStore::spend(std::string_view id, Timestamp at) {
  conn_.prepare("UPDATE refresh_tokens SET spent_at = ?2 WHERE id = ?1 AND spent_at IS NULL").bind(1, id).bind(2, at).run();
  return conn_.changes() > 0;
}

void SqliteRefreshTokenStore::remove_family(std::string_view family_id) {
  conn_.prepare("DELETE FROM refresh_tokens WHERE family_id = ?1").bind(1, family_id).run();
}

void SqliteRefreshTokenStore::remove_for_subject(std::string_view subject_id) {
  conn_.prepare("DELETE FROM refresh_tokens WHERE subject_id = ?1").bind(1, subject_id).run();
}

}  // namespace tessera::store::sqlite
