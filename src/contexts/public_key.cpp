#include "contexts/public_key.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <memory>

#include "crypto/random.hpp"

namespace tessera::contexts {

namespace {

constexpr size_t kMaxKeyText = 4096;

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

KeyPtr parse_spki(std::string_view text) {
  if (text.find("-----BEGIN PUBLIC KEY-----") != std::string_view::npos) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
    return KeyPtr(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr, &EVP_PKEY_free);
  }
  auto der = crypto::base64_decode_lenient(text);
  if (!der) return KeyPtr(nullptr, &EVP_PKEY_free);
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  KeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size())), &EVP_PKEY_free);
  if (p != reinterpret_cast<const unsigned char*>(der->data()) + der->size()) return KeyPtr(nullptr, &EVP_PKEY_free);
  return key;
}

bool is_p256(EVP_PKEY* key) {
  char group[64] = "";
  size_t length = 0;
  return EVP_PKEY_is_a(key, "EC") &&
         EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &length) == 1 &&
         std::string_view(group, length) == "prime256v1";
}

}  // namespace

bool valid_key_type(std::string_view key_type) { return key_type == "ed25519" || key_type == "p256"; }

std::optional<std::string> normalize_public_key(std::string_view key_type, std::string_view text) {
  if (text.empty() || text.size() > kMaxKeyText) return std::nullopt;
  if (key_type == "ed25519") {
    auto raw = crypto::base64_decode_lenient(text);
    if (!raw || raw->size() != crypto_sign_PUBLICKEYBYTES) return std::nullopt;
    return crypto::base64_encode(*raw);
  }
  if (key_type != "p256") return std::nullopt;
  auto key = parse_spki(text);  // OpenSSL refuses points that are not on the curve
  if (!key || !is_p256(key.get())) {
    ERR_clear_error();  // leave no stale error for the next OpenSSL call of this thread
    return std::nullopt;
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
  if (!out || PEM_write_bio_PUBKEY(out.get(), key.get()) != 1) return std::nullopt;
  char* data = nullptr;
  long length = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

}  // namespace tessera::contexts
