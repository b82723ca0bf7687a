#include "identity/user_service.hpp"

#include <boost/json/serialize.hpp>

#include "core/uuid.hpp"
#include "events/outbox.hpp"
#include "identity/identifiers.hpp"
#include "identity/profile_rules.hpp"
#include "session/session_service.hpp"
#include "store/store.hpp"

namespace tessera::identity {

namespace {

Error invalid_credentials() {
  Error e = Error::make(401, "invalid_credentials", "The identifier or the password is wrong.");
  return e;
}


bool has_identifier(const User& u) { return u.email || u.login || u.phone; }

std::string_view kind_name(IdentifierKind k) {
  return k == IdentifierKind::email ? "email" : k == IdentifierKind::login ? "login" : "phone";
}

}  // namespace

std::vector<FieldError> validate_sign_up(const SignUp& in) {
  std::vector<FieldError> e;
  if (!in.email && !in.login && !in.phone)
    e.push_back({"email", "required", "one of email, login or phone is required"});
  check_email(in.email, e);
  check_login(in.login, e);
  check_phone(in.phone, e);
  if (!in.password) e.push_back({"password", "required", "is required"});
  else check_password_rule("password", *in.password, e);
  check_text("full_name", in.full_name, e);
  check_text("external_id", in.external_id, e);
  if (in.tags) check_tags(*in.tags, e);
  if (in.data) check_data(*in.data, e);
  return e;
}

void merge_patch(boost::json::object& target, const boost::json::object& patch) {
  for (auto& [key, value] : patch) {
    if (value.is_null()) {
      target.erase(key);
    } else if (value.is_object()) {
      auto it = target.find(key);
      if (it == target.end() || !it->value().is_object()) target[key] = boost::json::object();
      merge_patch(target[key].as_object(), value.as_object());
    } else {
      target[key] = value;
    }
  }
}

UserService::UserService(store::Store& store, const Clock& clock, const crypto::PasswordHasher& hasher,
                         session::SessionService& sessions, size_t cache_size)
    : store_(store), clock_(clock), hasher_(hasher), sessions_(sessions), cache_(cache_size) {
  store_.caches().follow(store::Topic::users, cache_);
}

Error identifier_taken(const std::string& field) {
  Error e = Error::conflict("identifier_taken", "This " + field + " is already registered in the project.");
  e.fields.push_back({field, "taken", "is already registered"});
  return e;
}

Result<User> UserService::sign_up(const projects::Project& project, const SignUp& in) {
  if (auto errors = validate_sign_up(in); !errors.empty()) return fail(Error::validation(std::move(errors)));
  User u;
  Timestamp now = clock_.now();
  u.id = make_uuid_v7(now);
  u.project_id = project.id;
  u.email = in.email;
  u.login = in.login;
  u.phone = in.phone;
  u.full_name = in.full_name;
  u.external_id = in.external_id;
  if (in.tags) u.tags = *in.tags;
  if (in.data) u.data = *in.data;
  u.has_password = true;
  u.created_at = u.updated_at = now;
  std::string hash = hasher_.hash(*in.password);
  Conflict conflict = store_.write([&](store::Repositories& r) {
    Conflict c = r.users.insert(u, hash);
    if (!c) record_user_event(r, "user.created", u);
    return c;
  });
  if (conflict) return fail(identifier_taken(*conflict));
  return u;
}

void UserService::record_user_event(store::Repositories& r, std::string_view type, const User& user) const {
  events::record(r, clock_.now(), {std::string(type), user.project_id, {{"user", to_json(user)}}});
}

void UserService::record_login_failed(const projects::Project& project, const PasswordLogin& in,
                                      const std::optional<std::string>& user_id, std::string_view reason,
                                      const std::string& ip) {
  boost::json::object data{{"identifier", {{kind_name(in.kind), in.identifier}}},
                           {"user_id", user_id ? boost::json::value(*user_id) : boost::json::value(nullptr)},
                           {"reason", reason},
                           {"ip", ip}};
  store_.write([&](store::Repositories& r) { events::record(r, clock_.now(), {"user.login_failed", project.id, data}); });
}

Result<User> UserService::log_in(const projects::Project& project, const PasswordLogin& in, const std::string& ip) {
  std::string key = identifier_key(in.kind, in.identifier);
  auto found = store_.read([&](store::Repositories& r) -> std::optional<std::pair<User, std::optional<std::string>>> {
    auto user = r.users.find_by_identifier(project.id, in.kind, key);
    if (!user) return std::nullopt;
    auto hash = r.users.password_hash(user->id);
    return std::make_pair(std::move(*user), std::move(hash));
  });
  if (!found || !found->second) {
    hasher_.verify_dummy(in.password);  // unknown users cost the same as known ones
    record_login_failed(project, in, found ? std::optional(found->first.id) : std::nullopt, "invalid_credentials", ip);
    return fail(invalid_credentials());
  }
  auto& [user, hash] = *found;
  crypto::VerifyOutcome outcome = hasher_.verify(in.password, *hash);
  if (!outcome.ok) {
    record_login_failed(project, in, user.id, "invalid_credentials", ip);
    return fail(invalid_credentials());
  }
  if (!user.active) {
    record_login_failed(project, in, user.id, "user_inactive", ip);
    return fail(Error::forbidden("user_inactive", "This account is suspended."));
  }
  if (outcome.needs_rehash) {
    std::string fresh = hasher_.hash(in.password);
    store_.write([&](store::Repositories& r) { r.users.set_password_hash(user.id, fresh, user.updated_at); });
  }
  return user;
}

Result<User> UserService::create_guest(const projects::Project& project) {
  User u;
  Timestamp now = clock_.now();
  u.id = make_uuid_v7(now);
  u.project_id = project.id;
  u.is_guest = true;
  u.created_at = u.updated_at = now;
  store_.write([&](store::Repositories& r) {
    r.users.insert(u, std::nullopt);
    record_user_event(r, "user.created", u);
  });
  return u;
}

std::shared_ptr<const User> UserService::get(const std::string& project_id, const std::string& user_id) {
  if (auto cached = cache_.get(user_id); cached && cached->project_id == project_id) return cached;
  uint64_t epoch = cache_.epoch();
  auto user = store_.read([&](store::Repositories& r) { return r.users.find(project_id, user_id); });
  if (!user) return nullptr;
  auto shared = std::make_shared<const User>(std::move(*user));
  cache_.fill(user_id, shared, epoch);
  return shared;
}

Status UserService::verify_current_password(const User& me, const std::optional<std::string>& password,
                                            const char* field) {
  if (!me.has_password) return {};
  if (!password) return fail(Error::validation({{field, "required", "is required to confirm this change"}}));
  auto hash = store_.read([&](store::Repositories& r) { return r.users.password_hash(me.id); });
  if (!hash || !hasher_.verify(*password, *hash).ok)
    return fail(Error::validation({{field, "incorrect", "is not the current password"}}));
  return {};
}

void apply_common_fields(User& next, const PatchField<std::string>& email, const PatchField<std::string>& login,
                         const PatchField<std::string>& phone, const PatchField<std::string>& full_name,
                         const std::optional<boost::json::value>& data, std::vector<FieldError>& errors) {
  auto apply = [](std::optional<std::string>& field, const PatchField<std::string>& value) {
    if (value) field = *value;
  };
  apply(next.email, email);
  apply(next.login, login);
  apply(next.phone, phone);
  apply(next.full_name, full_name);
  if (email) check_email(next.email, errors);
  if (login) check_login(next.login, errors);
  if (phone) check_phone(next.phone, errors);
  check_text("full_name", next.full_name, errors);
  if (data) {
    if (data->is_object()) merge_patch(next.data, data->as_object());
    else if (data->is_null()) next.data = {};
    else errors.push_back({"data", "type", "must be an object"});
    check_data(next.data, errors);
  }
}

void reset_verification_if_email_changed(const User& before, User& after) {
  if (identifier_key(IdentifierKind::email, after.email.value_or("")) !=
      identifier_key(IdentifierKind::email, before.email.value_or("")))
    after.email_verified = false;
}

Result<User> apply_profile_patch(const User& me, const ProfilePatch& patch) {
  User next = me;
  std::vector<FieldError> errors;
  apply_common_fields(next, patch.email, patch.login, patch.phone, patch.full_name, patch.data, errors);
  if (patch.password) {
    if (me.has_password)
      errors.push_back({"password", "not_allowed", "is changed through POST /v1/me/password"});
    else
      check_password_rule("password", *patch.password, errors);
  }
  bool will_have_password = me.has_password || patch.password.has_value();
  if (me.is_guest) {
    if (has_identifier(next) && !will_have_password)
      errors.push_back({"password", "required", "is required for a guest to become a full user"});
    if (patch.password && !has_identifier(next))
      errors.push_back({"email", "required", "one of email, login or phone is required"});
  } else if (!has_identifier(next)) {
    errors.push_back({"email", "required", "a user keeps at least one of email, login or phone"});
  }
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  reset_verification_if_email_changed(me, next);
  if (me.is_guest && has_identifier(next) && will_have_password) next.is_guest = false;
  if (patch.password) next.has_password = true;
  return next;
}

Result<User> UserService::update_profile(const User& me, const ProfilePatch& patch) {
  auto applied = apply_profile_patch(me, patch);
  if (!applied) return applied;
  User& next = *applied;
  bool identifiers_changed = next.email != me.email || next.login != me.login || next.phone != me.phone;
  if (identifiers_changed)
    if (auto ok = verify_current_password(me, patch.current_password, "current_password"); !ok)
      return fail(ok.error());
  std::optional<std::string> new_hash;
  if (patch.password) new_hash = hasher_.hash(*patch.password);
  next.updated_at = clock_.now();
  Conflict conflict = store_.write([&](store::Repositories& r) {
    Conflict c = r.users.update(next);
    if (c) return c;
    if (new_hash) r.users.set_password_hash(next.id, new_hash, next.updated_at);
    r.changes.invalidate(store::Topic::users, next.id);
    record_user_event(r, "user.updated", next);
    return c;
  });
  if (conflict) return fail(identifier_taken(*conflict));
  return next;
}

Status UserService::change_password(const User& me, const std::string& current_session_id,
                                    const std::string& old_password, const std::string& new_password) {
  std::vector<FieldError> errors;
  check_password_rule("new_password", new_password, errors);
  if (!me.has_password) errors.push_back({"old_password", "no_password", "this user has no password yet; set one with PATCH /v1/me"});
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  if (auto ok = verify_current_password(me, old_password, "old_password"); !ok) return ok;
  std::string hash = hasher_.hash(new_password);
  store_.write([&](store::Repositories& r) {
    replace_password(r, clock_.now(), me, hash, current_session_id, "change");
  });
  return {};
}

void replace_password(store::Repositories& r, Timestamp now, const User& user,
                                                      const std::string& hash,
                                                      std::optional<std::string_view> keep_session,
                                                      std::string_view via) {
  r.users.set_password_hash(user.id, hash, now);
  r.refresh_tokens.revoke_subject(user.id, now);
  r.one_time_tokens.remove_for_user(user.id, TokenPurpose::password_reset);
  auto removed = r.sessions.remove_for_user(user.id, keep_session);
  session::forget_sessions(r, removed);
  r.changes.invalidate(store::Topic::users, user.id);
  events::record(r, now, {"password.changed", user.project_id, {{"user_id", user.id}, {"via", via}}});
  session::record_sessions_revoked(r, now, user.project_id, user.id, removed,
                                   via == "reset" ? "password_reset" : "password_changed");
}

Status UserService::delete_self(const User& me, const std::optional<std::string>& password) {
  if (auto ok = verify_current_password(me, password, "password"); !ok) return ok;
  store_.write([&](store::Repositories& r) {
    session::forget_sessions(r, r.sessions.remove_for_user(me.id, std::nullopt));
    r.users.remove(me.project_id, me.id);
    r.changes.invalidate(store::Topic::users, me.id);
    record_user_event(r, "user.deleted", me);
  });
  return {};
}

}  // namespace tessera::identity
