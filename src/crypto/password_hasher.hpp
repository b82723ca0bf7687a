// Password hashing: Argon2id (libsodium) stored as a PHC string carrying its own parameters.
// Verification dispatches on the stored string's prefix, so imported and older hashes keep working
// and are re-hashed when they are not the current algorithm and cost.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::crypto {

struct Argon2Params {
  uint32_t memory_kib = 19456;  // 19 MiB
  uint32_t iterations = 2;
  // libsodium's Argon2id always uses parallelism 1.
};

struct VerifyOutcome {
  bool ok = false;
  bool needs_rehash = false;  // ok, but stored with another algorithm or cost than the current one
};

// On a thread served by a HashWorker (the server's hashing pool), the work runs in that worker's
// process; elsewhere (tests, the CLI, the worker itself) it runs in place.
class PasswordHasher {
 public:
  explicit PasswordHasher(Argon2Params params);

  // CPU-heavy (~12 ms at the default cost): call from the hashing pool only.
  std::string hash(std::string_view password) const;
  VerifyOutcome verify(std::string_view password, std::string_view stored) const;
  // Spends the same time as verify() against a real hash; used for unknown users.
  void verify_dummy(std::string_view password) const;

  const Argon2Params& params() const { return params_; }

 private:
  Argon2Params params_;
  std::string dummy_hash_;
};

}  // namespace tessera::crypto
