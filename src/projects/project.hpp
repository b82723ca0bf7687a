// A project is a tenant: users, sessions and keys belong to exactly one.
#pragma once

#include <optional>
#include <string>

#include "core/clock.hpp"

namespace tessera::projects {

struct Project {
  std::string id;
  std::string alias;
  std::string name;
  std::optional<Micros> session_idle_timeout;  // per-project override of [session] idle_timeout
  std::optional<Micros> session_lifetime;      // per-project override of [session] lifetime
  Timestamp created_at;
};

}  // namespace tessera::projects
