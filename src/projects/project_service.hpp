// Projects and how a request finds its own: an in-memory directory of all projects, refreshed from the
// store when a name is not found or the copy is older than a few seconds (projects change rarely, and
// may be created by the CLI while the server runs).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "projects/project.hpp"

namespace tessera::store {
class Store;
}

namespace tessera::projects {

using ProjectPtr = std::shared_ptr<const Project>;

// A change of a project's name and settings; an inner nullopt clears a setting (back to the default).
struct ProjectSettings {
  std::optional<std::string> name;
  std::optional<std::optional<std::string>> public_url, mail_from;
  std::map<std::string, std::optional<MailTemplate>> mail_templates;
  std::optional<std::vector<std::string>> redirect_allow_list;
  std::optional<bool> link_by_email;
};

class ProjectService {
 public:
  ProjectService(store::Store& store, const Clock& clock);

  Result<Project> create(std::string_view alias, std::string_view name);
  Result<Project> update(const std::string& id, const ProjectSettings& settings);
  std::vector<ProjectPtr> list();
  // By id or alias.
  ProjectPtr find(std::string_view id_or_alias);
  // The project when exactly one exists; null otherwise.
  ProjectPtr only();
  size_t count();

 private:
  struct Snapshot {
    std::vector<ProjectPtr> all;
    std::unordered_map<std::string, ProjectPtr> by_key;  // ids and aliases (they cannot collide: aliases are no UUIDs)
    Timestamp loaded_at;
    ProjectPtr find(std::string_view key) const {
      auto it = by_key.find(std::string(key));
      return it == by_key.end() ? nullptr : it->second;
    }
  };
  std::shared_ptr<const Snapshot> snapshot(Micros max_age);

  store::Store& store_;
  const Clock& clock_;
  std::mutex reload_mutex_;
  std::shared_mutex mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
};

// Aliases: 1 to 64 of a-z, 0-9, '-', '_', starting with a letter or digit, and not shaped like an id.
bool valid_project_alias(std::string_view alias);

}  // namespace tessera::projects
