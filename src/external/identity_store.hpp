#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "external/provider.hpp"

namespace tessera::external {

class IdentityStore {
 public:
  virtual ~IdentityStore() = default;
  virtual std::optional<Identity> find(std::string_view project_id, std::string_view provider, std::string_view subject) = 0;
  // Oldest first.
  virtual std::vector<Identity> list_for_user(std::string_view user_id) = 0;
  // False when the (provider, subject) pair is already linked.
  virtual bool insert(const Identity& identity) = 0;
  virtual bool remove(std::string_view user_id, std::string_view provider) = 0;
  // When a provider is deleted; returns the users who lost an identity.
  virtual std::vector<std::string> remove_for_provider(std::string_view project_id, std::string_view provider) = 0;
};

}  // namespace tessera::external
