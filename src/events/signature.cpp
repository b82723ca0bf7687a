#include "events/signature.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>
#include <stdexcept>

#include "crypto/random.hpp"

namespace tessera::events {

namespace {

// Fetched once: a fetch per call looks the algorithm up in the provider store again (see crypto/jwt.cpp).
EVP_MAC* hmac() {
  static EVP_MAC* mac = [] {
    EVP_MAC* fetched = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (fetched == nullptr) throw std::runtime_error("OpenSSL has no HMAC");
    return fetched;
  }();
  return mac;
}

}  // namespace

std::string webhook_signature(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(hmac()), &EVP_MAC_CTX_free);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  auto bytes = [](std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  static const unsigned char kEmpty = 0;  // OpenSSL reads a null key as "keep the previous key"
  const unsigned char* key = secret.empty() ? &kEmpty : bytes(secret);
  std::string timestamp = std::to_string(unix_seconds);
  std::string prefix = timestamp + ".";
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (!ctx || EVP_MAC_init(ctx.get(), key, secret.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), bytes(prefix), prefix.size()) != 1 ||
      EVP_MAC_update(ctx.get(), bytes(body), body.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out, &len, sizeof out) != 1)
    throw std::runtime_error("HMAC-SHA256 failed");
  return "t=" + timestamp + ",v1=" + crypto::hex_encode(std::string_view(reinterpret_cast<char*>(out), len));
}

}  // namespace tessera::events
