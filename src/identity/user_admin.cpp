#include "identity/user_admin.hpp"

#include "core/uuid.hpp"
#include "crypto/legacy_hashes.hpp"
#include "events/outbox.hpp"
#include "identity/identifiers.hpp"
#include "identity/profile_rules.hpp"
#include "session/session_service.hpp"
#include "store/store.hpp"

namespace tessera::identity {

namespace {
Error user_not_found() { return Error::not_found("user_not_found", "No user has this id in the project."); }
Status where_required(const std::vector<Condition>& where) {
  if (where.empty())
    return fail(Error::validation({{"where", "required", "needs at least one condition (a bulk change never targets every user implicitly)"}}));
  return {};
}
}  // namespace

UserAdmin::UserAdmin(store::Store& store, const Clock& clock, const crypto::PasswordHasher& hasher, UserService& users,
                     session::SessionService& sessions)
    : store_(store), clock_(clock), hasher_(hasher), users_(users), sessions_(sessions) {}

std::vector<FieldError> UserAdmin::validate(const NewUser& in) const {
  std::vector<FieldError> e;
  const SignUp& p = in.profile;
  if (!p.email && !p.login && !p.phone && !p.external_id)
    e.push_back({"email", "required", "one of email, login, phone or external_id is required"});
  check_email(p.email, e);
  check_login(p.login, e);
  check_phone(p.phone, e);
  check_text("full_name", p.full_name, e);
  check_text("external_id", p.external_id, e);
  if (p.tags) check_tags(*p.tags, e);
  if (p.data) check_data(*p.data, e);
  if (p.password && in.password_hash)
    e.push_back({"password_hash", "conflict", "give either password or password_hash, not both"});
  if (p.password) check_password_rule("password", *p.password, e);
  if (in.password_hash && !crypto::importable_password_hash(*in.password_hash))
    e.push_back({"password_hash", "format", "must be an $argon2id$, $argon2i$, bcrypt ($2a$, $2b$, $2y$) or $pbkdf2-sha256$ hash"});
  return e;
}

Result<User> UserAdmin::create(const std::string& project_id, const NewUser& in) {
  if (auto errors = validate(in); !errors.empty()) return fail(Error::validation(std::move(errors)));
  const SignUp& p = in.profile;
  Timestamp now = clock_.now();
  User u;
  u.id = make_uuid_v7(now);
  u.project_id = project_id;
  u.email = p.email;
  u.login = p.login;
  u.phone = p.phone;
  u.full_name = p.full_name;
  u.external_id = p.external_id;
  if (p.tags) u.tags = *p.tags;
  if (p.data) u.data = *p.data;
  u.active = in.active.value_or(true);
  u.email_verified = in.email_verified.value_or(false);
  std::optional<std::string> hash = in.password_hash;
  if (p.password) hash = hasher_.hash(*p.password);
  u.has_password = hash.has_value();
  u.created_at = u.updated_at = now;
  Conflict conflict = store_.write([&](store::Repositories& r) {
    Conflict c = r.users.insert(u, hash);
    if (!c) users_.record_user_event(r, "user.created", u);
    return c;
  });
  if (conflict) return fail(identifier_taken(*conflict));
  return u;
}

Result<User> UserAdmin::get(const std::string& project_id, const std::string& id) {
  auto user = users_.get(project_id, id);
  if (!user) return fail(user_not_found());
  return *user;
}

Result<User> UserAdmin::update(const std::string& project_id, const std::string& id, const UserPatch& patch) {
  auto current = get(project_id, id);
  if (!current) return current;
  User next = *current;
  std::vector<FieldError> errors;
  apply_common_fields(next, patch.email, patch.login, patch.phone, patch.full_name, patch.data, errors);
  if (patch.external_id) next.external_id = *patch.external_id;
  check_text("external_id", next.external_id, errors);
  if (patch.tags) {
    next.tags = *patch.tags;
    check_tags(next.tags, errors);
  }
  if (!next.is_guest && !next.email && !next.login && !next.phone && !next.external_id)
    errors.push_back({"email", "required", "a user keeps at least one of email, login, phone or external_id"});
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  reset_verification_if_email_changed(*current, next);
  if (patch.email_verified) next.email_verified = *patch.email_verified;
  if (patch.active) next.active = *patch.active;
  next.updated_at = clock_.now();
  bool suspending = current->active && !next.active;
  Conflict conflict = store_.write([&](store::Repositories& r) {
    Conflict c = r.users.update(next);
    if (c) return c;
    r.changes.invalidate(store::Topic::users, id);
    users_.record_user_event(r, "user.updated", next);
    if (suspending) end_access(r, project_id, id, "user_suspended");
    return c;
  });
  if (conflict) return fail(identifier_taken(*conflict));
  return next;
}

void UserAdmin::end_access(store::Repositories& r, const std::string& project_id, const std::string& user_id,
                           std::optional<std::string_view> event_reason) {
  auto removed = r.sessions.remove_for_user(user_id, std::nullopt);
  session::forget_sessions(r, removed);
  if (event_reason) session::record_sessions_revoked(r, clock_.now(), project_id, user_id, removed, *event_reason);
  r.refresh_tokens.revoke_subject(user_id, clock_.now());
}

Status UserAdmin::remove(const std::string& project_id, const std::string& id) {
  return store_.write([&](store::Repositories& r) -> Status {
    // The project check comes first: ending the sessions of another project's user must never happen.
    auto user = r.users.find(project_id, id);
    if (!user) return fail(user_not_found());
    end_access(r, project_id, id, std::nullopt);
    r.users.remove(project_id, id);
    r.changes.invalidate(store::Topic::users, id);
    users_.record_user_event(r, "user.deleted", *user);
    return {};
  });
}

Result<User> UserAdmin::lookup(const std::string& project_id, std::string_view field, std::string_view value) {
  std::optional<User> found;
  if (field == "external_id") {
    auto page = list(project_id, UserQuery{{Condition{"external_id", FilterOp::eq, boost::json::string(value)}}, {}, 1, {}});
    if (!page.items.empty()) found = page.items.front();
  } else {
    IdentifierKind kind = field == "email" ? IdentifierKind::email : field == "login" ? IdentifierKind::login : IdentifierKind::phone;
    std::string key = identifier_key(kind, value);
    found = store_.read([&](store::Repositories& r) { return r.users.find_by_identifier(project_id, kind, key); });
  }
  if (!found) return fail(user_not_found());
  return *found;
}

UserPage UserAdmin::list(const std::string& project_id, const UserQuery& query) {
  return store_.read([&](store::Repositories& r) { return r.users.list(project_id, query); });
}

Result<uint64_t> UserAdmin::bulk_update(const std::string& project_id, const std::vector<Condition>& where,
                                        const UserChanges& changes) {
  if (auto ok = where_required(where); !ok) return fail(ok.error());
  std::vector<FieldError> errors;
  check_text("full_name", changes.full_name ? *changes.full_name : std::nullopt, errors);
  check_text("external_id", changes.external_id ? *changes.external_id : std::nullopt, errors);
  if (changes.tags) check_tags(*changes.tags, errors);
  if (changes.data_patch) check_data(*changes.data_patch, errors);
  for (auto& e : errors) e.field = "set." + e.field;
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  std::vector<std::string> ids;
  Status done = store_.write([&](store::Repositories& r) -> Status {
    ids = r.users.update_where(project_id, where, changes, clock_.now());
    for (const auto& id : ids) r.changes.invalidate(store::Topic::users, id);
    if (events::has_subscribers(r, project_id, "user.updated"))
      for (const auto& id : ids)
        if (auto user = r.users.find(project_id, id)) users_.record_user_event(r, "user.updated", *user);
    if (changes.data_patch) {
      // The merge may grow data past its limit for some users: then nobody changes (all or nothing).
      for (const auto& id : ids) {
        std::vector<FieldError> too_large;
        if (auto user = r.users.find(project_id, id)) check_data(user->data, too_large);
        if (!too_large.empty())
          return fail(Error::validation({{"set.data", "too_large", "would make the data of a matched user exceed 64 KiB"}}));
      }
    }
    if (changes.active == false)
      for (const auto& id : ids) end_access(r, project_id, id, "user_suspended");
    return {};
  });
  if (!done) return fail(done.error());
  return ids.size();
}

Result<uint64_t> UserAdmin::bulk_delete(const std::string& project_id, const std::vector<Condition>& where) {
  if (auto ok = where_required(where); !ok) return fail(ok.error());
  std::vector<std::string> ids;
  store_.write([&](store::Repositories& r) {
    if (events::has_subscribers(r, project_id, "user.deleted")) {
      UserQuery matched{where, {}, kMaxUserListLimit, std::nullopt};
      do {
        UserPage page = r.users.list(project_id, matched);
        for (const User& user : page.items) users_.record_user_event(r, "user.deleted", user);
        matched.after = page.next;
      } while (matched.after);
    }
    ids = r.users.remove_where(project_id, where);  // sessions go with the rows; refresh tokens need the user
    for (const auto& id : ids) r.changes.invalidate(store::Topic::users, id);
  });
  return ids.size();
}

}  // namespace tessera::identity
