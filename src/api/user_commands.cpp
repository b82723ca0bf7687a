#include "api/user_commands.hpp"

#include "api/app.hpp"

namespace tessera::api {

std::optional<bool> read_boolean(JsonFields& f, std::string_view name, std::vector<FieldError>& errors) {
  auto v = f.any(name);
  if (!v) return std::nullopt;
  if (!v->is_bool()) {
    errors.push_back({std::string(name), "type", "must be true or false"});
    return std::nullopt;
  }
  return v->as_bool();
}

identity::SignUp read_sign_up(JsonFields& f) {
  identity::SignUp in;
  in.email = f.string("email");
  in.login = f.string("login");
  in.phone = f.string("phone");
  in.password = f.string("password");
  in.full_name = f.string("full_name");
  in.external_id = f.string("external_id");
  in.tags = f.string_array("tags");
  in.data = f.object("data");
  return in;
}

identity::NewUser read_new_user(JsonFields& f, std::vector<FieldError>& errors) {
  identity::NewUser in;
  in.profile = read_sign_up(f);
  in.password_hash = f.string("password_hash");
  in.active = read_boolean(f, "active", errors);
  in.email_verified = read_boolean(f, "email_verified", errors);
  return in;
}

UserUpdate read_user_update(JsonFields& f, std::vector<FieldError>& errors) {
  UserUpdate u;
  u.patch.email = f.nullable_string("email");
  u.patch.login = f.nullable_string("login");
  u.patch.phone = f.nullable_string("phone");
  u.patch.full_name = f.nullable_string("full_name");
  u.patch.external_id = f.nullable_string("external_id");
  u.patch.tags = f.string_array("tags");
  u.patch.data = f.any("data");
  u.patch.active = read_boolean(f, "active", errors);
  u.patch.email_verified = read_boolean(f, "email_verified", errors);
  u.roles = f.string_array("roles");
  return u;
}

boost::asio::awaitable<Result<identity::User>> create_user_as(App& app, const Caller& caller, const identity::NewUser& in) {
  const std::string& project_id = caller.project->id;
  if (in.profile.password) co_return co_await app.hashing([&] { return app.user_admin().create(project_id, in); });
  co_return app.user_admin().create(project_id, in);
}

Result<identity::User> update_user_as(App& app, const Caller& caller, const std::string& id, const UserUpdate& update) {
  if (update.roles) {  // checked before anything is saved: a refused role change changes nothing
    if (auto ok = caller.require("roles:manage"); !ok) return fail(ok.error());
    if (!app.users().get(caller.project->id, id)) return fail(Error::not_found("user_not_found", "No user has this id in the project."));
    if (auto ok = app.roles().check_roles_of(caller.project->id, id, *update.roles, caller.grantor()); !ok)
      return fail(ok.error());
  }
  auto user = app.user_admin().update(caller.project->id, id, update.patch);
  if (!user) return user;
  if (update.roles) {
    auto set = app.roles().set_roles_of(caller.project->id, id, *update.roles, caller.grantor());
    if (!set) return fail(set.error());
  }
  return user;
}

}  // namespace tessera::api
