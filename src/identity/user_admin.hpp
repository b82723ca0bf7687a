// Administration of a project's users by back-end servers and administrators (users:read/write/delete):
// create (optionally importing a password hash), read, change, suspend, delete, look up, list with
// the filter language, and atomic bulk changes. Suspending or deleting a user ends its sessions
// and refresh tokens in the same transaction.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "crypto/password_hasher.hpp"
#include "identity/user.hpp"
#include "identity/user_query.hpp"
#include "identity/user_service.hpp"

namespace tessera::store {
class Store;
struct Repositories;
}
namespace tessera::session {
class SessionService;
struct RemovedSession;
}

namespace tessera::identity {

struct NewUser {
  SignUp profile;                           // password optional here
  std::optional<std::string> password_hash;  // imported: $argon2id$, $argon2i$, $2a$/$2b$/$2y$, $pbkdf2-sha256$
  std::optional<bool> active;
  std::optional<bool> email_verified;
};

struct UserPatch {
  PatchField<std::string> email, login, phone, full_name, external_id;
  std::optional<std::vector<std::string>> tags;
  std::optional<boost::json::value> data;  // merge-patch
  std::optional<bool> active;
  std::optional<bool> email_verified;
};

class UserAdmin {
 public:
  UserAdmin(store::Store& store, const Clock& clock, const crypto::PasswordHasher& hasher, UserService& users,
            session::SessionService& sessions);

  std::vector<FieldError> validate(const NewUser& input) const;
  Result<User> create(const std::string& project_id, const NewUser& input);  // hashes when a password is given
  Result<User> get(const std::string& project_id, const std::string& id);
  Result<User> update(const std::string& project_id, const std::string& id, const UserPatch& patch);
  Status remove(const std::string& project_id, const std::string& id);
  Result<User> lookup(const std::string& project_id, std::string_view field, std::string_view value);
  UserPage list(const std::string& project_id, const UserQuery& query);
  // Return how many users matched. An empty `where` is refused: it would match everyone by accident.
  Result<uint64_t> bulk_update(const std::string& project_id, const std::vector<Condition>& where,
                               const UserChanges& changes);
  Result<uint64_t> bulk_delete(const std::string& project_id, const std::vector<Condition>& where);

 private:
  // Inside a write: end what a suspended or deleted user could still use.
  // `event_reason`: record session.revoked with it (a suspension), or not (a deletion says user.deleted).
  void end_access(store::Repositories& repos, const std::string& project_id, const std::string& user_id,
                  std::optional<std::string_view> event_reason);

  store::Store& store_;
  const Clock& clock_;
  const crypto::PasswordHasher& hasher_;
  UserService& users_;
  session::SessionService& sessions_;
};

}  // namespace tessera::identity
