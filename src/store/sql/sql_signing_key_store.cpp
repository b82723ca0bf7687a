#include "store/sql/sql_credential_stores.hpp"

namespace tessera::store::sql {

void SqlSigningKeyStore::insert(const session::StoredSigningKey& k) {
  auto st = conn_.prepare("INSERT INTO signing_keys (kid, alg, private_pem, created_at, retired_at) VALUES (?1, 'ES256', ?2, ?3, ?4)");
  st.bind(1, k.kid).bind(2, k.private_pem).bind(3, k.created_at).bind(4, k.retired_at).run();
}

std::vector<session::StoredSigningKey> SqlSigningKeyStore::list() {
  auto st = conn_.prepare("SELECT kid, private_pem, created_at, retired_at FROM signing_keys ORDER BY created_at DESC");
  std::vector<session::StoredSigningKey> out;
  while (st.step()) out.push_back({st.text(0), st.text(1), st.time(2), st.optional_time(3)});
  return out;
}

void SqlSigningKeyStore::retire(std::string_view kid, Timestamp at) {
  conn_.prepare("UPDATE signing_keys SET retired_at = ?2 WHERE kid = ?1 AND retired_at IS NULL").bind(1, kid).bind(2, at).run();
}

void SqlSigningKeyStore::remove_retired_before(Timestamp cutoff) {
  conn_.prepare("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?1").bind(1, cutoff).run();
}

void SqlRevokedTokenStore::insert(std::string_view jti, std::string_view project_id, Timestamp expires_at) {
  auto st = conn_.prepare("INSERT INTO revoked_access_tokens (jti, project_id, expires_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING");
  st.bind(1, jti).bind(2, project_id).bind(3, expires_at).run();
}

bool SqlRevokedTokenStore::contains(std::string_view jti) {
  auto st = conn_.prepare("SELECT 1 FROM revoked_access_tokens WHERE jti = ?1");
  st.bind(1, jti);
  return st.step();
}

void SqlRevokedTokenStore::remove_expired(Timestamp now) {
  conn_.prepare("DELETE FROM revoked_access_tokens WHERE expires_at <= ?1").bind(1, now).run();
}

}  // namespace tessera::store::sql
