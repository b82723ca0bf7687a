// Where a browser may be sent after an external sign-in: only to addresses on the project's allow-list,
// so Tessera is never an open redirect (docs/external.md, "redirect_allow_list").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::external {

// Why `entry` cannot be on an allow-list (nullopt when it can): an absolute URL of at most 2048
// characters, without user:password or fragment.
std::optional<std::string> allow_list_entry_problem(std::string_view entry);

// True when, for one entry, scheme, host and port are equal and either the paths are equal or the
// entry's path ends in "/" and `redirect_to`'s path starts with it. A `redirect_to` with
// user:password, a fragment or a "." or ".." path segment is never allowed.
bool redirect_allowed(const std::vector<std::string>& allow_list, std::string_view redirect_to);

}  // namespace tessera::external
