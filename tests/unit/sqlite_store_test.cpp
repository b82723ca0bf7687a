// store/sqlite/SqliteStore: the storage contract of users and sessions, on a real database in a temp dir.
#include "store/sqlite/sqlite_store.hpp"

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/uuid.hpp"
#include "crypto/random.hpp"
#include "crypto/token.hpp"
#include "identity/identifiers.hpp"
#include "support/temp_dir.hpp"

namespace tessera::store::sqlite {
namespace {

using identity::IdentifierKind;
using identity::User;
using session::Session;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;
using namespace std::chrono_literals;

const Timestamp kT0 = from_micros(1'795'000'000'000'000);

using tessera::testing::TempDir;

class SqliteStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { crypto::init(); }

  void SetUp() override {
    store_ = std::make_unique<SqliteStore>(dir_.str(), "normal");
    store_->migrate();
    project_a_ = add_project("alpha");
    project_b_ = add_project("beta");
  }
  void TearDown() override { store_.reset(); }

  std::string add_project(const std::string& alias) {
    projects::Project p;
    p.id = make_uuid_v7(kT0);
    p.alias = alias;
    p.name = alias;
    p.created_at = kT0;
    bool inserted = store_->write([&](Repositories& r) { return r.projects.insert(p); });
    if (!inserted) throw std::runtime_error("project insert failed");
    return p.id;
  }

  User user(const std::string& project_id, std::optional<std::string> email, std::optional<std::string> login = {},
            std::optional<std::string> phone = {}) {
    User u;
    u.id = make_uuid_v7(kT0);
    u.project_id = project_id;
    u.email = std::move(email);
    u.login = std::move(login);
    u.phone = std::move(phone);
    u.created_at = u.updated_at = kT0;
    return u;
  }

  identity::Conflict insert(const User& u, const std::optional<std::string>& hash = std::nullopt) {
    return store_->write([&](Repositories& r) { return r.users.insert(u, hash); });
  }
  std::optional<User> find(const std::string& project_id, const std::string& user_id) {
    return store_->read([&](Repositories& r) { return r.users.find(project_id, user_id); });
  }
  std::optional<User> find_by(const std::string& project_id, IdentifierKind kind, const std::string& value) {
    std::string key = identity::identifier_key(kind, value);
    return store_->read([&](Repositories& r) { return r.users.find_by_identifier(project_id, kind, key); });
  }

  Session session_for(const User& u, Timestamp created, Micros idle = 2h, Micros lifetime = 24h * 30) {
    Session s;
    s.id = make_uuid_v7(created);
    s.project_id = u.project_id;
    s.user_id = u.id;
    s.token_hash = crypto::token_hash(crypto::make_token(crypto::kSessionTokenPrefix));
    s.created_at = created;
    s.expires_at = created + lifetime;
    s.idle_expires_at = created + idle;
    s.last_used_at = created;
    s.ip = "203.0.113.7";
    s.user_agent = "test-agent/1.0";
    return s;
  }
  void insert(const Session& s) {
    store_->write([&](Repositories& r) { r.sessions.insert(s); });
  }
  std::optional<Session> find_session(const std::string& hash) {
    return store_->read([&](Repositories& r) { return r.sessions.find_by_token_hash(hash); });
  }
  std::vector<std::string> list_ids(const std::string& user_id, size_t limit, std::optional<std::string> before) {
    auto rows = store_->read([&](Repositories& r) {
      return r.sessions.list_for_user(user_id, limit,
                                      before ? std::optional<std::string_view>(*before) : std::nullopt);
    });
    std::vector<std::string> ids;
    for (auto& s : rows) ids.push_back(s.id);
    return ids;
  }

  TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  std::string project_a_, project_b_;
};

// ---- schema ----

TEST_F(SqliteStoreTest, MigrateIsIdempotent) {
  EXPECT_EQ(store_->migrate(), 0);  // SetUp already applied everything
  EXPECT_EQ(store_->migrate(), 0);
  EXPECT_TRUE(store_->ping());
}

TEST(SqliteStoreMigrations, FirstRunAppliesThemAndAReopenedStoreHasNothingLeft) {
  TempDir dir;
  {
    SqliteStore store(dir.str(), "full");
    EXPECT_GE(store.migrate(), 1);
    EXPECT_EQ(store.migrate(), 0);
  }
  SqliteStore reopened(dir.str(), "normal");
  EXPECT_EQ(reopened.migrate(), 0);
  EXPECT_TRUE(reopened.ping());
}

TEST(SqliteStoreMigrations, CreatesTheDataDir) {
  TempDir dir;
  std::string nested = dir.str() + "/a/b";
  SqliteStore store(nested, "normal");
  store.migrate();
  EXPECT_TRUE(std::filesystem::exists(nested + "/tessera.db"));
}

// ---- users ----

TEST_F(SqliteStoreTest, UserRoundTripsEveryField) {
  User u = user(project_a_, "Alice@Example.com", "Alice", "+14155550123");
  u.full_name = "Alice Ångström";
  u.external_id = "ext-1";
  u.tags = {"vip", "beta"};
  u.data = boost::json::parse(R"({"age":30,"nested":{"k":[1,2]}})").as_object();
  u.avatar_url = "https://cdn.example/a.png";
  u.active = false;
  u.email_verified = true;
  u.is_guest = false;
  u.created_at = kT0;
  u.updated_at = kT0 + 5s;
  u.last_request_at = kT0 + 7s;
  ASSERT_EQ(insert(u, "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"), std::nullopt);

  auto got = find(project_a_, u.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, u.id);
  EXPECT_EQ(got->project_id, project_a_);
  EXPECT_EQ(got->email, "Alice@Example.com");  // stored as given; only the key is folded
  EXPECT_EQ(got->login, "Alice");
  EXPECT_EQ(got->phone, "+14155550123");
  EXPECT_EQ(got->full_name, "Alice Ångström");
  EXPECT_EQ(got->external_id, "ext-1");
  EXPECT_EQ(got->tags, (std::vector<std::string>{"vip", "beta"}));
  EXPECT_EQ(got->data, u.data);
  EXPECT_EQ(got->avatar_url, "https://cdn.example/a.png");
  EXPECT_FALSE(got->active);
  EXPECT_TRUE(got->email_verified);
  EXPECT_FALSE(got->is_guest);
  EXPECT_TRUE(got->has_password);
  EXPECT_EQ(got->created_at, kT0);
  EXPECT_EQ(got->updated_at, kT0 + 5s);
  EXPECT_EQ(got->last_request_at, kT0 + 7s);
}

TEST_F(SqliteStoreTest, UserWithoutOptionalFields) {
  User u = user(project_a_, std::nullopt);
  u.is_guest = true;
  ASSERT_EQ(insert(u), std::nullopt);
  auto got = find(project_a_, u.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->email, std::nullopt);
  EXPECT_EQ(got->login, std::nullopt);
  EXPECT_EQ(got->phone, std::nullopt);
  EXPECT_TRUE(got->tags.empty());
  EXPECT_TRUE(got->data.empty());
  EXPECT_TRUE(got->is_guest);
  EXPECT_FALSE(got->has_password);
  EXPECT_EQ(got->last_request_at, std::nullopt);
  EXPECT_EQ(store_->read([&](Repositories& r) { return r.users.password_hash(u.id); }), std::nullopt);
}

TEST_F(SqliteStoreTest, FindIsScopedToTheProject) {
  User u = user(project_a_, "alice@example.com");
  ASSERT_EQ(insert(u), std::nullopt);
  EXPECT_TRUE(find(project_a_, u.id));
  EXPECT_FALSE(find(project_b_, u.id));
  EXPECT_FALSE(find(project_a_, make_uuid_v7(kT0)));
  EXPECT_FALSE(find_by(project_b_, IdentifierKind::email, "alice@example.com"));
}

TEST_F(SqliteStoreTest, FindByIdentifierIgnoresCaseOfEmailAndLogin) {
  User u = user(project_a_, "Alice@Example.com", "Alice.Smith", "+14155550123");
  ASSERT_EQ(insert(u), std::nullopt);
  for (const char* email : {"alice@example.com", "ALICE@EXAMPLE.COM", "Alice@Example.com"}) {
    auto got = find_by(project_a_, IdentifierKind::email, email);
    ASSERT_TRUE(got) << email;
    EXPECT_EQ(got->id, u.id);
    EXPECT_EQ(got->email, "Alice@Example.com");
  }
  for (const char* login : {"alice.smith", "ALICE.SMITH"}) {
    auto got = find_by(project_a_, IdentifierKind::login, login);
    ASSERT_TRUE(got) << login;
    EXPECT_EQ(got->id, u.id);
  }
  auto by_phone = find_by(project_a_, IdentifierKind::phone, "+14155550123");
  ASSERT_TRUE(by_phone);
  EXPECT_EQ(by_phone->id, u.id);
  EXPECT_FALSE(find_by(project_a_, IdentifierKind::email, "bob@example.com"));
  // Kinds do not cross: the login is not an email.
  EXPECT_FALSE(find_by(project_a_, IdentifierKind::email, "alice.smith"));
}

TEST_F(SqliteStoreTest, UniqueConflictsNameTheIdentifier) {
  User alice = user(project_a_, "alice@example.com", "alice", "+14155550123");
  ASSERT_EQ(insert(alice), std::nullopt);

  User same_email = user(project_a_, "ALICE@example.COM", "other1", "+14155550001");
  EXPECT_EQ(insert(same_email), "email");
  User same_login = user(project_a_, "other2@example.com", "ALICE", "+14155550002");
  EXPECT_EQ(insert(same_login), "login");
  User same_phone = user(project_a_, "other3@example.com", "other3", "+14155550123");
  EXPECT_EQ(insert(same_phone), "phone");

  // None of the refused users was stored.
  EXPECT_FALSE(find(project_a_, same_email.id));
  EXPECT_FALSE(find(project_a_, same_login.id));
  EXPECT_FALSE(find(project_a_, same_phone.id));
  // And the store keeps working after a refused write.
  EXPECT_EQ(insert(user(project_a_, "bob@example.com")), std::nullopt);
}

TEST_F(SqliteStoreTest, SameIdentifiersAllowedInTwoProjects) {
  ASSERT_EQ(insert(user(project_a_, "alice@example.com", "alice", "+14155550123")), std::nullopt);
  EXPECT_EQ(insert(user(project_b_, "alice@example.com", "alice", "+14155550123")), std::nullopt);
  auto in_a = find_by(project_a_, IdentifierKind::email, "alice@example.com");
  auto in_b = find_by(project_b_, IdentifierKind::email, "alice@example.com");
  ASSERT_TRUE(in_a && in_b);
  EXPECT_NE(in_a->id, in_b->id);
}

TEST_F(SqliteStoreTest, MissingIdentifiersNeverConflict) {
  EXPECT_EQ(insert(user(project_a_, std::nullopt)), std::nullopt);
  EXPECT_EQ(insert(user(project_a_, std::nullopt)), std::nullopt);
  EXPECT_EQ(insert(user(project_a_, "a@example.com")), std::nullopt);
  EXPECT_EQ(insert(user(project_a_, std::nullopt, "only-login")), std::nullopt);
}

TEST_F(SqliteStoreTest, UpdateWritesFieldsAndReportsConflicts) {
  User alice = user(project_a_, "alice@example.com");
  User bob = user(project_a_, "bob@example.com", "bob");
  ASSERT_EQ(insert(alice), std::nullopt);
  ASSERT_EQ(insert(bob), std::nullopt);

  alice.email = "Alice2@Example.com";
  alice.full_name = "Alice";
  alice.tags = {"x"};
  alice.updated_at = kT0 + 1h;
  EXPECT_EQ(store_->write([&](Repositories& r) { return r.users.update(alice); }), std::nullopt);
  auto got = find_by(project_a_, IdentifierKind::email, "alice2@example.com");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->full_name, "Alice");
  EXPECT_EQ(got->tags, std::vector<std::string>{"x"});
  EXPECT_EQ(got->updated_at, kT0 + 1h);
  EXPECT_FALSE(find_by(project_a_, IdentifierKind::email, "alice@example.com"));  // the old key is gone

  bob.email = "ALICE2@example.com";
  EXPECT_EQ(store_->write([&](Repositories& r) { return r.users.update(bob); }), "email");
  EXPECT_EQ(find(project_a_, bob.id)->email, "bob@example.com");
}

TEST_F(SqliteStoreTest, PasswordHashIsReadAndReplaced) {
  User u = user(project_a_, "alice@example.com");
  ASSERT_EQ(insert(u, "$argon2id$first"), std::nullopt);
  EXPECT_EQ(store_->read([&](Repositories& r) { return r.users.password_hash(u.id); }), "$argon2id$first");
  store_->write([&](Repositories& r) { r.users.set_password_hash(u.id, "$argon2id$second", kT0 + 1h); });
  EXPECT_EQ(store_->read([&](Repositories& r) { return r.users.password_hash(u.id); }), "$argon2id$second");
  EXPECT_EQ(find(project_a_, u.id)->updated_at, kT0 + 1h);
  store_->write([&](Repositories& r) { r.users.set_password_hash(u.id, std::nullopt, kT0 + 2h); });
  EXPECT_FALSE(find(project_a_, u.id)->has_password);
  EXPECT_EQ(store_->read([&](Repositories& r) { return r.users.password_hash("no-such-user"); }), std::nullopt);
}

TEST_F(SqliteStoreTest, TouchSetsLastRequestAt) {
  User u = user(project_a_, "alice@example.com");
  ASSERT_EQ(insert(u), std::nullopt);
  store_->write([&](Repositories& r) { r.users.touch(u.id, kT0 + 3min); });
  EXPECT_EQ(find(project_a_, u.id)->last_request_at, kT0 + 3min);
}

TEST_F(SqliteStoreTest, RemoveUserIsScopedAndCascadesToSessions) {
  User u = user(project_a_, "alice@example.com");
  ASSERT_EQ(insert(u), std::nullopt);
  Session s = session_for(u, kT0);
  insert(s);
  EXPECT_FALSE(store_->write([&](Repositories& r) { return r.users.remove(project_b_, u.id); }));
  EXPECT_TRUE(store_->write([&](Repositories& r) { return r.users.remove(project_a_, u.id); }));
  EXPECT_FALSE(store_->write([&](Repositories& r) { return r.users.remove(project_a_, u.id); }));
  EXPECT_FALSE(find(project_a_, u.id));
  EXPECT_FALSE(find_session(s.token_hash));
}

// ---- transactions ----

TEST_F(SqliteStoreTest, WriteCommitsAnExpectedWithAValue) {
  User u = user(project_a_, "alice@example.com");
  Result<int> out = store_->write([&](Repositories& r) -> Result<int> {
    r.users.insert(u, std::nullopt);
    return 42;
  });
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, 42);
  EXPECT_TRUE(find(project_a_, u.id));
}

TEST_F(SqliteStoreTest, WriteRollsBackWhenTheLambdaReturnsAnError) {
  User u = user(project_a_, "alice@example.com");
  Result<int> out = store_->write([&](Repositories& r) -> Result<int> {
    r.users.insert(u, std::nullopt);
    return fail(Error::conflict("later_step_failed", "a later step failed"));
  });
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, "later_step_failed");
  EXPECT_FALSE(find(project_a_, u.id));
  // Status (expected<void>) too.
  Status st = store_->write([&](Repositories& r) -> Status {
    r.users.insert(u, std::nullopt);
    return fail(Error::conflict("nope", "nope"));
  });
  EXPECT_FALSE(st);
  EXPECT_FALSE(find(project_a_, u.id));
  // The connection is usable afterwards.
  EXPECT_EQ(insert(u), std::nullopt);
  EXPECT_TRUE(find(project_a_, u.id));
}

TEST_F(SqliteStoreTest, WriteRollsBackAndRethrowsWhenTheLambdaThrows) {
  User u = user(project_a_, "alice@example.com");
  EXPECT_THROW(store_->write([&](Repositories& r) {
    r.users.insert(u, std::nullopt);
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_FALSE(find(project_a_, u.id));
  EXPECT_EQ(insert(u), std::nullopt);
  EXPECT_TRUE(find(project_a_, u.id));
}

TEST_F(SqliteStoreTest, StorageFailuresThrowStoreFailure) {
  User ghost = user("no-such-project", "ghost@example.com");  // violates the project foreign key
  EXPECT_THROW(insert(ghost), StoreFailure);
  EXPECT_EQ(insert(user(project_a_, "ok@example.com")), std::nullopt);
}

// ---- sessions ----

TEST_F(SqliteStoreTest, SessionRoundTripsByTokenHash) {
  User u = user(project_a_, "alice@example.com");
  ASSERT_EQ(insert(u), std::nullopt);
  Session s = session_for(u, kT0);
  s.token_hash = std::string("\x00\x01\x02hash-with-nul\x00\xff", 18);  // raw bytes, not text
  s.token_hash.resize(32, '\x7f');
  insert(s);
  auto got = find_session(s.token_hash);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, s.id);
  EXPECT_EQ(got->project_id, project_a_);
  EXPECT_EQ(got->user_id, u.id);
  EXPECT_EQ(got->token_hash, s.token_hash);
  EXPECT_EQ(got->created_at, s.created_at);
  EXPECT_EQ(got->expires_at, s.expires_at);
  EXPECT_EQ(got->idle_expires_at, s.idle_expires_at);
  EXPECT_EQ(got->last_used_at, s.last_used_at);
  EXPECT_EQ(got->ip, "203.0.113.7");
  EXPECT_EQ(got->user_agent, "test-agent/1.0");
  EXPECT_FALSE(find_session(std::string(32, '\0')));
  EXPECT_FALSE(find_session(s.token_hash.substr(0, 3)));  // a prefix of the hash is not the hash
}

TEST_F(SqliteStoreTest, ListForUserPagesNewestFirst) {
  User u = user(project_a_, "alice@example.com");
  User other = user(project_a_, "bob@example.com");
  ASSERT_EQ(insert(u), std::nullopt);
  ASSERT_EQ(insert(other), std::nullopt);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    Session s = session_for(u, kT0 + std::chrono::minutes(i));
    ids.push_back(s.id);
    insert(s);
  }
  insert(session_for(other, kT0 + 10min));

  EXPECT_THAT(list_ids(u.id, 2, std::nullopt), ElementsAre(ids[4], ids[3]));
  EXPECT_THAT(list_ids(u.id, 2, ids[3]), ElementsAre(ids[2], ids[1]));
  EXPECT_THAT(list_ids(u.id, 2, ids[1]), ElementsAre(ids[0]));
  EXPECT_TRUE(list_ids(u.id, 2, ids[0]).empty());
  EXPECT_THAT(list_ids(u.id, 100, std::nullopt), ElementsAre(ids[4], ids[3], ids[2], ids[1], ids[0]));
  EXPECT_TRUE(list_ids("no-such-user", 10, std::nullopt).empty());
}

TEST_F(SqliteStoreTest, RemoveSessionReturnsItsHashOnceAndOnlyForItsUser) {
  User u = user(project_a_, "alice@example.com");
  User other = user(project_a_, "bob@example.com");
  ASSERT_EQ(insert(u), std::nullopt);
  ASSERT_EQ(insert(other), std::nullopt);
  Session s = session_for(u, kT0);
  insert(s);

  EXPECT_EQ(store_->write([&](Repositories& r) { return r.sessions.remove(other.id, s.id); }), std::nullopt);
  EXPECT_TRUE(find_session(s.token_hash));
  EXPECT_EQ(store_->write([&](Repositories& r) { return r.sessions.remove(u.id, s.id); }), s.token_hash);
  EXPECT_FALSE(find_session(s.token_hash));
  EXPECT_EQ(store_->write([&](Repositories& r) { return r.sessions.remove(u.id, s.id); }), std::nullopt);
}

TEST_F(SqliteStoreTest, RemoveForUserKeepsTheExceptedSessionAndOtherUsers) {
  User u = user(project_a_, "alice@example.com");
  User other = user(project_a_, "bob@example.com");
  ASSERT_EQ(insert(u), std::nullopt);
  ASSERT_EQ(insert(other), std::nullopt);
  Session s1 = session_for(u, kT0), s2 = session_for(u, kT0 + 1s), s3 = session_for(u, kT0 + 2s);
  Session theirs = session_for(other, kT0);
  for (auto* s : {&s1, &s2, &s3, &theirs}) insert(*s);

  auto hashes = [](const std::vector<session::RemovedSession>& removed) {
    std::vector<std::string> out;
    for (auto& r : removed) out.push_back(r.token_hash);
    return out;
  };
  auto removed = store_->write([&](Repositories& r) { return r.sessions.remove_for_user(u.id, s2.id); });
  EXPECT_THAT(hashes(removed), UnorderedElementsAre(s1.token_hash, s3.token_hash));
  EXPECT_FALSE(find_session(s1.token_hash));
  EXPECT_TRUE(find_session(s2.token_hash));
  EXPECT_FALSE(find_session(s3.token_hash));
  EXPECT_TRUE(find_session(theirs.token_hash));

  auto rest = store_->write([&](Repositories& r) { return r.sessions.remove_for_user(u.id, std::nullopt); });
  EXPECT_THAT(hashes(rest), ElementsAre(s2.token_hash));
  EXPECT_EQ(rest.front().id, s2.id);
  EXPECT_TRUE(find_session(theirs.token_hash));
  EXPECT_TRUE(store_->write([&](Repositories& r) { return r.sessions.remove_for_user(u.id, std::nullopt); }).empty());
}

TEST_F(SqliteStoreTest, TouchMovesTheIdleExpiry) {
  User u = user(project_a_, "alice@example.com");
  ASSERT_EQ(insert(u), std::nullopt);
  Session s = session_for(u, kT0);
  insert(s);
  store_->write([&](Repositories& r) { r.sessions.touch(s.id, kT0 + 3h, kT0 + 1h); });
  auto got = find_session(s.token_hash);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->idle_expires_at, kT0 + 3h);
  EXPECT_EQ(got->last_used_at, kT0 + 1h);
  EXPECT_EQ(got->expires_at, s.expires_at);
}

TEST_F(SqliteStoreTest, RemoveExpiredAndCountActive) {
  User u = user(project_a_, "alice@example.com");
  ASSERT_EQ(insert(u), std::nullopt);
  Session idle_soon = session_for(u, kT0, /*idle=*/1h, /*lifetime=*/24h);
  Session idle_late = session_for(u, kT0, /*idle=*/3h, /*lifetime=*/24h);
  Session short_life = session_for(u, kT0, /*idle=*/3h, /*lifetime=*/2h);  // capped by its lifetime
  for (auto* s : {&idle_soon, &idle_late, &short_life}) insert(*s);

  auto count = [&](Timestamp now) { return store_->read([&](Repositories& r) { return r.sessions.count_active(now); }); };
  auto purge = [&](Timestamp now) { return store_->write([&](Repositories& r) { return r.sessions.remove_expired(now, now); }); };

  EXPECT_EQ(count(kT0), 3u);
  EXPECT_EQ(count(kT0 + 1h), 2u);  // expired at the instant its idle expiry is reached
  EXPECT_EQ(count(kT0 + 2h), 1u);
  EXPECT_EQ(purge(kT0 + 30min), 0u);
  EXPECT_EQ(purge(kT0 + 2h), 2u);
  EXPECT_FALSE(find_session(idle_soon.token_hash));
  EXPECT_FALSE(find_session(short_life.token_hash));
  EXPECT_TRUE(find_session(idle_late.token_hash));
  EXPECT_EQ(count(kT0 + 2h), 1u);
  EXPECT_EQ(purge(kT0 + 3h), 1u);
  EXPECT_EQ(count(kT0), 0u);
}

TEST_F(SqliteStoreTest, RemoveExpiredUsesSeparateIdleCutoff) {
  User u = user(project_a_, "alice@example.com");
  ASSERT_EQ(insert(u), std::nullopt);
  Session s = session_for(u, kT0, /*idle=*/1h, /*lifetime=*/24h);
  insert(s);
  auto purge = [&](Timestamp cutoff, Timestamp now) {
    return store_->write([&](Repositories& r) { return r.sessions.remove_expired(cutoff, now); });
  };
  EXPECT_EQ(purge(kT0 + 59min, kT0 + 2h), 0u);  // idle past `now` but not past the cutoff: kept
  EXPECT_EQ(purge(kT0 + 1h, kT0 + 1h), 1u);
}

TEST_F(SqliteStoreTest, ReadsSeeCommittedWritesFromOtherConnections) {
  // Readers use their own pooled connections; a commit by the writer must be visible to the next read.
  User u = user(project_a_, "alice@example.com");
  EXPECT_FALSE(find(project_a_, u.id));
  ASSERT_EQ(insert(u), std::nullopt);
  EXPECT_TRUE(find(project_a_, u.id));
  store_->write([&](Repositories& r) { r.users.touch(u.id, kT0 + 1h); });
  EXPECT_EQ(find(project_a_, u.id)->last_request_at, kT0 + 1h);
}

}  // namespace
}  // namespace tessera::store::sqlite
