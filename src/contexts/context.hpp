// A context: a named group of users of a project, each with the public key they use in it (PrivMX).
#pragma once

#include <optional>
#include <string>

#include "core/clock.hpp"

namespace tessera::contexts {

struct Context {
  std::string id;
  std::string project_id;
  std::string name;
  std::string description;
  int64_t members = 0;
  Timestamp created_at;
  Timestamp updated_at;
};

struct Member {
  std::string context_id;
  std::string user_id;
  std::string public_key;  // normalized (see public_key.hpp)
  std::string key_type;    // "ed25519" | "p256"
  Timestamp added_at;
  Timestamp updated_at;
};

}  // namespace tessera::contexts
