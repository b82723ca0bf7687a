#include "projects/project_service.hpp"

#include "external/redirect_allow_list.hpp"

#include "access/role_service.hpp"
#include "core/uuid.hpp"
#include "events/mail_message.hpp"
#include "events/mail_templates.hpp"
#include "store/store.hpp"

namespace tessera::projects {

namespace {
// How stale the in-memory copy may be: normally, and when a lookup missed (a miss may be a new project).
constexpr Micros kMaxSnapshotAge = std::chrono::seconds(5);
constexpr Micros kMaxSnapshotAgeOnMiss = std::chrono::seconds(1);
}

bool valid_project_alias(std::string_view alias) {
  if (alias.empty() || alias.size() > 64 || is_uuid(alias)) return false;  // ids and aliases share one namespace
  for (size_t i = 0; i < alias.size(); ++i) {
    char c = alias[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '-' && c != '_'))) return false;
  }
  return true;
}

ProjectService::ProjectService(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {
  store_.caches().subscribe(store::Topic::projects, [this](std::string_view) {
    std::unique_lock lock(mutex_);
    snapshot_.reset();  // the next lookup reloads
  });
}

Result<Project> ProjectService::create(std::string_view alias, std::string_view name) {
  if (!valid_project_alias(alias))
    return fail(Error::validation({{"alias", "format", "must be 1-64 characters of a-z, 0-9, '-' or '_', and not a UUID"}}));
  Project p;
  p.id = make_uuid_v7(clock_.now());
  p.alias = alias;
  p.name = name.empty() ? std::string(alias) : std::string(name);
  p.created_at = clock_.now();
  bool inserted = store_.write([&](store::Repositories& r) {
    if (!r.projects.insert(p)) return false;
    r.changes.invalidate_all(store::Topic::projects);
    for (const auto& role : access::builtin_roles(p.id, p.created_at)) r.roles.insert(role);
    return true;
  });
  if (!inserted) return fail(Error::conflict("project_alias_taken", "A project with this alias exists."));
  return p;
}

Result<Project> ProjectService::update(const std::string& id, const ProjectSettings& in) {
  auto current = find(id);
  if (!current) return fail(Error::not_found("project_not_found", "No such project."));
  Project p = *current;
  std::vector<FieldError> errors;
  if (in.name) {
    if (in.name->empty() || in.name->size() > 256) errors.push_back({"name", "length", "must be 1 to 256 characters"});
    p.name = *in.name;
  }
  if (in.public_url) {
    p.public_url = *in.public_url;
    if (p.public_url && !(p.public_url->starts_with("https://") || p.public_url->starts_with("http://")))
      errors.push_back({"public_url", "format", "must be an http:// or https:// URL"});
    else if (p.public_url && (p.public_url->size() > 2048 || p.public_url->find_first_of(" \r\n\"<>") != std::string::npos))
      errors.push_back({"public_url", "format", "must be a URL of at most 2048 characters without spaces or quotes"});
  }
  if (in.mail_from) {
    p.mail_from = *in.mail_from;
    if (p.mail_from && !events::mail_address(*p.mail_from))
      errors.push_back({"mail_from", "format", "must be an address, or a name and <address>"});
  }
  for (auto& [name, t] : in.mail_templates) {
    auto& names = events::mail_template_names();
    std::string field = "mail_templates." + name;
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      errors.push_back({field, "unknown_template", "is not a template; known: password_reset, email_verification"});
    } else if (t) {
      events::check_mail_template(field, *t, errors);
      p.mail_templates[name] = *t;
    } else {
      p.mail_templates.erase(name);
    }
  }
  if (in.redirect_allow_list) {
    p.redirect_allow_list = *in.redirect_allow_list;
    if (p.redirect_allow_list.size() > 100) errors.push_back({"redirect_allow_list", "too_many", "must have at most 100 entries"});
    for (size_t i = 0; i < p.redirect_allow_list.size(); ++i)
      if (auto problem = external::allow_list_entry_problem(p.redirect_allow_list[i]))
        errors.push_back({"redirect_allow_list." + std::to_string(i), "invalid", *problem});
  }
  if (in.link_by_email) p.link_by_email = *in.link_by_email;
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  store_.write([&](store::Repositories& r) {
    r.projects.update(p);
    r.changes.invalidate_all(store::Topic::projects);
  });
  return p;
}

std::shared_ptr<const ProjectService::Snapshot> ProjectService::snapshot(Micros max_age) {
  {
    std::shared_lock lock(mutex_);
    if (snapshot_ && clock_.now() - snapshot_->loaded_at < max_age) return snapshot_;
  }
  std::lock_guard reload(reload_mutex_);
  auto fresh = std::make_shared<Snapshot>();
  fresh->loaded_at = clock_.now();
  for (auto& p : store_.read([](store::Repositories& r) { return r.projects.list(); })) {
    auto project = std::make_shared<const Project>(std::move(p));
    fresh->all.push_back(project);
    fresh->by_key.emplace(project->id, project);
    fresh->by_key.emplace(project->alias, project);
  }
  std::unique_lock lock(mutex_);
  snapshot_ = fresh;
  return snapshot_;
}

std::vector<ProjectPtr> ProjectService::list() { return snapshot(Micros(0))->all; }

ProjectPtr ProjectService::find(std::string_view key) {
  if (auto p = snapshot(kMaxSnapshotAge)->find(key)) return p;
  return snapshot(kMaxSnapshotAgeOnMiss)->find(key);
}

ProjectPtr ProjectService::only() {
  auto snap = snapshot(kMaxSnapshotAge);
  return snap->all.size() == 1 ? snap->all.front() : nullptr;
}

size_t ProjectService::count() { return snapshot(kMaxSnapshotAge)->all.size(); }

}  // namespace tessera::projects
