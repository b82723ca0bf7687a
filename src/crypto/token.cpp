#include "crypto/token.hpp"

#include <sodium.h>

#include <algorithm>

#include "crypto/random.hpp"

namespace tessera::crypto {

namespace {
constexpr size_t kSecretBytes = 32;
constexpr size_t kEncodedSecretChars = 43;  // base64url of 32 bytes, unpadded

std::string blake2b(std::string_view data, std::string_view domain) {
  unsigned char out[32];
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, sizeof out);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(domain.data()), domain.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  crypto_generichash_final(&st, out, sizeof out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}
}  // namespace

std::string make_token(std::string_view prefix) {
  return std::string(prefix) + base64url_encode(random_bytes(kSecretBytes));
}

bool token_well_formed(std::string_view token, std::string_view prefix) {
  if (token.size() != prefix.size() + kEncodedSecretChars || !token.starts_with(prefix)) return false;
  for (char c : token.substr(prefix.size())) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string token_hash(std::string_view token) { return blake2b(token, "tessera.token.v1\n"); }

std::string keyed_secret_hash(std::string_view id, std::string_view secret) {
  unsigned char out[32];
  crypto_generichash_state st;
  crypto_generichash_init(&st, reinterpret_cast<const unsigned char*>(id.data()),
                          std::min<size_t>(id.size(), crypto_generichash_KEYBYTES_MAX), sizeof out);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  crypto_generichash_final(&st, out, sizeof out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

std::string pkce_s256(std::string_view verifier) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size());
  return base64url_encode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

std::string csrf_token_for(std::string_view session_token) {
  return base64url_encode(blake2b(session_token, "tessera.csrf.v1\n"));
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tessera::crypto
