// Reading JSON request bodies: strict parsing, then typed field access that collects every problem.
// Unknown fields are refused (400 unknown_field); wrong types are 422 validation_failed naming each field.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "http/message.hpp"
#include "identity/user_service.hpp"

namespace tessera::api {

// An empty body reads as {} so that bodiless POSTs work. Otherwise the body must be
// application/json holding one object.
Result<boost::json::object> parse_json_object(const http::Request& request);
// Any JSON document (object, array, ...): 415 unsupported_media_type unless the body is application/json
// (or +json), 400 malformed_json when it is not JSON (an empty body included).
Result<boost::json::value> parse_json_value(const http::Request& request);

class JsonFields {
 public:
  explicit JsonFields(const boost::json::object& object) : object_(object) {}

  std::optional<std::string> string(std::string_view name);
  identity::PatchField<std::string> nullable_string(std::string_view name);
  std::optional<std::vector<std::string>> string_array(std::string_view name);
  std::optional<boost::json::object> object(std::string_view name);
  std::optional<boost::json::value> any(std::string_view name);
  // Marks a field as known without reading it (e.g. "project", read by the project resolver).
  void allow(std::string_view name) { known_.insert(std::string(name)); }
  void require(std::string_view name, bool present);

  // 400 unknown_field for fields nobody read; else one 422 naming every offending field: the type and
  // presence errors collected here, then `rule_errors` (the domain's validation) for the other fields.
  Status finish(std::vector<FieldError> rule_errors = {}) const;

 private:
  const boost::json::value* field(std::string_view name);
  void type_error(std::string_view name, const char* expected);

  const boost::json::object& object_;
  std::set<std::string, std::less<>> known_;
  std::vector<FieldError> errors_;
};

}  // namespace tessera::api
