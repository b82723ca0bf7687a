// UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then randomness; sorts by creation time.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace tessera {

std::string make_uuid_v7(Timestamp now);
// Canonical lowercase 8-4-4-4-12 form of any version.
bool is_uuid(std::string_view s);

}  // namespace tessera
