#include "crypto/server_key.hpp"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/random.hpp"

namespace tessera::crypto {

namespace {

constexpr size_t kKeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
static_assert(kKeyBytes == 32);

std::optional<std::string> decode_key(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  auto bytes = base64_decode_lenient(text);
  if (!bytes || bytes->size() != kKeyBytes) return std::nullopt;
  return bytes;
}

Error key_error(const std::string& message) { return Error::make(400, "invalid_config", message); }

}  // namespace

Result<ServerKey> ServerKey::load(const std::string& base64_key, const std::string& file) {
  if (!base64_key.empty()) {
    auto bytes = decode_key(base64_key);
    if (!bytes) return fail(key_error("TESSERA_SERVER_SECRET_KEY is not 32 bytes in base64"));
    return ServerKey(std::move(*bytes));
  }
  if (!std::filesystem::exists(file)) {
    // Written aside, then linked into place: link() never replaces a file, so nodes starting together
    // on a shared directory all end up reading the one key that won.
    std::string tmp = file + "." + crypto::hex_encode(random_bytes(8)) + ".tmp";
    std::error_code ignored;  // the data dir of a PostgreSQL node may not exist yet
    std::filesystem::create_directories(std::filesystem::path(file).parent_path(), ignored);
    {
      std::ofstream out(tmp, std::ios::trunc);
      if (!out) return fail(key_error("cannot create the server secret key file " + file));
      ::chmod(tmp.c_str(), 0600);
      out << base64_encode(random_bytes(kKeyBytes)) << "\n";
      if (!out.flush()) return fail(key_error("cannot write the server secret key file " + file));
    }
    int linked = ::link(tmp.c_str(), file.c_str());
    int link_errno = errno;
    ::unlink(tmp.c_str());
    if (linked != 0 && link_errno != EEXIST)
      return fail(key_error("cannot create the server secret key file " + file + ": " + std::strerror(link_errno)));
  }
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return fail(key_error("cannot read the server secret key file " + file));
  auto bytes = decode_key(text.str());
  if (!bytes) return fail(key_error(file + " does not hold a server secret key (32 bytes in base64)"));
  return ServerKey(std::move(*bytes));
}

ServerKey ServerKey::from_bytes(std::string bytes) { return ServerKey(std::move(bytes)); }

std::string ServerKey::seal(std::string_view plaintext, std::string_view context) const {
  std::string out(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  random_fill(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long length = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &length, reinterpret_cast<const unsigned char*>(plaintext.data()),
      plaintext.size(), reinterpret_cast<const unsigned char*>(context.data()), context.size(), nullptr, nonce,
      reinterpret_cast<const unsigned char*>(bytes_.data()));
  return out;
}

std::optional<std::string> ServerKey::open(std::string_view sealed, std::string_view context) const {
  constexpr size_t overhead = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (sealed.size() < overhead) return std::nullopt;
  std::string out(sealed.size() - overhead, '\0');
  auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  unsigned long long length = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &length, nullptr,
          nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, sealed.size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
          reinterpret_cast<const unsigned char*>(context.data()), context.size(), nonce,
          reinterpret_cast<const unsigned char*>(bytes_.data())) != 0)
    return std::nullopt;
  out.resize(length);
  return out;
}

std::string ServerKey::derive(std::string_view purpose, std::string_view input) const {
  unsigned char subkey[32], out[32];
  crypto_generichash(subkey, sizeof subkey, reinterpret_cast<const unsigned char*>(purpose.data()), purpose.size(),
                     reinterpret_cast<const unsigned char*>(bytes_.data()), bytes_.size());
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(input.data()), input.size(), subkey, sizeof subkey);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

}  // namespace tessera::crypto
