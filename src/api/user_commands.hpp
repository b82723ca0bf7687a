// The commands of user administration, read from JSON and carried out the same way for REST
// (/v1/users) and JSON-RPC (user/create, user/update): one reading of the fields, one sequence of calls.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/caller.hpp"
#include "api/json_body.hpp"
#include "core/error.hpp"
#include "identity/user_admin.hpp"

namespace tessera::api {

class App;

// A JSON boolean; anything else adds a `type` error to `errors`.
std::optional<bool> read_boolean(JsonFields& f, std::string_view name, std::vector<FieldError>& errors);

// The profile fields of a sign-up, and of a user created by an administrator.
identity::SignUp read_sign_up(JsonFields& fields);
// The fields of POST /v1/users. Type errors are left in `f`, or added to `errors` (for booleans).
identity::NewUser read_new_user(JsonFields& f, std::vector<FieldError>& errors);

// The fields of PATCH /v1/users/{id}: the profile patch and, optionally, the user's roles.
struct UserUpdate {
  identity::UserPatch patch;
  std::optional<std::vector<std::string>> roles;  // setting them needs roles:manage too
};
UserUpdate read_user_update(JsonFields& f, std::vector<FieldError>& errors);

// Creates the user in the caller's project (hashing a given password on the hashing pool).
boost::asio::awaitable<Result<identity::User>> create_user_as(App& app, const Caller& caller, const identity::NewUser& in);
// Applies the patch, then the roles (403 without roles:manage, checked before any change).
Result<identity::User> update_user_as(App& app, const Caller& caller, const std::string& id, const UserUpdate& update);

}  // namespace tessera::api
