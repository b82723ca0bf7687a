#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "identity/user.hpp"
#include "identity/user_query.hpp"

namespace tessera::identity {

// The identifier whose uniqueness a write broke, if any ("email", "login" or "phone").
using Conflict = std::optional<std::string>;

class UserStore {
 public:
  virtual ~UserStore() = default;
  virtual Conflict insert(const User& user, const std::optional<std::string>& password_hash) = 0;
  virtual std::optional<User> find(std::string_view project_id, std::string_view user_id) = 0;
  // A user of any project: for what is public by user id alone (avatars).
  virtual std::optional<User> find_any(std::string_view user_id) = 0;
  // `key` is the normalized identifier (see identifier_key()).
  virtual std::optional<User> find_by_identifier(std::string_view project_id, IdentifierKind kind,
                                                 std::string_view key) = 0;
  // The privileged read: only credential checks call it.
  virtual std::optional<std::string> password_hash(std::string_view user_id) = 0;
  // Writes every profile field and flag of `user`, and its updated_at; not avatar_url (set_avatar owns it,
  // so a profile change racing an upload cannot put an old avatar back).
  virtual Conflict update(const User& user) = 0;
  virtual void set_password_hash(std::string_view user_id, const std::optional<std::string>& hash,
                                 Timestamp updated_at) = 0;
  virtual void touch(std::string_view user_id, Timestamp last_request_at) = 0;
  // Sets (or clears) avatar_url and updated_at; false when there is no such user.
  virtual bool set_avatar(std::string_view user_id, const std::optional<std::string>& url, Timestamp updated_at) = 0;
  virtual bool remove(std::string_view project_id, std::string_view user_id) = 0;

  // Administration: filtered, sorted, keyset-paginated lists and atomic bulk changes.
  virtual UserPage list(std::string_view project_id, const UserQuery& query) = 0;
  // Return the ids of the users matched (and changed or deleted), so caches can drop them.
  virtual std::vector<std::string> update_where(std::string_view project_id, const std::vector<Condition>& where,
                                                const UserChanges& changes, Timestamp now) = 0;
  virtual std::vector<std::string> remove_where(std::string_view project_id, const std::vector<Condition>& where) = 0;
};

}  // namespace tessera::identity
