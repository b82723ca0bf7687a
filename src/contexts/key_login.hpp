// Logging in by proving possession of a private key registered in a context (docs/contexts.md,
// "Key login"): a single-use challenge, then a signature over a canonical message that binds the
// server's origin, the project and the challenge, so a signature is worth nothing anywhere else.
#pragma once

#include <optional>
#include <string>

#include "contexts/context.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "identity/user.hpp"
#include "projects/project.hpp"

namespace tessera::store {
class Store;
}

namespace tessera::contexts {

struct ChallengeRequest {
  std::optional<std::string> user_id, email, login, context_id;
};

struct IssuedChallenge {
  std::string id;
  std::string nonce;    // base64url of 32 random bytes
  std::string message;  // the exact bytes to sign
  Timestamp expires_at;
};

class KeyLogin {
 public:
  KeyLogin(store::Store& store, const Clock& clock, std::string origin);

  // The same answer, after the same work, whether the user exists or not.
  IssuedChallenge challenge(const projects::Project& project, const ChallengeRequest& request);
  // 400 invalid_challenge (unknown, used, expired, another project's); 401 invalid_signature (no user,
  // no registered key, or no key verifies it); 403 user_inactive once proven.
  Result<identity::User> log_in(const projects::Project& project, const std::string& challenge_id,
                                const std::string& signature);

 private:
  store::Store& store_;
  const Clock& clock_;
  std::string origin_;
};

// "tessera-key-login/v1\n<origin>\n<project id>\n<challenge id>\n<nonce>\n"
std::string key_login_message(std::string_view origin, std::string_view project_id, std::string_view challenge_id,
                              std::string_view nonce);

// Ed25519 (64-byte signature) or ECDSA P-256 with SHA-256 (R||S of 64 bytes, or DER) over `message`.
bool verify_key_signature(const Member& key, std::string_view message, std::string_view signature);

}  // namespace tessera::contexts
