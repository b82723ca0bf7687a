#include "store/sql/sql_user_store.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "identity/identifiers.hpp"
#include "store/sql/sql_user_query.hpp"
#include "store/store.hpp"

namespace tessera::store::sql {

using identity::Conflict;
using identity::User;

namespace {

#define USER_COLUMNS                                                                                      \
  "id, project_id, email, login, phone, full_name, external_id, tags, data, avatar_url, active, "      \
  "email_verified, is_guest, password_hash IS NOT NULL, created_at, updated_at, last_request_at"

User read_user(const Statement& s) {
  User u;
  u.id = s.text(0);
  u.project_id = s.text(1);
  u.email = s.optional_text(2);
  u.login = s.optional_text(3);
  u.phone = s.optional_text(4);
  u.full_name = s.optional_text(5);
  u.external_id = s.optional_text(6);
  boost::json::value tags = boost::json::parse(s.text(7));  // named: a temporary would die before the loop
  for (auto& tag : tags.as_array()) u.tags.emplace_back(tag.as_string());
  u.data = boost::json::parse(s.text(8)).as_object();
  u.avatar_url = s.optional_text(9);
  u.active = s.boolean(10);
  u.email_verified = s.boolean(11);
  u.is_guest = s.boolean(12);
  u.has_password = s.boolean(13);
  u.created_at = s.time(14);
  u.updated_at = s.time(15);
  u.last_request_at = s.optional_time(16);
  return u;
}

std::string tags_json(const User& u) {
  boost::json::array a;
  for (auto& t : u.tags) a.emplace_back(t);
  return boost::json::serialize(a);
}

std::optional<std::string> key_of(const std::optional<std::string>& v, identity::IdentifierKind kind) {
  if (!v) return std::nullopt;
  return identity::identifier_key(kind, *v);
}

// Names the identifier from SQLite's "UNIQUE constraint failed: users.project_id, users.email_key".
Conflict conflict_from(const std::optional<std::string>& message) {
  if (!message) return std::nullopt;
  if (message->find("email_key") != std::string::npos) return "email";
  if (message->find("login_key") != std::string::npos) return "login";
  if (message->find("phone") != std::string::npos) return "phone";
  return "id";
}

// Parameters ?1 to ?11, the same in the INSERT and the UPDATE: id, project, identifiers and their keys, profile.
void bind_identity_and_profile(Statement& st, const User& u) {
  st.bind(1, u.id).bind(2, u.project_id).bind(3, u.email).bind(4, key_of(u.email, identity::IdentifierKind::email));
  st.bind(5, u.login).bind(6, key_of(u.login, identity::IdentifierKind::login)).bind(7, u.phone);
  st.bind(8, u.full_name).bind(9, u.external_id).bind(10, tags_json(u)).bind(11, boost::json::serialize(u.data));
}

}  // namespace

Conflict SqlUserStore::insert(const User& u, const std::optional<std::string>& password_hash) {
  auto st = conn_.prepare(
      "INSERT INTO users (id, project_id, email, email_key, login, login_key, phone, full_name, external_id, "
      "tags, data, avatar_url, active, email_verified, is_guest, password_hash, created_at, updated_at, "
      "last_request_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)");
  bind_identity_and_profile(st, u);
  st.bind(12, u.avatar_url).bind(13, u.active).bind(14, u.email_verified).bind(15, u.is_guest);
  st.bind(16, password_hash).bind(17, u.created_at).bind(18, u.updated_at).bind(19, u.last_request_at);
  return conflict_from(st.run_unique());
}

std::optional<User> SqlUserStore::find(std::string_view project_id, std::string_view user_id) {
  auto st = conn_.prepare("SELECT " USER_COLUMNS " FROM users WHERE id = ?1 AND project_id = ?2");
  st.bind(1, user_id).bind(2, project_id);
  if (!st.step()) return std::nullopt;
  return read_user(st);
}

std::optional<User> SqlUserStore::find_any(std::string_view user_id) {
  auto st = conn_.prepare("SELECT " USER_COLUMNS " FROM users WHERE id = ?1");
  st.bind(1, user_id);
  if (!st.step()) return std::nullopt;
  return read_user(st);
}

std::optional<User> SqlUserStore::find_by_identifier(std::string_view project_id, identity::IdentifierKind kind,
                                                        std::string_view key) {
  const char* sql = nullptr;
  switch (kind) {
    case identity::IdentifierKind::email:
      sql = "SELECT " USER_COLUMNS " FROM users WHERE project_id = ?1 AND email_key = ?2";
      break;
    case identity::IdentifierKind::login:
      sql = "SELECT " USER_COLUMNS " FROM users WHERE project_id = ?1 AND login_key = ?2";
      break;
    case identity::IdentifierKind::phone:
      sql = "SELECT " USER_COLUMNS " FROM users WHERE project_id = ?1 AND phone = ?2";
      break;
  }
  auto st = conn_.prepare(sql);
  st.bind(1, project_id).bind(2, key);
  if (!st.step()) return std::nullopt;
  return read_user(st);
}

std::optional<std::string> SqlUserStore::password_hash(std::string_view user_id) {
  auto st = conn_.prepare("SELECT password_hash FROM users WHERE id = ?1");
  st.bind(1, user_id);
  if (!st.step()) return std::nullopt;
  return st.optional_text(0);
}

Conflict SqlUserStore::update(const User& u) {
  auto st = conn_.prepare(
      "UPDATE users SET email = ?3, email_key = ?4, login = ?5, login_key = ?6, phone = ?7, full_name = ?8, "
      "external_id = ?9, tags = ?10, data = ?11, active = ?12, email_verified = ?13, "
      "is_guest = ?14, updated_at = ?15 WHERE id = ?1 AND project_id = ?2");
  bind_identity_and_profile(st, u);
  st.bind(12, u.active).bind(13, u.email_verified).bind(14, u.is_guest).bind(15, u.updated_at);
  return conflict_from(st.run_unique());
}

void SqlUserStore::set_password_hash(std::string_view user_id, const std::optional<std::string>& hash,
                                        Timestamp updated_at) {
  auto st = conn_.prepare("UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1");
  st.bind(1, user_id).bind(2, hash).bind(3, updated_at).run();
}

void SqlUserStore::touch(std::string_view user_id, Timestamp last_request_at) {
  auto st = conn_.prepare("UPDATE users SET last_request_at = ?2 WHERE id = ?1");
  st.bind(1, user_id).bind(2, last_request_at).run();
}

bool SqlUserStore::set_avatar(std::string_view user_id, const std::optional<std::string>& url,
                                 Timestamp updated_at) {
  auto st = conn_.prepare("UPDATE users SET avatar_url = ?2, updated_at = ?3 WHERE id = ?1");
  st.bind(1, user_id).bind(2, url).bind(3, updated_at).run();
  return conn_.changes() > 0;
}

bool SqlUserStore::remove(std::string_view project_id, std::string_view user_id) {
  auto st = conn_.prepare("DELETE FROM users WHERE id = ?1 AND project_id = ?2");
  st.bind(1, user_id).bind(2, project_id).run();
  return conn_.changes() > 0;
}

// Administration: the SQL is compiled per request (store/sql/sql_user_query.hpp), so these
// statements are prepared for one run instead of going through the connection's cache.
identity::UserPage SqlUserStore::list(std::string_view project_id, const identity::UserQuery& query) {
  constexpr int kSortColumn = 17;  // the sort values follow USER_COLUMNS
  Statement st = prepare_query(conn_, compile_user_list(conn_.dialect(), project_id, query, USER_COLUMNS));
  const size_t limit = std::clamp<size_t>(query.limit, 1, identity::kMaxUserListLimit);  // as compiled
  identity::UserPage page;
  identity::Cursor last;
  while (st.step()) {
    if (page.items.size() == limit) {  // the extra row: there is a next page, after the last item
      page.next = std::move(last);
      break;
    }
    page.items.push_back(read_user(st));
    last.keys.clear();
    for (size_t i = 0; i < query.sort.size(); ++i) last.keys.push_back(st.value(kSortColumn + static_cast<int>(i)));
    last.id = page.items.back().id;
    last.sort = identity::sort_spec(query.sort);
  }
  return page;
}

std::vector<std::string> SqlUserStore::update_where(std::string_view project_id,
                                                       const std::vector<identity::Condition>& where,
                                                       const identity::UserChanges& changes, Timestamp now) {
  Statement st = prepare_query(conn_, compile_user_update(conn_.dialect(), project_id, where, changes, now));
  std::vector<std::string> ids;
  while (st.step()) ids.push_back(st.text(0));
  return ids;
}

std::vector<std::string> SqlUserStore::remove_where(std::string_view project_id,
                                                       const std::vector<identity::Condition>& where) {
  Statement st = prepare_query(conn_, compile_user_delete(conn_.dialect(), project_id, where));
  std::vector<std::string> ids;
  while (st.step()) ids.push_back(st.text(0));
  return ids;
}

}  // namespace tessera::store::sql
