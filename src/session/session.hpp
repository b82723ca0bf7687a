#pragma once

#include <string>

#include "core/clock.hpp"

namespace tessera::session {

struct Session {
  std::string id;
  std::string project_id;
  std::string user_id;
  std::string token_hash;  // BLAKE2b-256 of the token, 32 raw bytes
  Timestamp created_at;
  Timestamp expires_at;       // absolute lifetime
  Timestamp idle_expires_at;  // slides with use, never past expires_at
  Timestamp last_used_at;
  std::string ip;
  std::string user_agent;
};

}  // namespace tessera::session
