// Sessions: opaque tokens whose hash is stored; an idle expiry that slides with use, capped by an
// absolute lifetime. Validation is one hash plus a cache hit (or one indexed lookup); the slide is
// written at most once a minute (or a tenth of the idle timeout, if shorter) per session.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bounded_cache.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "identity/user.hpp"
#include "projects/project.hpp"
#include "session/session.hpp"
#include "session/session_store.hpp"

namespace tessera::store {
class Store;
struct Repositories;
}

namespace tessera::session {

// A session as held in memory: the stored row plus its sliding state, shared between requests.
struct LiveSession {
  Session row;
  mutable std::atomic<int64_t> idle_expires_at_us;
  mutable std::atomic<int64_t> persisted_at_us;  // when the slide was last written
  explicit LiveSession(Session s)
      : row(std::move(s)), idle_expires_at_us(to_micros(row.idle_expires_at)), persisted_at_us(to_micros(row.last_used_at)) {}
};
using LiveSessionPtr = std::shared_ptr<const LiveSession>;

struct IssuedSession {
  Session session;
  std::string token;  // shown once, never stored
};

struct ClientInfo {
  std::string ip;
  std::string user_agent;
};

class SessionService {
 public:
  SessionService(store::Store& store, const Clock& clock, const SessionConfig& config);

  // `also` runs inside the transaction that stores the session (e.g. to record a user.login event).
  IssuedSession issue(const projects::Project& project, const std::string& user_id, const ClientInfo& client,
                      const std::function<void(store::Repositories&, const Session&)>& also = {});

  // Validates a token and slides its idle expiry. 401 invalid_token / session_expired.
  Result<LiveSessionPtr> authenticate(std::string_view token, const projects::Project* project_hint = nullptr);

  struct Page {
    std::vector<Session> items;              // live sessions only, newest first
    std::optional<std::string> next_before;  // where the next page starts, if any
  };
  Page list(const std::string& user_id, size_t limit, std::optional<std::string_view> before_id);
  // Sends session.revoked with `reason` ("logout", "revoked").
  Status revoke(const std::string& project_id, const std::string& user_id, const std::string& session_id,
                std::string_view reason);


  // Effective timeouts of a project.
  Micros idle_timeout(const projects::Project& project) const;
  Micros lifetime(const projects::Project& project) const;

  uint64_t remove_expired();
  uint64_t count_active();

  // How effective timeouts are found for a session's project.
  void set_project_lookup(std::function<std::shared_ptr<const projects::Project>(const std::string&)> lookup) {
    project_lookup_ = std::move(lookup);
  }

 private:
  store::Store& store_;
  const Clock& clock_;
  SessionConfig config_;
  BoundedCache<LiveSession> cache_;
  std::function<std::shared_ptr<const projects::Project>(const std::string&)> project_lookup_;
};

// Inside a write: the removed sessions leave every node's cache when the write commits.
void forget_sessions(store::Repositories& repos, const std::vector<RemovedSession>& sessions);

// Inside a write: records session.revoked for sessions a bulk revocation removed (nothing when none).
void record_sessions_revoked(store::Repositories& repos, Timestamp now, const std::string& project_id,
                             const std::string& user_id, const std::vector<RemovedSession>& sessions,
                             std::string_view reason);

// How often the sliding expiry is written for an idle timeout: once a minute, or a tenth of it if shorter.
Micros slide_write_interval(Micros idle_timeout);

}  // namespace tessera::session
