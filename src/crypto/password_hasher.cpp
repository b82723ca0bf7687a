#include "crypto/password_hasher.hpp"

#include <sodium.h>

#include <stdexcept>

#include "crypto/hash_worker.hpp"
#include "crypto/legacy_hashes.hpp"

namespace tessera::crypto {

PasswordHasher::PasswordHasher(Argon2Params params) : params_(params) {
  if (params_.iterations < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      params_.memory_kib * 1024ull < crypto_pwhash_argon2id_MEMLIMIT_MIN)
    throw std::invalid_argument("password hashing cost below Argon2id minimums (t>=1, m>=8 KiB)");
  dummy_hash_ = hash("tessera dummy password for unknown users");
}

std::string PasswordHasher::hash(std::string_view password) const {
  if (auto* worker = HashWorker::current()) return worker->hash(password);
  char out[crypto_pwhash_argon2id_STRBYTES];
  if (crypto_pwhash_argon2id_str(out, password.data(), password.size(), params_.iterations,
                                 static_cast<size_t>(params_.memory_kib) * 1024) != 0)
    throw std::runtime_error("Argon2id hashing ran out of memory");
  return out;
}

VerifyOutcome PasswordHasher::verify(std::string_view password, std::string_view stored) const {
  if (auto* worker = HashWorker::current()) return worker->verify(password, stored);
  std::string str(stored);  // libsodium wants a NUL-terminated string
  VerifyOutcome outcome;
  if (stored.starts_with("$argon2id$")) {
    outcome.ok = crypto_pwhash_argon2id_str_verify(str.c_str(), password.data(), password.size()) == 0;
    outcome.needs_rehash = outcome.ok && crypto_pwhash_argon2id_str_needs_rehash(
                                             str.c_str(), params_.iterations,
                                             static_cast<size_t>(params_.memory_kib) * 1024) != 0;
  } else if (stored.starts_with("$argon2i$")) {
    outcome.ok = crypto_pwhash_argon2i_str_verify(str.c_str(), password.data(), password.size()) == 0;
    outcome.needs_rehash = outcome.ok;
  } else if (stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$")) {
    outcome.ok = bcrypt_verify(password, stored);
    outcome.needs_rehash = outcome.ok;
  } else if (stored.starts_with("$pbkdf2-sha256$")) {
    outcome.ok = pbkdf2_sha256_verify(password, stored);
    outcome.needs_rehash = outcome.ok;
  } else {
    verify_dummy(password);  // unknown format: never matches, still costs the same
  }
  return outcome;
}

void PasswordHasher::verify_dummy(std::string_view password) const {
  if (auto* worker = HashWorker::current()) {
    worker->verify(password, dummy_hash_);
    return;
  }
  (void)crypto_pwhash_argon2id_str_verify(dummy_hash_.c_str(), password.data(), password.size());
}

}  // namespace tessera::crypto
