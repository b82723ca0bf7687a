#include "store/sql/sql_avatar_store.hpp"

namespace tessera::store::sql {

void SqlAvatarStore::put(std::string_view user_id, const identity::StoredAvatar& avatar) {
  auto st = conn_.prepare(
      "INSERT INTO avatars (user_id, content_type, version, bytes, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT (user_id) DO UPDATE SET content_type = excluded.content_type, version = excluded.version, "
      "bytes = excluded.bytes, updated_at = excluded.updated_at");
  st.bind(1, user_id).bind(2, avatar.content_type).bind(3, avatar.version).bind_blob(4, avatar.bytes);
  st.bind(5, avatar.updated_at).run();
}

std::optional<identity::StoredAvatar> SqlAvatarStore::find(std::string_view user_id) {
  auto st = conn_.prepare("SELECT content_type, version, bytes, updated_at FROM avatars WHERE user_id = ?1");
  st.bind(1, user_id);
  if (!st.step()) return std::nullopt;
  return identity::StoredAvatar{st.text(0), st.text(1), st.blob(2), st.time(3)};
}

std::optional<std::string> SqlAvatarStore::find_version(std::string_view user_id) {
  auto st = conn_.prepare("SELECT version FROM avatars WHERE user_id = ?1");
  st.bind(1, user_id);
  if (!st.step()) return std::nullopt;
  return st.text(0);
}

bool SqlAvatarStore::remove(std::string_view user_id) {
  conn_.prepare("DELETE FROM avatars WHERE user_id = ?1").bind(1, user_id).run();
  return conn_.changes() > 0;
}

}  // namespace tessera::store::sql
