#include "store/sqlite/sqlite_project_store.hpp"

namespace tessera::store::sqlite {

using projects::Project;

namespace {
std::optional<int64_t> micros_of(const std::optional<Micros>& d) {
  if (!d) return std::nullopt;
  return d->count();
}
}  // namespace

bool SqliteProjectStore::insert(const Project& p) {
  auto st = conn_.prepare(
      "INSERT INTO projects (id, alias, name, session_idle_timeout_us, session_lifetime_us, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  st.bind(1, p.id).bind(2, p.alias).bind(3, p.name);
  if (auto v = micros_of(p.session_idle_timeout)) st.bind(4, *v);
  else st.bind_null(4);
  if (auto v = micros_of(p.session_lifetime)) st.bind(5, *v);
  else st.bind_null(5);
  st.bind(6, p.created_at);
  return !st.run_unique().has_value();
}

std::vector<Project> SqliteProjectStore::list() {
  auto st = conn_.prepare(
      "SELECT id, alias, name, session_idle_timeout_us, session_lifetime_us, created_at FROM projects ORDER BY id");
  std::vector<Project> out;
  while (st.step()) {
    Project p;
    p.id = st.text(0);
    p.alias = st.text(1);
    p.name = st.text(2);
    if (!st.is_null(3)) p.session_idle_timeout = Micros(st.integer(3));
    if (!st.is_null(4)) p.session_lifetime = Micros(st.integer(4));
    p.created_at = st.time(5);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace tessera::store::sqlite
