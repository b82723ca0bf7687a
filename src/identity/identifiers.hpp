// Rules for the ways a user is identified, and their case-folded keys for uniqueness and lookup.
#pragma once

#include <string>
#include <string_view>

#include "identity/user.hpp"

namespace tessera::identity {

bool valid_email(std::string_view email);
bool valid_login(std::string_view login);
bool valid_phone(std::string_view phone);  // E.164: '+', then 7 to 15 digits, not starting with 0

// Emails and logins are unique regardless of ASCII case; phones are already canonical.
std::string identifier_key(IdentifierKind kind, std::string_view value);

// Unicode code points in valid UTF-8 (Boost.JSON has already rejected invalid UTF-8).
size_t utf8_length(std::string_view s);

}  // namespace tessera::identity
