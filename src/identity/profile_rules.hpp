// The rules of profile fields, shared by sign-up, self-service and administration. Each appends
// the field errors it finds.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace tessera::identity {

void check_email(const std::optional<std::string>& email, std::vector<FieldError>& errors);
void check_login(const std::optional<std::string>& login, std::vector<FieldError>& errors);
void check_phone(const std::optional<std::string>& phone, std::vector<FieldError>& errors);
// Free texts (full_name, external_id): at most 256 characters.
void check_text(const char* field, const std::optional<std::string>& text, std::vector<FieldError>& errors);
void check_data(const boost::json::object& data, std::vector<FieldError>& errors);
void check_tags(const std::vector<std::string>& tags, std::vector<FieldError>& errors);
// 8 to 1024 characters.
void check_password_rule(const std::string& field, const std::string& password, std::vector<FieldError>& errors);

}  // namespace tessera::identity
