// All randomness of Tessera comes from here (libsodium's CSPRNG).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::crypto {

// Must run once before any other crypto call; safe to call again.
void init();

void random_fill(void* buf, size_t n);
std::string random_bytes(size_t n);

std::string base64url_encode(std::string_view bytes);
// False when `text` is not unpadded base64url.
bool base64url_decode(std::string_view text, std::string& out);
// Standard base64 with padding (RFC 4648 section 4: HTTP Basic, PEM bodies, key files).
std::string base64_encode(std::string_view bytes);
// Either alphabet, padding optional: what clients send as "base64". nullopt when malformed.
std::optional<std::string> base64_decode_lenient(std::string_view text);
std::string hex_encode(std::string_view bytes);

}  // namespace tessera::crypto
