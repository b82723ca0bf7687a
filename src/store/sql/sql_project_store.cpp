#include "store/sql/sql_project_store.hpp"

#include <boost/json.hpp>

namespace tessera::store::sql {

using projects::MailTemplate;
using projects::Project;

namespace {
std::optional<int64_t> micros_of(const std::optional<Micros>& d) {
  if (!d) return std::nullopt;
  return d->count();
}

std::string templates_json(const std::map<std::string, MailTemplate>& templates) {
  boost::json::object o;
  for (auto& [name, t] : templates) o[name] = {{"subject", t.subject}, {"text", t.text}, {"html", t.html}};
  return boost::json::serialize(o);
}

std::map<std::string, MailTemplate> templates_from(const std::string& text) {
  std::map<std::string, MailTemplate> out;
  boost::json::value parsed = boost::json::parse(text);
  for (auto& [name, t] : parsed.as_object()) {
    auto& o = t.as_object();
    out[std::string(name)] = MailTemplate{std::string(o.at("subject").as_string()), std::string(o.at("text").as_string()),
                                          std::string(o.at("html").as_string())};
  }
  return out;
}
std::string strings_json(const std::vector<std::string>& list) {
  boost::json::array a;
  for (auto& s : list) a.emplace_back(s);
  return boost::json::serialize(a);
}

std::vector<std::string> strings_from(const std::string& text) {
  std::vector<std::string> out;
  boost::json::value parsed = boost::json::parse(text);  // kept alive for the loop
  for (auto& v : parsed.as_array()) out.emplace_back(v.as_string());
  return out;
}
}  // namespace

bool SqlProjectStore::insert(const Project& p) {
  auto st = conn_.prepare(
      "INSERT INTO projects (id, alias, name, session_idle_timeout_us, session_lifetime_us, created_at, public_url, "
      "mail_from, mail_templates, redirect_allow_list, link_by_email) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  st.bind(1, p.id).bind(2, p.alias).bind(3, p.name);
  if (auto v = micros_of(p.session_idle_timeout)) st.bind(4, *v);
  else st.bind_null(4);
  if (auto v = micros_of(p.session_lifetime)) st.bind(5, *v);
  else st.bind_null(5);
  st.bind(6, p.created_at).bind(7, p.public_url).bind(8, p.mail_from).bind(9, templates_json(p.mail_templates));
  st.bind(10, strings_json(p.redirect_allow_list)).bind(11, p.link_by_email);
  return !st.run_unique().has_value();
}

std::vector<Project> SqlProjectStore::list() {
  auto st = conn_.prepare(
      "SELECT id, alias, name, session_idle_timeout_us, session_lifetime_us, created_at, public_url, mail_from, "
      "mail_templates, redirect_allow_list, link_by_email FROM projects ORDER BY id");
  std::vector<Project> out;
  while (st.step()) {
    Project p;
    p.id = st.text(0);
    p.alias = st.text(1);
    p.name = st.text(2);
    if (!st.is_null(3)) p.session_idle_timeout = Micros(st.integer(3));
    if (!st.is_null(4)) p.session_lifetime = Micros(st.integer(4));
    p.created_at = st.time(5);
    p.public_url = st.optional_text(6);
    p.mail_from = st.optional_text(7);
    p.mail_templates = templates_from(st.text(8));
    p.redirect_allow_list = strings_from(st.text(9));
    p.link_by_email = st.boolean(10);
    out.push_back(std::move(p));
  }
  return out;
}

bool SqlProjectStore::update(const Project& p) {
  auto st = conn_.prepare(
      "UPDATE projects SET name = ?2, public_url = ?3, mail_from = ?4, mail_templates = ?5, redirect_allow_list = ?6, "
      "link_by_email = ?7 WHERE id = ?1");
  st.bind(1, p.id).bind(2, p.name).bind(3, p.public_url).bind(4, p.mail_from).bind(5, templates_json(p.mail_templates));
  st.bind(6, strings_json(p.redirect_allow_list)).bind(7, p.link_by_email).run();
  return conn_.changes() > 0;
}

}  // namespace tessera::store::sql
