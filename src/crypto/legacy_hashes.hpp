// Password hashes imported from other systems (bcrypt, passlib's PBKDF2-SHA256): verified as they are,
// never created, and replaced by Argon2id at the next successful login (PasswordHasher::verify says so).
#pragma once

#include <string_view>

namespace tessera::crypto {

// bcrypt `$2a$`, `$2b$` or `$2y$` through libxcrypt. bcrypt reads only the first 72 bytes of a password,
// so longer ones match on that prefix, as they did where the hash came from. libxcrypt refuses passwords
// of 512 bytes or more, and a password holding a NUL byte is refused here: crypt would stop at the NUL
// and accept every password sharing the part before it.
bool bcrypt_verify(std::string_view password, std::string_view hash);

// passlib's `$pbkdf2-sha256$<rounds>$<salt>$<checksum>`: salt and 32-byte checksum in passlib's adapted
// base64 (standard alphabet, '.' for '+', no padding); 1 to 10,000,000 rounds.
bool pbkdf2_sha256_verify(std::string_view password, std::string_view hash);

// What an administrator may import as a user's password hash: a well-formed Argon2id or Argon2i PHC
// string (v=19), bcrypt `$2a$/$2b$/$2y$` with cost 04-31, or passlib PBKDF2-SHA256. Checks form, not
// the password; a hash refused here could never verify anyway.
bool importable_password_hash(std::string_view hash);

}  // namespace tessera::crypto
