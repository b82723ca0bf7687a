#include "api/json_body.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>

namespace tessera::api {

namespace {
constexpr size_t kMaxJsonDepth = 64;

bool is_json_media_type(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  std::string lower(media);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json" || (lower.starts_with("application/") && lower.ends_with("+json"));
}
}  // namespace

Result<boost::json::object> parse_json_object(const http::Request& request) {
  const std::string& body = request.body();
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return boost::json::object();
  auto value = parse_json_value(request);
  if (!value) return fail(std::move(value.error()));
  if (!value->is_object()) return fail(Error::bad_request("malformed_json", "The request body must be a JSON object."));
  return std::move(value->as_object());
}

Result<boost::json::value> parse_json_value(const http::Request& request) {
  auto ct = request.find(http::beast_http::field::content_type);
  if (ct == request.end() || !is_json_media_type(ct->value()))
    return fail(Error::make(415, "unsupported_media_type", "The request body must be application/json."));
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(request.body(), ec, {}, options);
  if (ec) return fail(Error::bad_request("malformed_json", "The request body is not valid JSON: " + ec.message() + "."));
  return value;
}

const boost::json::value* JsonFields::field(std::string_view name) {
  known_.insert(std::string(name));
  auto it = object_.find(name);
  return it == object_.end() ? nullptr : &it->value();
}

void JsonFields::type_error(std::string_view name, const char* expected) {
  errors_.push_back({std::string(name), "type", std::string("must be ") + expected});
}

std::optional<std::string> JsonFields::string(std::string_view name) {
  const auto* v = field(name);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    type_error(name, "a string");
    return std::nullopt;
  }
  return std::string(v->as_string());
}

identity::PatchField<std::string> JsonFields::nullable_string(std::string_view name) {
  const auto* v = field(name);
  if (!v) return std::nullopt;
  if (v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) {
    type_error(name, "a string or null");
    return std::nullopt;
  }
  return std::optional<std::string>(std::string(v->as_string()));
}

std::optional<std::vector<std::string>> JsonFields::string_array(std::string_view name) {
  const auto* v = field(name);
  if (!v) return std::nullopt;
  if (!v->is_array()) {
    type_error(name, "an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (auto& item : v->as_array()) {
    if (!item.is_string()) {
      type_error(name, "an array of strings");
      return std::nullopt;
    }
    out.emplace_back(item.as_string());
  }
  return out;
}

std::optional<boost::json::object> JsonFields::object(std::string_view name) {
  const auto* v = field(name);
  if (!v) return std::nullopt;
  if (!v->is_object()) {
    type_error(name, "an object");
    return std::nullopt;
  }
  return v->as_object();
}

std::optional<boost::json::value> JsonFields::any(std::string_view name) {
  const auto* v = field(name);
  if (!v) return std::nullopt;
  return *v;
}

void JsonFields::require(std::string_view name, bool present) {
  bool has_type_error = false;
  for (auto& e : errors_) has_type_error |= e.field == name;
  if (!present && !has_type_error) errors_.push_back({std::string(name), "required", "is required"});
}

Status JsonFields::finish(std::vector<FieldError> rule_errors) const {
  std::vector<FieldError> unknown;
  for (auto& [key, value] : object_)
    if (!known_.contains(std::string_view(key))) unknown.push_back({std::string(key), "unknown_field", "is not a field of this request"});
  if (!unknown.empty()) {
    Error e = Error::bad_request("unknown_field", "Unknown field: " + unknown.front().field + ".");
    e.fields = std::move(unknown);
    return fail(std::move(e));
  }
  std::vector<FieldError> errors = errors_;
  for (auto& e : rule_errors) {
    bool field_has_error = std::any_of(errors_.begin(), errors_.end(), [&](const FieldError& x) { return x.field == e.field; });
    if (!field_has_error) errors.push_back(std::move(e));
  }
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  return {};
}

}  // namespace tessera::api
