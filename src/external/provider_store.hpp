#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "external/provider.hpp"

namespace tessera::external {

class ProviderStore {
 public:
  virtual ~ProviderStore() = default;
  // False when the name is taken in the project.
  virtual bool insert(const Provider& provider) = 0;
  virtual std::optional<Provider> find(std::string_view project_id, std::string_view name) = 0;
  virtual std::vector<Provider> list(std::string_view project_id) = 0;
  // Every field but id, project, name and created_at.
  virtual void update(const Provider& provider) = 0;
  virtual bool remove(std::string_view project_id, std::string_view name) = 0;
};

}  // namespace tessera::external
