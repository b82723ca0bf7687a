#include "store/sql/json_columns.hpp"
#include "store/sql/sql_credential_stores.hpp"

namespace tessera::store::sql {

using session::ApiKey;

namespace {
#define API_KEY_COLUMNS "id, project_id, name, permissions, expires_at, created_at, last_used_at"
ApiKey read_key(const Statement& s) {
  return ApiKey{s.text(0), s.text(1), s.text(2), access::PermissionSet(from_json_array(s.text(3))),
                s.optional_time(4), s.time(5), s.optional_time(6)};
}
}  // namespace

void SqlApiKeyStore::insert(const ApiKey& k, std::string_view secret_hash) {
  auto st = conn_.prepare("INSERT INTO api_keys (" API_KEY_COLUMNS ", secret_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  st.bind(1, k.id).bind(2, k.project_id).bind(3, k.name).bind(4, to_json_array(k.permissions.list()));
  st.bind(5, k.expires_at).bind(6, k.created_at).bind(7, k.last_used_at).bind_blob(8, secret_hash).run();
}

std::optional<std::pair<ApiKey, std::string>> SqlApiKeyStore::find(std::string_view id) {
  auto st = conn_.prepare("SELECT " API_KEY_COLUMNS ", secret_hash FROM api_keys WHERE id = ?1");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return std::make_pair(read_key(st), st.blob(7));
}

std::vector<ApiKey> SqlApiKeyStore::list(std::string_view project_id, size_t limit,
                                            std::optional<std::string_view> after_id) {
  auto st = conn_.prepare("SELECT " API_KEY_COLUMNS
                          " FROM api_keys WHERE project_id = ?1 AND (id > ?2 OR ?2 IS NULL) ORDER BY id LIMIT ?3");
  st.bind(1, project_id);
  if (after_id) st.bind(2, *after_id);
  else st.bind_null(2);
  st.bind(3, static_cast<int64_t>(limit));
  std::vector<ApiKey> out;
  while (st.step()) out.push_back(read_key(st));
  return out;
}

bool SqlApiKeyStore::remove(std::string_view project_id, std::string_view id) {
  conn_.prepare("DELETE FROM api_keys WHERE id = ?1 AND project_id = ?2").bind(1, id).bind(2, project_id).run();
  return conn_.changes() > 0;
}

void SqlApiKeyStore::touch(std::string_view id, Timestamp used_at) {
  conn_.prepare("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1").bind(1, id).bind(2, used_at).run();
}

}  // namespace tessera::store::sql
