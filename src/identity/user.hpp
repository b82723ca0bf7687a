#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"

namespace tessera::identity {

struct User {
  std::string id;
  std::string project_id;
  std::optional<std::string> email;
  std::optional<std::string> login;
  std::optional<std::string> phone;
  std::optional<std::string> full_name;
  std::optional<std::string> external_id;
  std::vector<std::string> tags;
  boost::json::object data;
  std::optional<std::string> avatar_url;
  bool active = true;
  bool email_verified = false;
  bool is_guest = false;
  bool has_password = false;  // never the hash itself: that is only read through UserStore::password_hash
  Timestamp created_at;
  Timestamp updated_at;
  std::optional<Timestamp> last_request_at;
};

// The user object of the API (API.md), as responses and events show it.
boost::json::object to_json(const User& user);

// A field of a merge-patch: absent (nullopt), set to null (inner nullopt), or set to a value.
template <class T>
using PatchField = std::optional<std::optional<T>>;

// Ways a user is identified at login. Their stored keys are case-folded for email and login.
enum class IdentifierKind { email, login, phone };

}  // namespace tessera::identity
