// Opaque bearer secrets: a readable prefix plus 32 random bytes in base64url. Only their hash is stored.
#pragma once

#include <string>
#include <string_view>

namespace tessera::crypto {

inline constexpr std::string_view kSessionTokenPrefix = "tss_";
inline constexpr std::string_view kApiKeySecretPrefix = "tsk_";
inline constexpr std::string_view kPersonalTokenPrefix = "tsp_";
inline constexpr std::string_view kRefreshTokenPrefix = "tsr_";
inline constexpr std::string_view kLoginCodePrefix = "tso_";  // the one-time code after an external sign-in

// "tss_" + base64url(32 random bytes)
std::string make_token(std::string_view prefix);

// True when `token` has the prefix and a well-formed 32-byte body; cheap, rejects junk before hashing.
bool token_well_formed(std::string_view token, std::string_view prefix);

// BLAKE2b-256 of the whole token: what the store keeps and looks up. High-entropy secrets need no slow hash.
std::string token_hash(std::string_view token);

// BLAKE2b-256 of a secret keyed with its public id (API keys): a stolen table of hashes cannot be
// matched against secrets of other ids.
std::string keyed_secret_hash(std::string_view id, std::string_view secret);

// A CSRF token derived from a session token (one-way), so it needs no storage of its own.
std::string csrf_token_for(std::string_view session_token);

// The PKCE S256 challenge of a verifier (RFC 7636): base64url(SHA-256(verifier)).
std::string pkce_s256(std::string_view verifier);

// Constant-time equality for secrets of any length (length itself is not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace tessera::crypto
