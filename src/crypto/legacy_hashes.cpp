#include "crypto/legacy_hashes.hpp"

#include <crypt.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <charconv>
#include <climits>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/token.hpp"

namespace tessera::crypto {

namespace {

// Imported hashes are verified at the next login on the hashing pool: their cost is capped so that an
// import cannot tie up a worker for minutes (bcrypt 31 takes a day) or exhaust memory.
constexpr int kImportMaxBcryptCost = 15;                  // ~1.4 s
constexpr uint32_t kImportMaxPbkdf2Rounds = 2'000'000;    // ~1 s
constexpr uint64_t kImportMaxArgon2MemoryKib = 262'144;   // 256 MiB
constexpr uint64_t kImportMaxArgon2Iterations = 16;

// ---- bcrypt ----------------------------------------------------------------------------------------

constexpr std::string_view kBcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr size_t kBcryptLength = 60;  // "$2b$" cost "$" 22 salt + 31 hash characters

bool bcrypt_well_formed(std::string_view hash) {
  if (hash.size() != kBcryptLength) return false;
  if (!hash.starts_with("$2a$") && !hash.starts_with("$2b$") && !hash.starts_with("$2y$")) return false;
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9' || hash[6] != '$') return false;
  int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return false;
  for (char c : hash.substr(7))
    if (kBcryptAlphabet.find(c) == std::string_view::npos) return false;
  // 22 characters carry the 128-bit salt and 31 the 184-bit hash: the spare low bits of each last
  // character are zero in every real bcrypt hash, and crypt re-encodes them so; with them set, a
  // hash could never match.
  return kBcryptAlphabet.find(hash[28]) % 16 == 0 && kBcryptAlphabet.find(hash[59]) % 4 == 0;
}

// ---- PBKDF2-SHA256 (passlib) -----------------------------------------------------------------------

constexpr std::string_view kPbkdf2Prefix = "$pbkdf2-sha256$";
constexpr uint32_t kPbkdf2MaxRounds = 10'000'000;  // ~seconds of CPU: more is an attack, not a hash
constexpr size_t kPbkdf2ChecksumBytes = 32;
constexpr size_t kPbkdf2MaxSaltBytes = 1024;  // passlib's own limit

struct Pbkdf2Hash {
  uint32_t rounds = 0;
  std::string salt;
  std::string checksum;
};

// Splits on '$'; the text after `prefix` must have exactly `parts` fields.
std::optional<std::vector<std::string_view>> fields_after(std::string_view text, std::string_view prefix,
                                                          size_t parts) {
  if (!text.starts_with(prefix)) return std::nullopt;
  text.remove_prefix(prefix.size());
  std::vector<std::string_view> out;
  for (;;) {
    size_t dollar = text.find('$');
    out.push_back(text.substr(0, dollar));
    if (dollar == std::string_view::npos) break;
    text.remove_prefix(dollar + 1);
  }
  if (out.size() != parts) return std::nullopt;
  return out;
}

// A plain decimal without sign or leading zeros (passlib refuses zero-padded rounds too).
std::optional<uint32_t> decimal(std::string_view text) {
  if (text.empty() || text.size() > 10 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  for (char c : text)
    if (c < '0' || c > '9') return std::nullopt;
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Unpadded standard base64; libsodium also refuses non-zero spare bits, so each value has one spelling.
std::optional<std::string> base64_decode(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                        &len, &end, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
      end != text.data() + text.size())
    return std::nullopt;
  out.resize(len);
  return out;
}

// passlib's "adapted base64": the standard alphabet with '.' in place of '+', no padding.
std::optional<std::string> ab64_decode(std::string_view text) {
  std::string standard(text);
  for (char& c : standard) {
    if (c == '+') return std::nullopt;
    if (c == '.') c = '+';
  }
  return base64_decode(standard);
}

std::optional<Pbkdf2Hash> parse_pbkdf2_sha256(std::string_view hash) {
  auto fields = fields_after(hash, kPbkdf2Prefix, 3);
  if (!fields) return std::nullopt;
  auto rounds = decimal((*fields)[0]);
  auto salt = ab64_decode((*fields)[1]);
  auto checksum = ab64_decode((*fields)[2]);
  if (!rounds || *rounds < 1 || *rounds > kPbkdf2MaxRounds || !salt || salt->size() > kPbkdf2MaxSaltBytes ||
      !checksum || checksum->size() != kPbkdf2ChecksumBytes)
    return std::nullopt;
  return Pbkdf2Hash{*rounds, std::move(*salt), std::move(*checksum)};
}

// ---- Argon2 (PHC strings as libsodium verifies them) -----------------------------------------------

constexpr uint32_t kArgon2MaxLanes = 0xFFFFFF;
constexpr size_t kArgon2MinSaltBytes = 8;
constexpr size_t kArgon2MinHashBytes = 16;  // libsodium's ARGON2_MIN_OUTLEN

bool argon2_well_formed(std::string_view hash) {
  std::string_view prefix = hash.starts_with("$argon2id$") ? "$argon2id$" : "$argon2i$";
  // libsodium verifies version 0x13 only, and wants m, t, p in this order.
  auto fields = fields_after(hash, prefix, 4);
  if (!fields || (*fields)[0] != "v=19") return false;
  std::string_view params = (*fields)[1];
  if (!params.starts_with("m=")) return false;
  size_t t_at = params.find(",t="), p_at = params.find(",p=");
  if (t_at == std::string_view::npos || p_at == std::string_view::npos || p_at < t_at) return false;
  auto m = decimal(params.substr(2, t_at - 2));
  auto t = decimal(params.substr(t_at + 3, p_at - t_at - 3));
  auto p = decimal(params.substr(p_at + 3));
  if (!m || !t || !p || *t < 1 || *p < 1 || *p > kArgon2MaxLanes || *m < 8ull * *p) return false;
  if (*m > kImportMaxArgon2MemoryKib || *t > kImportMaxArgon2Iterations) return false;
  auto salt = base64_decode((*fields)[2]);
  auto digest = base64_decode((*fields)[3]);
  return salt && salt->size() >= kArgon2MinSaltBytes && digest && digest->size() >= kArgon2MinHashBytes;
}

}  // namespace

bool bcrypt_verify(std::string_view password, std::string_view hash) {
  if (!bcrypt_well_formed(hash) || password.find('\0') != std::string_view::npos) return false;
  std::string phrase(password);  // crypt wants NUL-terminated strings
  std::string setting(hash);
  // ~32 KiB of scratch: too much for the stack of a pool thread, and it holds password-derived state.
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(phrase.c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
  bool ok = out != nullptr && constant_time_equal(out, hash);
  sodium_memzero(data.get(), sizeof(crypt_data));
  sodium_memzero(phrase.data(), phrase.size());
  return ok;
}

bool pbkdf2_sha256_verify(std::string_view password, std::string_view hash) {
  auto parsed = parse_pbkdf2_sha256(hash);
  if (!parsed || password.size() > INT_MAX) return false;
  unsigned char derived[kPbkdf2ChecksumBytes];
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(parsed->salt.data()),
                        static_cast<int>(parsed->salt.size()), static_cast<int>(parsed->rounds), EVP_sha256(),
                        sizeof derived, derived) != 1)
    return false;
  bool ok = constant_time_equal(std::string_view(reinterpret_cast<const char*>(derived), sizeof derived),
                                parsed->checksum);
  sodium_memzero(derived, sizeof derived);
  return ok;
}

bool importable_password_hash(std::string_view hash) {
  if (hash.starts_with("$argon2id$") || hash.starts_with("$argon2i$")) return argon2_well_formed(hash);
  if (hash.starts_with("$2"))
    return bcrypt_well_formed(hash) && (hash[4] - '0') * 10 + (hash[5] - '0') <= kImportMaxBcryptCost;
  auto pbkdf2 = parse_pbkdf2_sha256(hash);
  return pbkdf2 && pbkdf2->rounds <= kImportMaxPbkdf2Rounds;
}

}  // namespace tessera::crypto
