// session::SessionService on a real SQLite store, driven by a ManualClock: issue, authenticate,
// sliding idle expiry capped by the absolute lifetime, revocation, and the write-at-most-once-per-interval rule.
#include "session/session_service.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/uuid.hpp"
#include "crypto/random.hpp"
#include "crypto/token.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

namespace tessera::session {
namespace {

using namespace std::chrono_literals;
using store::Repositories;

const Timestamp kT0 = from_micros(1'795'000'000'000'000);

using tessera::testing::TempDir;

class SessionServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { crypto::init(); }

  void SetUp() override {
    store_ = std::make_unique<store::sqlite::SqliteStore>(dir_.str(), "normal");
    store_->migrate();
    config_.idle_timeout = 2h;
    config_.lifetime = 24h * 30;
    config_.cache_size = 1000;
    project_ = add_project("main", std::nullopt, std::nullopt);
    user_id_ = add_user(project_.id);
    other_user_id_ = add_user(project_.id);
    service_ = make_service(config_);
  }
  void TearDown() override {
    service_.reset();
    retired_services_.clear();
    store_.reset();
  }

  // A service subscribes its cache to the store for the store's lifetime (as the application wires
  // them), so a replaced one is kept alive, not destroyed under its subscription.
  std::unique_ptr<SessionService> make_service(const SessionConfig& config) {
    if (service_) retired_services_.push_back(std::move(service_));
    return std::make_unique<SessionService>(*store_, clock_, config);
  }

  projects::Project add_project(const std::string& alias, std::optional<Micros> idle, std::optional<Micros> lifetime) {
    projects::Project p;
    p.id = make_uuid_v7(kT0);
    p.alias = alias;
    p.name = alias;
    p.session_idle_timeout = idle;
    p.session_lifetime = lifetime;
    p.created_at = kT0;
    if (!store_->write([&](Repositories& r) { return r.projects.insert(p); })) throw std::runtime_error("project");
    return p;
  }

  std::string add_user(const std::string& project_id) {
    identity::User u;
    u.id = make_uuid_v7(kT0);
    u.project_id = project_id;
    u.created_at = u.updated_at = kT0;
    if (store_->write([&](Repositories& r) { return r.users.insert(u, std::nullopt); })) throw std::runtime_error("user");
    return u.id;
  }

  // The stored row of an issued session, as the database has it.
  std::optional<Session> row(const IssuedSession& issued) {
    return store_->read([&](Repositories& r) { return r.sessions.find_by_token_hash(issued.session.token_hash); });
  }

  IssuedSession issue(const projects::Project& project) { return service_->issue(project, user_id_, {"198.51.100.4", "ua"}); }
  IssuedSession issue() { return issue(project_); }

  Result<LiveSessionPtr> authenticate(const IssuedSession& s, const projects::Project* hint) {
    return service_->authenticate(s.token, hint);
  }
  Result<LiveSessionPtr> authenticate(const IssuedSession& s) { return authenticate(s, &project_); }

  static std::string code_of(const Result<LiveSessionPtr>& r) { return r ? std::string("ok") : r.error().code; }

  TempDir dir_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  ManualClock clock_{kT0};
  SessionConfig config_;
  projects::Project project_;
  std::string user_id_, other_user_id_;
  std::unique_ptr<SessionService> service_;
  std::vector<std::unique_ptr<SessionService>> retired_services_;
};

TEST(SlideWriteInterval, OnceAMinuteOrATenthOfTheIdleTimeout) {
  EXPECT_EQ(slide_write_interval(2h), Micros(1min));
  EXPECT_EQ(slide_write_interval(10min), Micros(1min));
  EXPECT_EQ(slide_write_interval(5min), Micros(30s));
  EXPECT_EQ(slide_write_interval(10s), Micros(1s));
}

TEST_F(SessionServiceTest, IssueStoresOnlyTheHashOfTheToken) {
  IssuedSession s = issue();
  EXPECT_TRUE(crypto::token_well_formed(s.token, crypto::kSessionTokenPrefix)) << s.token;
  EXPECT_TRUE(is_uuid(s.session.id));
  auto stored = row(s);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->token_hash, crypto::token_hash(s.token));
  EXPECT_NE(stored->token_hash, s.token);
  EXPECT_EQ(stored->id, s.session.id);
  EXPECT_EQ(stored->user_id, user_id_);
  EXPECT_EQ(stored->project_id, project_.id);
  EXPECT_EQ(stored->created_at, kT0);
  EXPECT_EQ(stored->expires_at, kT0 + 24h * 30);
  EXPECT_EQ(stored->idle_expires_at, kT0 + 2h);
  EXPECT_EQ(stored->last_used_at, kT0);
  EXPECT_EQ(stored->ip, "198.51.100.4");
  EXPECT_EQ(stored->user_agent, "ua");
  // Signing in counts as a request of the user.
  auto user = store_->read([&](Repositories& r) { return r.users.find(project_.id, user_id_); });
  ASSERT_TRUE(user);
  EXPECT_EQ(user->last_request_at, kT0);
}

TEST_F(SessionServiceTest, IssueBoundsClientInfo) {
  IssuedSession s = service_->issue(project_, user_id_, {std::string(100, '1'), std::string(2000, 'u')});
  auto stored = row(s);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->ip.size(), 64u);
  EXPECT_EQ(stored->user_agent.size(), 512u);
}

TEST_F(SessionServiceTest, IssueThenAuthenticate) {
  IssuedSession s = issue();
  auto live = authenticate(s);
  ASSERT_TRUE(live) << live.error().code;
  EXPECT_EQ((*live)->row.id, s.session.id);
  EXPECT_EQ((*live)->row.user_id, user_id_);
  EXPECT_EQ((*live)->row.project_id, project_.id);
}

TEST_F(SessionServiceTest, EachIssueIsANewSession) {
  IssuedSession a = issue(), b = issue();
  EXPECT_NE(a.token, b.token);
  EXPECT_NE(a.session.id, b.session.id);
  EXPECT_EQ((*authenticate(a))->row.id, a.session.id);
  EXPECT_EQ((*authenticate(b))->row.id, b.session.id);
}

TEST_F(SessionServiceTest, MalformedOrUnknownTokensAreInvalid) {
  IssuedSession s = issue();
  std::string unknown = crypto::make_token(crypto::kSessionTokenPrefix);
  for (const std::string& token : {std::string(""), std::string("tss_"), std::string("garbage"),
                                   "tsp_" + s.token.substr(4), s.token + "x", s.token.substr(0, 46), unknown}) {
    auto r = service_->authenticate(token, &project_);
    ASSERT_FALSE(r) << token;
    EXPECT_EQ(r.error().code, "invalid_token") << token;
    EXPECT_EQ(r.error().status, 401);
    EXPECT_EQ(r.error().www_authenticate, "Bearer error=\"invalid_token\"");
  }
}

TEST_F(SessionServiceTest, IdleExpirySlidesWithUse) {
  IssuedSession s = issue();
  // Used every 1h50m, it outlives its 2h idle timeout many times over.
  for (int i = 1; i <= 10; ++i) {
    clock_.advance(1h + 50min);
    auto live = authenticate(s);
    ASSERT_TRUE(live) << "use " << i << ": " << live.error().code;
    EXPECT_EQ(from_micros((*live)->idle_expires_at_us.load()), clock_.now() + 2h);
  }
}

TEST_F(SessionServiceTest, ExpiresAfterTheIdleTimeoutWithoutUse) {
  IssuedSession used_just_in_time = issue();
  IssuedSession unused = issue();
  clock_.advance(2h - 1us);
  EXPECT_EQ(code_of(authenticate(used_just_in_time)), "ok");
  clock_.advance(1us);  // exactly 2h after issue
  auto r = authenticate(unused);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "session_expired");
  EXPECT_EQ(r.error().status, 401);
  // It stays expired (not "invalid") on later attempts, also for a fresh process reading the store.
  EXPECT_EQ(code_of(authenticate(unused)), "session_expired");
  service_ = make_service(config_);
  EXPECT_EQ(code_of(authenticate(unused)), "session_expired");
  EXPECT_EQ(code_of(authenticate(used_just_in_time)), "ok");
}

TEST_F(SessionServiceTest, AbsoluteLifetimeCapsSliding) {
  projects::Project capped = add_project("capped", Micros(2h), Micros(3h));
  IssuedSession s = issue(capped);
  EXPECT_EQ(s.session.expires_at, kT0 + 3h);
  EXPECT_EQ(s.session.idle_expires_at, kT0 + 2h);

  clock_.advance(1h + 30min);
  auto live = authenticate(s, &capped);
  ASSERT_TRUE(live);
  EXPECT_EQ(from_micros((*live)->idle_expires_at_us.load()), kT0 + 3h);  // not kT0 + 3h30m

  clock_.advance(1h);  // kT0 + 2h30m
  EXPECT_EQ(code_of(authenticate(s, &capped)), "ok");
  clock_.advance(29min + 59s);
  EXPECT_EQ(code_of(authenticate(s, &capped)), "ok");
  clock_.advance(1s);  // kT0 + 3h: the lifetime is over however recently it was used
  EXPECT_EQ(code_of(authenticate(s, &capped)), "session_expired");
}

TEST_F(SessionServiceTest, IdleTimeoutLongerThanTheLifetimeIsCappedAtIssue) {
  projects::Project odd = add_project("odd", Micros(5h), Micros(3h));
  IssuedSession s = issue(odd);
  EXPECT_EQ(s.session.idle_expires_at, kT0 + 3h);
  EXPECT_EQ(row(s)->idle_expires_at, kT0 + 3h);
}

TEST_F(SessionServiceTest, RevokedSessionIsAnInvalidToken) {
  IssuedSession s = issue();
  ASSERT_TRUE(authenticate(s));  // cached now
  ASSERT_TRUE(service_->revoke(project_.id, user_id_, s.session.id, "revoked"));
  auto r = authenticate(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "invalid_token");
  EXPECT_FALSE(row(s));
  auto again = service_->revoke(project_.id, user_id_, s.session.id, "revoked");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().status, 404);
  EXPECT_EQ(again.error().code, "session_not_found");
}

TEST_F(SessionServiceTest, CannotRevokeAnotherUsersSession) {
  IssuedSession s = issue();
  auto r = service_->revoke(project_.id, other_user_id_, s.session.id, "revoked");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "session_not_found");
  EXPECT_EQ(code_of(authenticate(s)), "ok");
}

TEST_F(SessionServiceTest, ForgetSessionsDropsThemWhenTheirTransactionCommits) {
  IssuedSession keep = issue(), drop1 = issue(), drop2 = issue();
  for (auto* s : {&keep, &drop1, &drop2}) ASSERT_TRUE(authenticate(*s));  // all cached
  auto removed = store_->write([&](Repositories& r) {
    auto gone = r.sessions.remove_for_user(user_id_, std::string_view(keep.session.id));
    forget_sessions(r, gone);
    return gone;
  });
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(code_of(authenticate(keep)), "ok");
  EXPECT_EQ(code_of(authenticate(drop1)), "invalid_token");
  EXPECT_EQ(code_of(authenticate(drop2)), "invalid_token");
}

TEST_F(SessionServiceTest, SlideIsPersistedAtMostOncePerInterval) {
  int touches = 0;  // the user's cached row is dropped whenever last_request_at is written
  store_->caches().subscribe(store::Topic::users, [&](std::string_view id) {
    EXPECT_EQ(id, user_id_);
    ++touches;
  });
  IssuedSession s = issue();
  EXPECT_EQ(touches, 1);
  EXPECT_EQ(row(s)->idle_expires_at, kT0 + 2h);

  clock_.advance(30s);
  ASSERT_TRUE(authenticate(s));
  EXPECT_EQ(row(s)->idle_expires_at, kT0 + 2h);  // within the minute: memory only
  EXPECT_EQ(row(s)->last_used_at, kT0);

  clock_.advance(30s);  // one minute after the last write
  ASSERT_TRUE(authenticate(s));
  EXPECT_EQ(row(s)->idle_expires_at, kT0 + 60s + 2h);
  EXPECT_EQ(row(s)->last_used_at, kT0 + 60s);
  EXPECT_EQ(touches, 2);

  for (int i = 0; i < 59; ++i) {  // many uses within the next minute: no write
    clock_.advance(1s);
    ASSERT_TRUE(authenticate(s));
  }
  EXPECT_EQ(row(s)->idle_expires_at, kT0 + 60s + 2h);
  EXPECT_EQ(touches, 2);

  clock_.advance(1s);  // kT0 + 120s
  ASSERT_TRUE(authenticate(s));
  EXPECT_EQ(row(s)->idle_expires_at, kT0 + 120s + 2h);
  EXPECT_EQ(touches, 3);
  auto user = store_->read([&](Repositories& r) { return r.users.find(project_.id, user_id_); });
  EXPECT_EQ(user->last_request_at, kT0 + 120s);
}

TEST_F(SessionServiceTest, ShortIdleTimeoutWritesEveryTenth) {
  projects::Project brief = add_project("brief", Micros(10s), std::nullopt);
  IssuedSession s = issue(brief);
  clock_.advance(999ms);
  ASSERT_TRUE(authenticate(s, &brief));
  EXPECT_EQ(row(s)->idle_expires_at, kT0 + 10s);
  clock_.advance(1ms);
  ASSERT_TRUE(authenticate(s, &brief));
  EXPECT_EQ(row(s)->idle_expires_at, kT0 + 11s);
  clock_.advance(10s);
  EXPECT_EQ(code_of(authenticate(s, &brief)), "session_expired");
}

TEST_F(SessionServiceTest, ListReportsTheLiveIdleExpiry) {
  IssuedSession s = issue();
  clock_.advance(90s);
  ASSERT_TRUE(authenticate(s));  // persisted at 90s (more than a minute since issue)
  clock_.advance(30s);
  ASSERT_TRUE(authenticate(s));  // not persisted
  EXPECT_EQ(row(s)->idle_expires_at, kT0 + 90s + 2h);
  auto page = service_->list(user_id_, 10, std::nullopt);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id, s.session.id);
  EXPECT_EQ(page.items[0].idle_expires_at, kT0 + 120s + 2h);
  EXPECT_EQ(page.next_before, std::nullopt);
}

TEST_F(SessionServiceTest, ListPagesNewestFirst) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(issue().session.id);
    clock_.advance(1s);
  }
  auto first = service_->list(user_id_, 2, std::nullopt);
  ASSERT_EQ(first.items.size(), 2u);
  EXPECT_EQ(first.items[0].id, ids[4]);
  EXPECT_EQ(first.items[1].id, ids[3]);
  ASSERT_TRUE(first.next_before);
  auto second = service_->list(user_id_, 2, *first.next_before);
  ASSERT_EQ(second.items.size(), 2u);
  EXPECT_EQ(second.items[0].id, ids[2]);
  EXPECT_EQ(second.items[1].id, ids[1]);
  ASSERT_TRUE(second.next_before);
  auto last = service_->list(user_id_, 2, *second.next_before);
  ASSERT_EQ(last.items.size(), 1u);
  EXPECT_EQ(last.items[0].id, ids[0]);
  EXPECT_EQ(last.next_before, std::nullopt);  // the last page says so

  auto exact = service_->list(user_id_, 5, std::nullopt);  // exactly `limit` sessions: no further page
  EXPECT_EQ(exact.items.size(), 5u);
  EXPECT_EQ(exact.next_before, std::nullopt);
  EXPECT_TRUE(service_->list(other_user_id_, 10, std::nullopt).items.empty());
}

TEST_F(SessionServiceTest, ListLeavesOutExpiredSessionsNotSweptYet) {
  IssuedSession old_one = issue();
  clock_.advance(1h);
  IssuedSession recent = issue();
  clock_.advance(1h);  // old_one has been idle for 2h; recent for 1h
  auto page = service_->list(user_id_, 10, std::nullopt);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id, recent.session.id);
  EXPECT_TRUE(row(old_one));  // still stored: only the sweep deletes it
}

TEST_F(SessionServiceTest, ListKeepsASessionWhoseLiveExpiryIsLaterThanTheStoredOne) {
  IssuedSession s = issue();
  clock_.advance(1h + 59min + 30s);
  ASSERT_TRUE(authenticate(s));  // persisted: the row now says kT0 + 3h59m30s
  clock_.advance(59s);
  ASSERT_TRUE(authenticate(s));  // live only
  clock_.advance(2h - 30s);      // past the stored idle expiry, before the live one
  auto page = service_->list(user_id_, 10, std::nullopt);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id, s.session.id);
}

TEST_F(SessionServiceTest, AFreshServiceAuthenticatesFromTheStore) {
  IssuedSession s = issue();
  clock_.advance(1h);
  service_ = make_service(config_);  // an empty cache, as after a restart
  auto live = authenticate(s);
  ASSERT_TRUE(live) << live.error().code;
  EXPECT_EQ((*live)->row.id, s.session.id);
  EXPECT_EQ(row(s)->idle_expires_at, kT0 + 3h);  // an hour since the last write: persisted
}

TEST_F(SessionServiceTest, WithoutACacheSlidingStillWorks) {
  SessionConfig no_cache = config_;
  no_cache.cache_size = 0;
  service_ = make_service(no_cache);
  IssuedSession s = issue();
  for (int i = 0; i < 5; ++i) {
    clock_.advance(1h + 30min);
    ASSERT_EQ(code_of(authenticate(s)), "ok") << i;
    EXPECT_EQ(row(s)->idle_expires_at, clock_.now() + 2h);
  }
  ASSERT_TRUE(service_->revoke(project_.id, user_id_, s.session.id, "revoked"));
  EXPECT_EQ(code_of(authenticate(s)), "invalid_token");
  IssuedSession idle = issue();
  clock_.advance(2h);
  EXPECT_EQ(code_of(authenticate(idle)), "session_expired");
}

TEST_F(SessionServiceTest, ProjectTimeoutsComeFromTheLookupWithoutAHint) {
  projects::Project brief = add_project("brief", Micros(10min), std::nullopt);
  auto shared = std::make_shared<const projects::Project>(brief);
  service_->set_project_lookup([&](const std::string& id) {
    return id == brief.id ? shared : std::shared_ptr<const projects::Project>();
  });
  IssuedSession s = issue(brief);
  EXPECT_EQ(s.session.idle_expires_at, kT0 + 10min);
  clock_.advance(9min);
  auto live = service_->authenticate(s.token);
  ASSERT_TRUE(live);
  EXPECT_EQ(from_micros((*live)->idle_expires_at_us.load()), kT0 + 19min);
  clock_.advance(10min);
  EXPECT_EQ(code_of(service_->authenticate(s.token)), "session_expired");
}

TEST_F(SessionServiceTest, AHintForAnotherProjectIsNotUsedForTimeouts) {
  projects::Project brief = add_project("brief", Micros(10min), std::nullopt);
  auto shared = std::make_shared<const projects::Project>(brief);
  service_->set_project_lookup([&](const std::string& id) {
    return id == brief.id ? shared : std::shared_ptr<const projects::Project>();
  });
  IssuedSession s = issue(brief);
  clock_.advance(5min);
  auto live = authenticate(s, &project_);  // the default project (2h) is not the session's
  ASSERT_TRUE(live);
  EXPECT_EQ(from_micros((*live)->idle_expires_at_us.load()), kT0 + 15min);
}

// The sweep judges by the stored idle expiry, which lags the live one by less than a write interval
// (at most a minute). It must leave such a session's row alone: a session that authenticates from the
// cache must stay visible to list(), revocable, and within reach of "revoke all other sessions".
TEST_F(SessionServiceTest, TheSweepNeverDeletesALiveSession) {
  IssuedSession s = issue();
  clock_.advance(1h + 59min + 30s);
  ASSERT_TRUE(authenticate(s));  // persisted: the row says kT0 + 3h59m30s
  clock_.advance(59s);
  ASSERT_TRUE(authenticate(s));  // live only: kT0 + 4h00m29s
  clock_.advance(1h + 59min + 16s);  // kT0 + 3h59m45s: past the stored expiry, before the live one
  EXPECT_EQ(service_->remove_expired(), 0u);
  ASSERT_TRUE(row(s));
  EXPECT_EQ(code_of(authenticate(s)), "ok");
  EXPECT_TRUE(service_->revoke(project_.id, user_id_, s.session.id, "revoked"));
  EXPECT_EQ(code_of(authenticate(s)), "invalid_token");
}

TEST_F(SessionServiceTest, TheSweepDeletesSessionsIdlePastTheMargin) {
  IssuedSession s = issue();
  clock_.advance(2h + 30s);  // idle expired 30 s ago: within the margin, kept
  EXPECT_EQ(service_->remove_expired(), 0u);
  EXPECT_EQ(code_of(authenticate(s)), "session_expired");
  clock_.advance(31s);
  EXPECT_EQ(service_->remove_expired(), 1u);
  EXPECT_FALSE(row(s));
}

TEST_F(SessionServiceTest, RemoveExpiredAndCountActive) {
  IssuedSession a = issue();
  clock_.advance(1h);
  IssuedSession b = issue();
  EXPECT_EQ(service_->count_active(), 2u);
  clock_.advance(1h + 1min);  // a: idle since issue for 2h01m, past the sweep's one-minute margin
  EXPECT_EQ(service_->count_active(), 1u);
  EXPECT_EQ(service_->remove_expired(), 1u);
  EXPECT_FALSE(row(a));
  EXPECT_TRUE(row(b));
  EXPECT_EQ(service_->remove_expired(), 0u);
  EXPECT_EQ(code_of(authenticate(b)), "ok");
}

}  // namespace
}  // namespace tessera::session
