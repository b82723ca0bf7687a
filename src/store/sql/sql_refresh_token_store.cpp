#include "crypto/random.hpp"
#include "store/sql/sql_credential_stores.hpp"

namespace tessera::store::sql {

session::RefreshTokenFate SqlRefreshTokenStore::fate(std::string_view id, std::string_view family_id,
                                                        std::string_view subject_id) {
  auto st = conn_.prepare(
      "SELECT (SELECT spent_at FROM spent_refresh_tokens WHERE id = ?1), "
      "EXISTS (SELECT 1 FROM revoked_refresh_families WHERE family_id = ?2), "
      "(SELECT revoked_at FROM revoked_refresh_subjects WHERE subject_id = ?3)");
  st.bind(1, id).bind(2, family_id).bind(3, subject_id);
  st.step();
  return {st.optional_time(0), st.boolean(1), st.optional_time(2)};
}

bool SqlRefreshTokenStore::mark_spent(std::string_view id, std::string_view family_id, Timestamp at,
                                         Timestamp expires_at) {
  auto st = conn_.prepare(
      "INSERT INTO spent_refresh_tokens (id, family_id, spent_at, expires_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING");
  st.bind(1, id).bind(2, family_id).bind(3, at).bind(4, expires_at).run();
  return conn_.changes() > 0;
}

void SqlRefreshTokenStore::revoke_family(std::string_view family_id, Timestamp expires_at) {
  auto st = conn_.prepare(
      "INSERT INTO revoked_refresh_families (family_id, expires_at) VALUES (?1, ?2) "
      "ON CONFLICT (family_id) DO UPDATE SET expires_at = CASE WHEN excluded.expires_at > revoked_refresh_families.expires_at THEN excluded.expires_at ELSE revoked_refresh_families.expires_at END");
  st.bind(1, family_id).bind(2, expires_at).run();
}

void SqlRefreshTokenStore::revoke_subject(std::string_view subject_id, Timestamp at) {
  auto st = conn_.prepare(
      "INSERT INTO revoked_refresh_subjects (subject_id, revoked_at) VALUES (?1, ?2) "
      "ON CONFLICT (subject_id) DO UPDATE SET revoked_at = excluded.revoked_at");
  st.bind(1, subject_id).bind(2, at).run();
}

void SqlRefreshTokenStore::remove_expired(Timestamp now) {
  conn_.prepare("DELETE FROM spent_refresh_tokens WHERE expires_at <= ?1").bind(1, now).run();
  conn_.prepare("DELETE FROM revoked_refresh_families WHERE expires_at <= ?1").bind(1, now).run();
}

std::string SqlRefreshTokenStore::mac_key() {
  std::string fresh = crypto::random_bytes(32);
  conn_.prepare("INSERT INTO server_secrets (name, value) VALUES ('refresh_token_mac', ?1) ON CONFLICT DO NOTHING")
      .bind_blob(1, fresh)
      .run();
  auto st = conn_.prepare("SELECT value FROM server_secrets WHERE name = 'refresh_token_mac'");
  st.step();
  return st.blob(0);
}

}  // namespace tessera::store::sql
