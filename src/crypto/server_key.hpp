// The server secret key: 32 random bytes that stay out of the database. It encrypts secrets stored at
// rest (provider client secrets) and derives values that need no storage (a flow's PKCE verifier).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace tessera::crypto {

class ServerKey {
 public:
  // From `base64_key` when given (the environment), else from `file`; a missing file is created with a
  // new random key (mode 0600). Errors name the source.
  static Result<ServerKey> load(const std::string& base64_key, const std::string& file);
  static ServerKey from_bytes(std::string bytes);  // tests

  // XChaCha20-Poly1305: nonce || ciphertext. `context` is authenticated (a secret sealed for one
  // provider cannot be replayed as another's).
  std::string seal(std::string_view plaintext, std::string_view context) const;
  std::optional<std::string> open(std::string_view sealed, std::string_view context) const;

  // A keyed BLAKE2b-256 of `input` under a subkey for `purpose`: stable, one-way, and different per purpose.
  std::string derive(std::string_view purpose, std::string_view input) const;

 private:
  explicit ServerKey(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string bytes_;
};

}  // namespace tessera::crypto
