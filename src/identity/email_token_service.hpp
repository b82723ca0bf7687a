// Password reset and email verification: single-use tokens (tsc_...) sent by mail, stored hashed.
//
// A reset request answers the same way after the same work whatever the email: it only queues a
// lookup task in the outbox; a delivery thread then issues the token and queues the mail when an
// active user has that email. Requests are limited per email and per client address.
#pragma once

#include <boost/json/object.hpp>
#include <initializer_list>
#include <string>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "crypto/password_hasher.hpp"
#include "identity/one_time_token_store.hpp"
#include "identity/user.hpp"
#include "projects/project_service.hpp"

namespace tessera::store {
class Store;
struct Repositories;
}
namespace tessera::session {
class SessionService;
}

namespace tessera::identity {

class UserService;

// The outbox task that looks up a reset request's email.
inline constexpr std::string_view kPasswordResetTask = "password.reset_lookup";

class EmailTokenService {
 public:
  EmailTokenService(store::Store& store, const Clock& clock, const crypto::PasswordHasher& hasher, const Config& config,
                    projects::ProjectService& projects, UserService& users);

  // 429 rate_limited beyond the limits; otherwise queued, whether or not the email is registered.
  Status request_password_reset(const projects::Project& project, const std::string& email, const std::string& client_ip);
  // The task behind a request (runs on a delivery thread).
  void issue_password_reset(store::Repositories& r, const std::string& project_id, const boost::json::object& input);
  // Sets the password and ends every session of the user. 422 on `token` when unknown, used or expired.
  Status confirm_password_reset(const std::string& token, const std::string& new_password);  // hashes

  // 422 without an email, 409 email_already_verified, 429 rate_limited.
  Status request_email_verification(const User& me);
  Result<User> confirm_email(const std::string& token);

  // Deletes expired tokens and rate-limit windows (the janitor's sweep).
  uint64_t remove_expired();

 private:
  struct RequestLimit {
    std::string_view purpose;  // "ip", "email"
    unsigned max;
    std::string key;
  };
  // 429 rate_limited (with Retry-After) when a limit is exceeded.
  Status limit(std::initializer_list<RequestLimit> limits);
  // Inside a write: a fresh token for `user` (earlier ones of this purpose stop working) and the mail.
  void issue(store::Repositories& repos, const projects::Project& project, const User& user, TokenPurpose purpose);

  store::Store& store_;
  const Clock& clock_;
  const crypto::PasswordHasher& hasher_;
  const Config& config_;
  projects::ProjectService& projects_;
  UserService& users_;
};

}  // namespace tessera::identity
