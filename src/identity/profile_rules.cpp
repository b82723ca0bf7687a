#include "identity/profile_rules.hpp"

#include <boost/json/serialize.hpp>

#include "identity/identifiers.hpp"

namespace tessera::identity {

namespace {
constexpr size_t kMaxDataBytes = 64 * 1024;
constexpr size_t kMaxTags = 64;
constexpr size_t kMaxTagChars = 64;
constexpr size_t kMaxTextChars = 256;
constexpr size_t kMinPasswordChars = 8;
constexpr size_t kMaxPasswordChars = 1024;

void check_identifier(const char* field, const std::optional<std::string>& value, bool (*valid)(std::string_view),
                      const char* rule, std::vector<FieldError>& errors) {
  if (value && !valid(*value)) errors.push_back({field, "format", rule});
}
}  // namespace

void check_email(const std::optional<std::string>& v, std::vector<FieldError>& e) {
  check_identifier("email", v, valid_email, "must be a valid email address", e);
}
void check_login(const std::optional<std::string>& v, std::vector<FieldError>& e) {
  check_identifier("login", v, valid_login,
                   "must be 3-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit", e);
}
void check_phone(const std::optional<std::string>& v, std::vector<FieldError>& e) {
  check_identifier("phone", v, valid_phone, "must be an E.164 number such as +14155550123", e);
}
void check_text(const char* field, const std::optional<std::string>& v, std::vector<FieldError>& e) {
  if (v && utf8_length(*v) > kMaxTextChars) e.push_back({field, "too_long", "must be at most 256 characters"});
}
void check_data(const boost::json::object& data, std::vector<FieldError>& e) {
  if (boost::json::serialize(data).size() > kMaxDataBytes)
    e.push_back({"data", "too_large", "must be at most 64 KiB of JSON"});
}
void check_tags(const std::vector<std::string>& tags, std::vector<FieldError>& e) {
  if (tags.size() > kMaxTags) e.push_back({"tags", "too_many", "must have at most 64 tags"});
  for (size_t i = 0; i < tags.size(); ++i) {
    size_t n = utf8_length(tags[i]);
    if (n == 0 || n > kMaxTagChars)
      e.push_back({"tags[" + std::to_string(i) + "]", "length", "must be 1 to 64 characters"});
  }
}

void check_password_rule(const std::string& field, const std::string& password, std::vector<FieldError>& errors) {
  size_t n = utf8_length(password);
  if (n < kMinPasswordChars) errors.push_back({field, "too_short", "must be at least 8 characters"});
  else if (n > kMaxPasswordChars) errors.push_back({field, "too_long", "must be at most 1024 characters"});
}

}  // namespace tessera::identity
