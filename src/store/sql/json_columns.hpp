// JSON text columns holding arrays of strings (tags, permissions).
#pragma once

#include <string>
#include <vector>

namespace tessera::store::sql {

std::string to_json_array(const std::vector<std::string>& items);
std::vector<std::string> from_json_array(const std::string& text);

}  // namespace tessera::store::sql
