// Accounts: sign-up, password login, guests, self-service profile changes and deletion.
// Calls marked "hashes" spend Argon2id time: the HTTP layer runs them on the hashing pool.
#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bounded_cache.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "crypto/password_hasher.hpp"
#include "identity/user.hpp"
#include "projects/project.hpp"

namespace tessera::store {
class Store;
struct Repositories;
}
namespace tessera::session {
class SessionService;
struct RemovedSession;
}

namespace tessera::identity {

struct SignUp {
  std::optional<std::string> email, login, phone, password, full_name, external_id;
  std::optional<std::vector<std::string>> tags;
  std::optional<boost::json::object> data;
};

struct PasswordLogin {
  IdentifierKind kind = IdentifierKind::email;
  std::string identifier;
  std::string password;
};

struct ProfilePatch {
  PatchField<std::string> email, login, phone, full_name;
  std::optional<boost::json::value> data;  // RFC 7386 merge-patch applied to `data`
  std::optional<std::string> password;     // only for a user without one (a guest becoming a full user)
  std::optional<std::string> current_password;  // re-authentication for identifier changes
};

class UserService {
 public:
  UserService(store::Store& store, const Clock& clock, const crypto::PasswordHasher& hasher,
              session::SessionService& sessions, size_t cache_size);

  Result<User> sign_up(const projects::Project& project, const SignUp& input);  // hashes
  // The same 401 invalid_credentials, after the same work, for an unknown identifier and a wrong
  // password; 403 user_inactive only once the password is proven.
  // Failures are recorded as user.login_failed events, after the same work whatever the cause.
  Result<User> log_in(const projects::Project& project, const PasswordLogin& input, const std::string& ip);  // hashes
  Result<User> create_guest(const projects::Project& project);

  // Cached: the hot path of every authenticated request.
  std::shared_ptr<const User> get(const std::string& project_id, const std::string& user_id);

  Result<User> update_profile(const User& me, const ProfilePatch& patch);  // hashes when a password is involved
  // Revokes every other session of the user.
  Status change_password(const User& me, const std::string& current_session_id, const std::string& old_password,
                         const std::string& new_password);  // hashes
  Status delete_self(const User& me, const std::optional<std::string>& password);  // hashes

  // Inside a write: records a user.* event carrying the user object.
  void record_user_event(store::Repositories& repos, std::string_view type, const User& user) const;

 private:
  void record_login_failed(const projects::Project& project, const PasswordLogin& in,
                           const std::optional<std::string>& user_id, std::string_view reason, const std::string& ip);
  Status verify_current_password(const User& me, const std::optional<std::string>& password, const char* field);

  store::Store& store_;
  const Clock& clock_;
  const crypto::PasswordHasher& hasher_;
  session::SessionService& sessions_;
  BoundedCache<User> cache_;
};

// 409 identifier_taken naming the field ("email", "login" or "phone").
Error identifier_taken(const std::string& field);

// Validation of profile fields; each returns the field errors it finds (empty when valid).
std::vector<FieldError> validate_sign_up(const SignUp& input);

// The user a profile patch would make, or a validation error naming every offending field. Pure:
// re-authentication and hashing happen in UserService::update_profile.
Result<User> apply_profile_patch(const User& me, const ProfilePatch& patch);

// The steps every profile patch shares (self-service and administration): apply the identifiers,
// full_name and a merge-patch of data to `user`, collecting rule errors; a changed email (beyond
// letter case) loses its verification.
void apply_common_fields(User& user, const PatchField<std::string>& email, const PatchField<std::string>& login,
                         const PatchField<std::string>& phone, const PatchField<std::string>& full_name,
                         const std::optional<boost::json::value>& data, std::vector<FieldError>& errors);
void reset_verification_if_email_changed(const User& before, User& after);

// Inside a write: sets a new password hash, ends every session (except `keep_session`) and refresh token
// of the user, voids pending reset tokens, and records password.changed and session.revoked.
// `via`: "change" or "reset".
void replace_password(store::Repositories& repos, Timestamp now, const User& user, const std::string& hash,
                      std::optional<std::string_view> keep_session, std::string_view via);

// RFC 7386 JSON merge-patch.
void merge_patch(boost::json::object& target, const boost::json::object& patch);

}  // namespace tessera::identity
