#include "store/sql/json_columns.hpp"

#include <boost/json.hpp>

namespace tessera::store::sql {

std::string to_json_array(const std::vector<std::string>& items) {
  boost::json::array a;
  for (const auto& item : items) a.emplace_back(item);
  return boost::json::serialize(a);
}

std::vector<std::string> from_json_array(const std::string& text) {
  std::vector<std::string> out;
  boost::json::value parsed = boost::json::parse(text);  // named: a temporary would die before the loop
  for (const auto& item : parsed.as_array()) out.emplace_back(item.as_string());
  return out;
}

}  // namespace tessera::store::sql
