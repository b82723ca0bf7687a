#include "session/session_service.hpp"

#include "core/uuid.hpp"
#include "crypto/token.hpp"
#include "events/outbox.hpp"
#include "store/store.hpp"

namespace tessera::session {

Micros slide_write_interval(Micros idle_timeout) {
  return std::min<Micros>(std::chrono::minutes(1), idle_timeout / 10);
}

SessionService::SessionService(store::Store& store, const Clock& clock, const SessionConfig& config)
    : store_(store), clock_(clock), config_(config), cache_(config.cache_size) {
  store_.caches().follow(store::Topic::sessions, cache_);
}

Micros SessionService::idle_timeout(const projects::Project& p) const {
  return p.session_idle_timeout.value_or(config_.idle_timeout);
}
Micros SessionService::lifetime(const projects::Project& p) const {
  return p.session_lifetime.value_or(config_.lifetime);
}

IssuedSession SessionService::issue(const projects::Project& project, const std::string& user_id,
                                    const ClientInfo& client,
                                    const std::function<void(store::Repositories&, const Session&)>& also) {
  Timestamp now = clock_.now();
  IssuedSession out;
  out.token = crypto::make_token(crypto::kSessionTokenPrefix);
  Session& s = out.session;
  s.id = make_uuid_v7(now);
  s.project_id = project.id;
  s.user_id = user_id;
  s.token_hash = crypto::token_hash(out.token);
  s.created_at = now;
  s.expires_at = now + lifetime(project);
  s.idle_expires_at = std::min(now + idle_timeout(project), s.expires_at);
  s.last_used_at = now;
  s.ip = client.ip.substr(0, 64);
  s.user_agent = client.user_agent.substr(0, 512);
  store_.write([&](store::Repositories& r) {
    r.sessions.insert(s);
    r.users.touch(user_id, now);  // signing in is a request too
    r.changes.invalidate(store::Topic::users, user_id);
    if (also) also(r, s);
  });
  cache_.put(s.token_hash, std::make_shared<const LiveSession>(s));
  return out;
}

Result<LiveSessionPtr> SessionService::authenticate(std::string_view token, const projects::Project* project_hint) {
  if (!crypto::token_well_formed(token, crypto::kSessionTokenPrefix))
    return fail(Error::unauthorized("invalid_token", "The access token is not valid."));
  std::string hash = crypto::token_hash(token);
  Timestamp now = clock_.now();
  int64_t now_us = to_micros(now);
  auto idle_over = [&](const LiveSession& l) {
    return now >= l.row.expires_at || now_us >= l.idle_expires_at_us.load(std::memory_order_relaxed);
  };
  LiveSessionPtr live = cache_.get(hash);
  // A cached session that looks idle may have been used through another node since: ask the store.
  if (live && idle_over(*live)) {
    cache_.erase(hash);
    live = nullptr;
  }
  if (!live) {
    uint64_t epoch = cache_.epoch();
    auto row = store_.read([&](store::Repositories& r) { return r.sessions.find_by_token_hash(hash); });
    if (!row) return fail(Error::unauthorized("invalid_token", "The access token is not valid."));
    live = std::make_shared<const LiveSession>(std::move(*row));
    if (idle_over(*live)) return fail(Error::unauthorized("session_expired", "The session has expired; sign in again."));
    cache_.fill(hash, live, epoch);
  }
  const Session& s = live->row;
  std::shared_ptr<const projects::Project> owned;
  if (!project_hint || project_hint->id != s.project_id) {
    owned = project_lookup_ ? project_lookup_(s.project_id) : nullptr;
    project_hint = owned.get();
  }
  Micros idle = project_hint ? idle_timeout(*project_hint) : config_.idle_timeout;
  int64_t new_idle = to_micros(std::min(now + idle, s.expires_at));
  live->idle_expires_at_us.store(new_idle, std::memory_order_relaxed);

  int64_t persisted = live->persisted_at_us.load(std::memory_order_relaxed);
  if (now_us - persisted >= slide_write_interval(idle).count() &&
      live->persisted_at_us.compare_exchange_strong(persisted, now_us)) {
    try {
      store_.write([&](store::Repositories& r) {
        r.sessions.touch(s.id, from_micros(new_idle), now);
        r.users.touch(s.user_id, now);
        r.changes.invalidate(store::Topic::users, s.user_id);
      });
    } catch (...) {  // not written: the next request writes it (WouldBlock: this one, again on the pool)
      live->persisted_at_us.store(persisted, std::memory_order_relaxed);
      throw;
    }
  }
  return live;
}

SessionService::Page SessionService::list(const std::string& user_id, size_t limit,
                                          std::optional<std::string_view> before_id) {
  auto rows = store_.read([&](store::Repositories& r) { return r.sessions.list_for_user(user_id, limit + 1, before_id); });
  Page page;
  if (limit > 0 && rows.size() > limit) {
    rows.resize(limit);
    page.next_before = rows.back().id;
  }
  Timestamp now = clock_.now();
  for (auto& row : rows) {
    // The stored idle expiry lags the live one by up to one write interval: report the live value,
    // and leave out sessions that have expired but were not swept yet.
    if (auto live = cache_.get(row.token_hash)) row.idle_expires_at = from_micros(live->idle_expires_at_us.load());
    if (row.idle_expires_at > now && row.expires_at > now) page.items.push_back(std::move(row));
  }
  return page;
}

Status SessionService::revoke(const std::string& project_id, const std::string& user_id, const std::string& session_id,
                              std::string_view reason) {
  auto hash = store_.write([&](store::Repositories& r) {
    auto removed = r.sessions.remove(user_id, session_id);
    if (removed) {
      std::vector<RemovedSession> gone{{session_id, *removed}};
      forget_sessions(r, gone);
      record_sessions_revoked(r, clock_.now(), project_id, user_id, gone, reason);
    }
    return removed;
  });
  if (!hash) return fail(Error::not_found("session_not_found", "No such session."));
  return {};
}

void forget_sessions(store::Repositories& r, const std::vector<RemovedSession>& sessions) {
  for (auto& s : sessions) r.changes.invalidate(store::Topic::sessions, s.token_hash);
}

void record_sessions_revoked(store::Repositories& r, Timestamp now, const std::string& project_id,
                             const std::string& user_id, const std::vector<RemovedSession>& sessions,
                             std::string_view reason) {
  if (sessions.empty()) return;
  boost::json::array ids;
  for (auto& s : sessions) ids.emplace_back(s.id);
  events::record(r, now, {"session.revoked", project_id, {{"user_id", user_id}, {"session_ids", std::move(ids)}, {"reason", reason}}});
}

uint64_t SessionService::remove_expired() {
  // A cached session's idle expiry runs ahead of the stored one by less than one write interval (at
  // most a minute): sweep only rows idle past that margin, so no live session loses its row.
  Timestamp now = clock_.now();
  Timestamp idle_cutoff = now - std::chrono::minutes(1);
  return store_.write([&](store::Repositories& r) { return r.sessions.remove_expired(idle_cutoff, now); });
}

uint64_t SessionService::count_active() {
  return store_.read([&](store::Repositories& r) { return r.sessions.count_active(clock_.now()); });
}

}  // namespace tessera::session
