#include "identity/email_token_service.hpp"

#include "crypto/token.hpp"
#include "events/mail_templates.hpp"
#include "events/outbox.hpp"
#include "identity/identifiers.hpp"
#include "identity/profile_rules.hpp"
#include "identity/user_service.hpp"
#include "session/session_service.hpp"
#include "store/store.hpp"

namespace tessera::identity {

namespace {
constexpr std::string_view kTokenPrefix = "tsc_";

Error invalid_token() { return Error::validation({{"token", "invalid", "is unknown, already used or expired"}}); }

// "1 hour", "24 hours", "30 minutes": for {{expires_in}}.
std::string human_duration(Micros d) {
  auto plural = [](int64_t n, const char* unit) { return std::to_string(n) + " " + unit + (n == 1 ? "" : "s"); };
  int64_t s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s % 3600 == 0) return plural(s / 3600, "hour");
  if (s % 60 == 0) return plural(s / 60, "minute");
  return plural(s, "second");
}

bool same_email(const std::optional<std::string>& a, const std::string& b) {
  return a && identifier_key(IdentifierKind::email, *a) == identifier_key(IdentifierKind::email, b);
}
}  // namespace

EmailTokenService::EmailTokenService(store::Store& store, const Clock& clock, const crypto::PasswordHasher& hasher,
                                     const Config& config, projects::ProjectService& projects, UserService& users)
    : store_(store),
      clock_(clock),
      hasher_(hasher),
      config_(config),
      projects_(projects),
      users_(users) {}

// Fixed windows counted in the database, so that every node sees the same counts. Limits are checked
// in order; one that refuses stops the count there.
Status EmailTokenService::limit(std::initializer_list<RequestLimit> limits) {
  Timestamp now = clock_.now();
  Micros window = config_.account.request_window;
  auto refused = store_.write([&](store::Repositories& r) -> std::optional<Micros> {
    for (const RequestLimit& l : limits) {
      auto counted = r.rate_limits.hit(crypto::token_hash(std::string(l.purpose) + ":" + l.key), now, now - window);
      if (counted.hits > l.max) return counted.start + window - now;
    }
    return std::nullopt;
  });
  if (!refused) return {};
  Error e = Error::make(429, "rate_limited", "Too many requests for this address; retry later.");
  e.retry_after_seconds = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(*refused).count()) + 1;
  return fail(std::move(e));
}

Status EmailTokenService::request_password_reset(const projects::Project& project, const std::string& email,
                                                 const std::string& client_ip) {
  std::vector<FieldError> errors;
  check_email(email, errors);
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  if (auto ok = limit({{"ip", config_.account.requests_per_ip, client_ip},
                       {"email", config_.account.requests_per_email,
                        project.id + ":" + identifier_key(IdentifierKind::email, email)}});
      !ok)
    return ok;
  store_.write([&](store::Repositories& r) {
    events::record_task(r, clock_.now(), project.id, kPasswordResetTask, {{"email", email}});
  });
  return {};
}

void EmailTokenService::issue_password_reset(store::Repositories& r, const std::string& project_id,
                                             const boost::json::object& input) {
  auto project = projects_.find(project_id);
  if (!project) return;  // the project is gone: nothing to send
  std::string key = identifier_key(IdentifierKind::email, input.at("email").as_string());
  auto user = r.users.find_by_identifier(project_id, IdentifierKind::email, key);
  if (user && user->active) issue(r, *project, *user, TokenPurpose::password_reset);
}

void EmailTokenService::issue(store::Repositories& r, const projects::Project& project, const User& user,
                              TokenPurpose purpose) {
  bool reset = purpose == TokenPurpose::password_reset;
  Timestamp now = clock_.now();
  Micros ttl = reset ? config_.account.password_reset_ttl : config_.account.email_verification_ttl;
  std::string token = crypto::make_token(kTokenPrefix);
  r.one_time_tokens.remove_for_user(user.id, purpose);
  r.one_time_tokens.insert(crypto::token_hash(token), {purpose, project.id, user.id, *user.email, now + ttl, now});

  auto text = [](const std::optional<std::string>& v) { return v ? boost::json::value(*v) : boost::json::value(""); };
  boost::json::object values{
      {"user", {{"id", user.id}, {"email", *user.email}, {"login", text(user.login)}, {"full_name", text(user.full_name)}}},
      {"link", events::mail_link_base(project, config_.server) + (reset ? "/reset-password?token=" : "/verify-email?token=") + token},
      {"token", token},
      {"expires_in", human_duration(ttl)}};
  events::Event event{reset ? "password.reset_requested" : "email.verification_requested", project.id, {{"user", to_json(user)}}};
  if (!reset) event.data["email"] = *user.email;
  events::record(r, now, event, events::MailRequest{*user.email, reset ? "password_reset" : "email_verification", values});
}

Status EmailTokenService::confirm_password_reset(const std::string& token, const std::string& new_password) {
  std::vector<FieldError> errors;
  if (!crypto::token_well_formed(token, kTokenPrefix)) errors = invalid_token().fields;
  check_password_rule("new_password", new_password, errors);
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));

  // Spend the token first: a second confirmation racing this one finds it gone.
  auto user = store_.write([&](store::Repositories& r) -> Result<User> {
    auto t = r.one_time_tokens.consume(crypto::token_hash(token), TokenPurpose::password_reset);
    if (!t || t->expires_at <= clock_.now()) return fail(invalid_token());
    auto u = r.users.find(t->project_id, t->user_id);
    if (!u || !same_email(u->email, t->email)) return fail(invalid_token());  // sent to an address the user left
    return std::move(*u);
  });
  if (!user) return fail(user.error());

  std::string hash = hasher_.hash(new_password);
  store_.write([&](store::Repositories& r) {  // may run again (a conflict on PostgreSQL): `user` stays as read
    Timestamp now = clock_.now();
    User changed = *user;
    if (!changed.email_verified) {  // the mail reached the address: it is the user's
      changed.email_verified = true;
      changed.updated_at = now;
      r.users.update(changed);
      users_.record_user_event(r, "user.updated", changed);
    }
    replace_password(r, now, changed, hash, std::nullopt, "reset");
  });
  return {};
}

Status EmailTokenService::request_email_verification(const User& me) {
  if (!me.email) return fail(Error::validation({{"email", "required", "the user has no email address to verify"}}));
  if (me.email_verified) return fail(Error::conflict("email_already_verified", "This email address is already verified."));
  if (auto ok = limit({{"email", config_.account.requests_per_email,
                        me.project_id + ":" + identifier_key(IdentifierKind::email, *me.email)}});
      !ok)
    return ok;
  auto project = projects_.find(me.project_id);
  if (!project) return fail(Error::not_found("project_not_found", "The project no longer exists."));
  store_.write([&](store::Repositories& r) { issue(r, *project, me, TokenPurpose::email_verification); });
  return {};
}

Result<User> EmailTokenService::confirm_email(const std::string& token) {
  if (!crypto::token_well_formed(token, kTokenPrefix)) return fail(invalid_token());
  auto user = store_.write([&](store::Repositories& r) -> Result<User> {
    auto t = r.one_time_tokens.consume(crypto::token_hash(token), TokenPurpose::email_verification);
    if (!t || t->expires_at <= clock_.now()) return fail(invalid_token());
    auto u = r.users.find(t->project_id, t->user_id);
    if (!u || !same_email(u->email, t->email)) return fail(invalid_token());
    if (!u->email_verified) {
      u->email_verified = true;
      u->updated_at = clock_.now();
      r.users.update(*u);
      r.changes.invalidate(store::Topic::users, u->id);
      users_.record_user_event(r, "user.updated", *u);
    }
    return std::move(*u);
  });
  return user;
}

uint64_t EmailTokenService::remove_expired() {
  Timestamp now = clock_.now();
  return store_.write([&](store::Repositories& r) {
    r.rate_limits.remove_stale(now - config_.account.request_window);
    return r.one_time_tokens.remove_expired(now);
  });
}

}  // namespace tessera::identity
