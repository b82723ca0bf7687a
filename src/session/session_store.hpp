#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "session/session.hpp"

namespace tessera::session {

// A session deleted by a bulk revocation: its id for events, its hash for caches.
struct RemovedSession {
  std::string id;
  std::string token_hash;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  virtual void insert(const Session& session) = 0;
  virtual std::optional<Session> find_by_token_hash(std::string_view token_hash) = 0;
  // Newest first; `before_id` continues a page (ids are time-ordered UUIDv7).
  virtual std::vector<Session> list_for_user(std::string_view user_id, size_t limit,
                                             std::optional<std::string_view> before_id) = 0;
  // Return the token hashes removed, so caches can forget them.
  virtual std::optional<std::string> remove(std::string_view user_id, std::string_view session_id) = 0;
  virtual std::vector<RemovedSession> remove_for_user(std::string_view user_id,
                                                      std::optional<std::string_view> except_session_id) = 0;
  virtual void touch(std::string_view session_id, Timestamp idle_expires_at, Timestamp last_used_at) = 0;
  // Deletes sessions whose stored idle expiry is at or before `idle_cutoff`, or whose lifetime ended.
  virtual uint64_t remove_expired(Timestamp idle_cutoff, Timestamp now) = 0;
  virtual uint64_t count_active(Timestamp now) = 0;
};

}  // namespace tessera::session
