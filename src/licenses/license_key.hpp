// Human-typeable license keys: 24 random Crockford base32 characters and a check character, shown in
// five groups of five (7XQ2M-4KD9T-0HZPR-B6WNC-3Y1FA).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tessera::licenses {

std::string make_license_key();

// The 25 characters without dashes, upper-case, with I/L read as 1 and O as 0; nullopt when the text is
// not 25 base32 characters (spaces and dashes ignored) or the check character does not match.
std::optional<std::string> normalize_license_key(std::string_view text);

// "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX" from 25 normalized characters.
std::string format_license_key(std::string_view normalized);

}  // namespace tessera::licenses
