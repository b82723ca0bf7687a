#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "projects/project.hpp"

namespace tessera::projects {

class ProjectStore {
 public:
  virtual ~ProjectStore() = default;
  // False when the alias is taken.
  virtual bool insert(const Project& project) = 0;
  virtual std::vector<Project> list() = 0;
  // Name and settings; false when there is no such project.
  virtual bool update(const Project& project) = 0;
};

}  // namespace tessera::projects
