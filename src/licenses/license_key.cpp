#include "licenses/license_key.hpp"

#include <sodium.h>

#include "crypto/random.hpp"

namespace tessera::licenses {

namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // Crockford: no I, L, O, U
constexpr size_t kRandomChars = 24;

// The first 5 bits of BLAKE2b-256 of the 24 characters: any typo is caught with probability 31/32.
char check_char(std::string_view body) {
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(body.data()), body.size(), nullptr, 0);
  return kAlphabet[digest[0] >> 3];
}

std::optional<char> decode_char(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (c == 'I' || c == 'L') return '1';
  if (c == 'O') return '0';
  if (kAlphabet.find(c) == std::string_view::npos) return std::nullopt;
  return c;
}

}  // namespace

std::string make_license_key() {
  std::string body;
  unsigned char bytes[kRandomChars];
  crypto::random_fill(bytes, sizeof bytes);
  for (unsigned char b : bytes) body += kAlphabet[b & 31];  // 256 is a multiple of 32: no bias
  return format_license_key(body + check_char(body));
}

std::optional<std::string> normalize_license_key(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '-' || c == ' ') continue;
    auto decoded = decode_char(c);
    if (!decoded || out.size() > kRandomChars) return std::nullopt;
    out += *decoded;
  }
  if (out.size() != kRandomChars + 1 || check_char(std::string_view(out).substr(0, kRandomChars)) != out.back())
    return std::nullopt;
  return out;
}

std::string format_license_key(std::string_view normalized) {
  std::string out;
  for (size_t i = 0; i < normalized.size(); ++i) {
    if (i > 0 && i % 5 == 0) out += '-';
    out += normalized[i];
  }
  return out;
}

}  // namespace tessera::licenses
