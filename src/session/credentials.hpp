// Credentials for programs: API keys (id + secret, for back-end servers), personal access tokens
// (a user's own long-lived tokens), refresh tokens (rotating, in families) and JWT signing keys.
#pragma once

#include <optional>
#include <string>

#include "access/permission.hpp"
#include "core/clock.hpp"

namespace tessera::session {

struct ApiKey {
  std::string id;
  std::string project_id;
  std::string name;
  access::PermissionSet permissions;
  std::optional<Timestamp> expires_at;
  Timestamp created_at;
  std::optional<Timestamp> last_used_at;
};

struct PersonalToken {
  std::string id;
  std::string project_id;
  std::string user_id;
  std::string name;
  access::PermissionSet permissions;
  Timestamp expires_at;
  Timestamp created_at;
  std::optional<Timestamp> last_used_at;
};

enum class SubjectKind { api_key, user };

struct RefreshToken {
  std::string id;
  std::string family_id;
  std::string project_id;
  SubjectKind subject_kind = SubjectKind::api_key;
  std::string subject_id;
  access::PermissionSet scope;
  Timestamp created_at;
  Timestamp expires_at;
};

struct StoredSigningKey {
  std::string kid;
  std::string private_pem;
  Timestamp created_at;
  std::optional<Timestamp> retired_at;
};

}  // namespace tessera::session
