// identity::UserService on a real SQLite store with a ManualClock and a cheap Argon2id cost:
// sign-up, password login, re-hashing, password change, guests and profile updates, self-deletion.
#include "identity/user_service.hpp"

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/uuid.hpp"
#include "crypto/random.hpp"
#include "session/session_service.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

namespace tessera::identity {
namespace {

using namespace std::chrono_literals;
using store::Repositories;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

const Timestamp kT0 = from_micros(1'795'000'000'000'000);
constexpr crypto::Argon2Params kCheap{8192, 1};
constexpr crypto::Argon2Params kStronger{8192, 2};

using tessera::testing::TempDir;

std::vector<std::string> fields_of(const Error& e) {
  std::vector<std::string> out;
  for (auto& f : e.fields) out.push_back(f.field + ":" + f.code);
  return out;
}

class UserServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { crypto::init(); }

  void SetUp() override {
    store_ = std::make_unique<store::sqlite::SqliteStore>(dir_.str(), "normal");
    store_->migrate();
    project_.id = make_uuid_v7(kT0);
    project_.alias = "main";
    project_.name = "Main";
    project_.created_at = kT0;
    if (!store_->write([&](Repositories& r) { return r.projects.insert(project_); })) throw std::runtime_error("project");
    SessionConfig config;
    sessions_ = std::make_unique<session::SessionService>(*store_, clock_, config);
    users_ = std::make_unique<UserService>(*store_, clock_, hasher_, *sessions_, 100);
  }
  void TearDown() override {
    users_.reset();
    sessions_.reset();
    store_.reset();
  }

  User sign_up(const std::string& email, const std::string& password = "correct horse") {
    SignUp in;
    in.email = email;
    in.password = password;
    auto user = users_->sign_up(project_, in);
    if (!user) throw std::runtime_error("sign_up failed: " + user.error().code);
    return *user;
  }
  Result<User> log_in(const std::string& identifier, const std::string& password,
                      IdentifierKind kind = IdentifierKind::email, UserService* service = nullptr) {
    PasswordLogin in;
    in.kind = kind;
    in.identifier = identifier;
    in.password = password;
    return (service ? *service : *users_).log_in(project_, in, "127.0.0.1");
  }
  std::optional<std::string> stored_hash(const std::string& user_id) {
    return store_->read([&](Repositories& r) { return r.users.password_hash(user_id); });
  }
  std::optional<User> stored_user(const std::string& user_id) {
    return store_->read([&](Repositories& r) { return r.users.find(project_.id, user_id); });
  }
  void store_update(const User& u) {
    if (store_->write([&](Repositories& r) { return r.users.update(u); })) throw std::runtime_error("update");
  }
  static std::string code_of(const Result<User>& r) { return r ? std::string("ok") : r.error().code; }
  std::string session_code(const session::IssuedSession& s) {
    auto r = sessions_->authenticate(s.token, &project_);
    return r ? std::string("ok") : r.error().code;
  }

  TempDir dir_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  ManualClock clock_{kT0};
  crypto::PasswordHasher hasher_{kCheap};
  projects::Project project_;
  std::unique_ptr<session::SessionService> sessions_;
  std::unique_ptr<UserService> users_;
};

// ---- sign-up ----

TEST_F(UserServiceTest, SignUpStoresTheUserWithAHashedPassword) {
  SignUp in;
  in.email = "Alice@Example.com";
  in.login = "alice";
  in.password = "correct horse";
  in.full_name = "Alice";
  in.tags = std::vector<std::string>{"vip"};
  in.data = boost::json::parse(R"({"plan":"pro"})").as_object();
  auto user = users_->sign_up(project_, in);
  ASSERT_TRUE(user) << user.error().code;
  EXPECT_TRUE(is_uuid(user->id));
  EXPECT_EQ(user->project_id, project_.id);
  EXPECT_EQ(user->email, "Alice@Example.com");
  EXPECT_TRUE(user->has_password);
  EXPECT_FALSE(user->is_guest);
  EXPECT_TRUE(user->active);
  EXPECT_FALSE(user->email_verified);
  EXPECT_EQ(user->created_at, kT0);

  auto stored = stored_user(user->id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->login, "alice");
  EXPECT_EQ(stored->full_name, "Alice");
  EXPECT_EQ(stored->tags, std::vector<std::string>{"vip"});
  EXPECT_EQ(stored->data.at("plan").as_string(), "pro");
  auto hash = stored_hash(user->id);
  ASSERT_TRUE(hash);
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=8192,t=1,p=1$")) << *hash;
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
}

TEST_F(UserServiceTest, SignUpValidationIs422) {
  SignUp in;
  in.email = "not an email";
  in.password = "short";
  auto user = users_->sign_up(project_, in);
  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().status, 422);
  EXPECT_EQ(user.error().code, "validation_failed");
  EXPECT_THAT(fields_of(user.error()), UnorderedElementsAre("email:format", "password:too_short"));
}

TEST_F(UserServiceTest, DuplicateIdentifierIs409NamingTheField) {
  sign_up("alice@example.com");
  SignUp in;
  in.email = "ALICE@example.com";
  in.password = "another password";
  auto user = users_->sign_up(project_, in);
  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().status, 409);
  EXPECT_EQ(user.error().code, "identifier_taken");
  EXPECT_THAT(fields_of(user.error()), ElementsAre("email:taken"));

  SignUp login;
  login.login = "bob";
  login.password = "another password";
  ASSERT_TRUE(users_->sign_up(project_, login));
  login.login = "BOB";
  auto again = users_->sign_up(project_, login);
  ASSERT_FALSE(again);
  EXPECT_THAT(fields_of(again.error()), ElementsAre("login:taken"));
}

// ---- log-in ----

TEST_F(UserServiceTest, LogInWithAnyCaseOfTheIdentifier) {
  User alice = sign_up("Alice@Example.com");
  for (const char* email : {"alice@example.com", "ALICE@EXAMPLE.COM", "Alice@Example.com"}) {
    auto user = log_in(email, "correct horse");
    ASSERT_TRUE(user) << email << ": " << user.error().code;
    EXPECT_EQ(user->id, alice.id);
  }
  SignUp by_phone;
  by_phone.phone = "+14155550123";
  by_phone.login = "Carol";
  by_phone.password = "phone password";
  ASSERT_TRUE(users_->sign_up(project_, by_phone));
  EXPECT_EQ(code_of(log_in("+14155550123", "phone password", IdentifierKind::phone)), "ok");
  EXPECT_EQ(code_of(log_in("carol", "phone password", IdentifierKind::login)), "ok");
  // The identifier kind matters: an email is not a login.
  EXPECT_EQ(code_of(log_in("alice@example.com", "correct horse", IdentifierKind::login)), "invalid_credentials");
}

TEST_F(UserServiceTest, WrongPasswordAndUnknownUserGetTheSameError) {
  sign_up("alice@example.com");
  auto wrong_password = log_in("alice@example.com", "wrong password");
  auto unknown_user = log_in("nobody@example.com", "correct horse");
  ASSERT_FALSE(wrong_password);
  ASSERT_FALSE(unknown_user);
  EXPECT_EQ(wrong_password.error().code, "invalid_credentials");
  EXPECT_EQ(wrong_password.error().status, 401);
  EXPECT_EQ(unknown_user.error().code, wrong_password.error().code);
  EXPECT_EQ(unknown_user.error().status, wrong_password.error().status);
  EXPECT_EQ(unknown_user.error().message, wrong_password.error().message);
  EXPECT_EQ(unknown_user.error().fields.size(), wrong_password.error().fields.size());
  EXPECT_EQ(unknown_user.error().www_authenticate, wrong_password.error().www_authenticate);
}

TEST_F(UserServiceTest, UserWithoutAPasswordCannotLogInWithOne) {
  User external;
  external.id = make_uuid_v7(kT0);
  external.project_id = project_.id;
  external.email = "ext@example.com";
  external.created_at = external.updated_at = kT0;
  ASSERT_FALSE(store_->write([&](Repositories& r) { return r.users.insert(external, std::nullopt); }));
  EXPECT_EQ(code_of(log_in("ext@example.com", "")), "invalid_credentials");
  EXPECT_EQ(code_of(log_in("ext@example.com", "anything at all")), "invalid_credentials");
}

TEST_F(UserServiceTest, InactiveUserIsToldOnlyOnceThePasswordIsRight) {
  User alice = sign_up("alice@example.com");
  alice.active = false;
  store_update(alice);
  EXPECT_EQ(code_of(log_in("alice@example.com", "wrong password")), "invalid_credentials");
  auto right = log_in("alice@example.com", "correct horse");
  ASSERT_FALSE(right);
  EXPECT_EQ(right.error().code, "user_inactive");
  EXPECT_EQ(right.error().status, 403);
}

TEST_F(UserServiceTest, OutdatedCostIsRehashedOnLogin) {
  User alice = sign_up("alice@example.com");
  std::string old_hash = *stored_hash(alice.id);
  ASSERT_TRUE(old_hash.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"));

  crypto::PasswordHasher stronger(kStronger);
  UserService upgraded(*store_, clock_, stronger, *sessions_, 100);
  // A wrong password changes nothing.
  EXPECT_EQ(code_of(log_in("alice@example.com", "wrong password", IdentifierKind::email, &upgraded)),
            "invalid_credentials");
  EXPECT_EQ(*stored_hash(alice.id), old_hash);

  ASSERT_EQ(code_of(log_in("alice@example.com", "correct horse", IdentifierKind::email, &upgraded)), "ok");
  std::string new_hash = *stored_hash(alice.id);
  EXPECT_TRUE(new_hash.starts_with("$argon2id$v=19$m=8192,t=2,p=1$")) << new_hash;
  EXPECT_FALSE(stronger.verify("correct horse", new_hash).needs_rehash);

  // Logging in again does not re-hash a current hash.
  ASSERT_EQ(code_of(log_in("alice@example.com", "correct horse", IdentifierKind::email, &upgraded)), "ok");
  EXPECT_EQ(*stored_hash(alice.id), new_hash);
}

TEST_F(UserServiceTest, ImportedArgon2iHashIsUpgradedOnLogin) {
  char legacy[crypto_pwhash_argon2i_STRBYTES];
  std::string password = "legacy password";
  ASSERT_EQ(crypto_pwhash_argon2i_str(legacy, password.data(), password.size(), crypto_pwhash_argon2i_OPSLIMIT_MIN,
                                      8192 * 1024),
            0);
  User imported;
  imported.id = make_uuid_v7(kT0);
  imported.project_id = project_.id;
  imported.email = "old@example.com";
  imported.created_at = imported.updated_at = kT0;
  ASSERT_FALSE(store_->write([&](Repositories& r) { return r.users.insert(imported, std::string(legacy)); }));

  ASSERT_EQ(code_of(log_in("old@example.com", password)), "ok");
  std::string upgraded = *stored_hash(imported.id);
  EXPECT_TRUE(upgraded.starts_with("$argon2id$v=19$m=8192,t=1,p=1$")) << upgraded;
  EXPECT_EQ(code_of(log_in("old@example.com", password)), "ok");
}

// ---- password change ----

TEST_F(UserServiceTest, ChangePasswordRevokesOtherSessions) {
  User alice = sign_up("alice@example.com");
  auto current = sessions_->issue(project_, alice.id, {});
  auto other1 = sessions_->issue(project_, alice.id, {});
  auto other2 = sessions_->issue(project_, alice.id, {});
  for (auto* s : {&current, &other1, &other2}) ASSERT_EQ(session_code(*s), "ok");  // all cached

  auto status = users_->change_password(alice, current.session.id, "correct horse", "a new password");
  ASSERT_TRUE(status) << status.error().code;
  EXPECT_EQ(session_code(current), "ok");
  EXPECT_EQ(session_code(other1), "invalid_token");
  EXPECT_EQ(session_code(other2), "invalid_token");
  EXPECT_EQ(code_of(log_in("alice@example.com", "correct horse")), "invalid_credentials");
  EXPECT_EQ(code_of(log_in("alice@example.com", "a new password")), "ok");
}

TEST_F(UserServiceTest, ChangePasswordNeedsTheOldPassword) {
  User alice = sign_up("alice@example.com");
  auto current = sessions_->issue(project_, alice.id, {});
  auto other = sessions_->issue(project_, alice.id, {});
  auto status = users_->change_password(alice, current.session.id, "wrong password", "a new password");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().status, 422);
  EXPECT_THAT(fields_of(status.error()), ElementsAre("old_password:incorrect"));
  EXPECT_EQ(session_code(other), "ok");
  EXPECT_EQ(code_of(log_in("alice@example.com", "correct horse")), "ok");
}

TEST_F(UserServiceTest, ChangePasswordAppliesThePasswordRule) {
  User alice = sign_up("alice@example.com");
  auto status = users_->change_password(alice, "", "correct horse", "short");
  ASSERT_FALSE(status);
  EXPECT_THAT(fields_of(status.error()), ElementsAre("new_password:too_short"));
  EXPECT_EQ(code_of(log_in("alice@example.com", "correct horse")), "ok");
}

// ---- guests and profile updates ----

TEST_F(UserServiceTest, CreateGuest) {
  auto guest = users_->create_guest(project_);
  ASSERT_TRUE(guest);
  EXPECT_TRUE(guest->is_guest);
  EXPECT_FALSE(guest->has_password);
  EXPECT_FALSE(guest->email || guest->login || guest->phone);
  auto stored = stored_user(guest->id);
  ASSERT_TRUE(stored);
  EXPECT_TRUE(stored->is_guest);
}

TEST_F(UserServiceTest, GuestNeedsAPasswordToAddAnIdentifier) {
  User guest = *users_->create_guest(project_);
  ProfilePatch patch;
  patch.email = std::optional<std::string>("guest@example.com");
  auto r = users_->update_profile(guest, patch);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 422);
  EXPECT_THAT(fields_of(r.error()), ElementsAre("password:required"));
  EXPECT_TRUE(stored_user(guest.id)->is_guest);
}

TEST_F(UserServiceTest, GuestNeedsAnIdentifierToSetAPassword) {
  User guest = *users_->create_guest(project_);
  ProfilePatch patch;
  patch.password = "guest password";
  auto r = users_->update_profile(guest, patch);
  ASSERT_FALSE(r);
  EXPECT_THAT(fields_of(r.error()), ElementsAre("email:required"));
  EXPECT_FALSE(stored_user(guest.id)->has_password);
}

TEST_F(UserServiceTest, GuestPasswordFollowsThePasswordRule) {
  User guest = *users_->create_guest(project_);
  ProfilePatch patch;
  patch.email = std::optional<std::string>("guest@example.com");
  patch.password = "short";
  auto r = users_->update_profile(guest, patch);
  ASSERT_FALSE(r);
  EXPECT_THAT(fields_of(r.error()), ElementsAre("password:too_short"));
}

TEST_F(UserServiceTest, GuestBecomesAFullUserWithAnIdentifierAndAPassword) {
  User guest = *users_->create_guest(project_);
  clock_.advance(1h);
  ProfilePatch patch;
  patch.email = std::optional<std::string>("Guest@Example.com");
  patch.password = "guest password";
  auto r = users_->update_profile(guest, patch);
  ASSERT_TRUE(r) << r.error().code;
  EXPECT_FALSE(r->is_guest);
  EXPECT_TRUE(r->has_password);
  EXPECT_EQ(r->email, "Guest@Example.com");
  EXPECT_EQ(r->updated_at, kT0 + 1h);
  auto stored = stored_user(guest.id);
  ASSERT_TRUE(stored);
  EXPECT_FALSE(stored->is_guest);
  EXPECT_TRUE(stored->has_password);
  auto logged_in = log_in("guest@example.com", "guest password");
  ASSERT_TRUE(logged_in) << logged_in.error().code;
  EXPECT_EQ(logged_in->id, guest.id);
}

TEST_F(UserServiceTest, GuestMayEditItsProfileAndStayAGuest) {
  User guest = *users_->create_guest(project_);
  ProfilePatch patch;
  patch.full_name = std::optional<std::string>("Anonymous Fox");
  auto r = users_->update_profile(guest, patch);
  ASSERT_TRUE(r) << r.error().code;
  EXPECT_TRUE(r->is_guest);
  EXPECT_EQ(stored_user(guest.id)->full_name, "Anonymous Fox");
}

TEST_F(UserServiceTest, FullUserCannotSetAPasswordThroughTheProfile) {
  User alice = sign_up("alice@example.com");
  ProfilePatch patch;
  patch.password = "another password";
  auto r = users_->update_profile(alice, patch);
  ASSERT_FALSE(r);
  EXPECT_THAT(fields_of(r.error()), ElementsAre("password:not_allowed"));
  EXPECT_EQ(code_of(log_in("alice@example.com", "correct horse")), "ok");
}

TEST_F(UserServiceTest, FullUserKeepsAtLeastOneIdentifier) {
  User alice = sign_up("alice@example.com");
  ProfilePatch patch;
  patch.email = std::optional<std::string>();  // null
  patch.current_password = "correct horse";
  auto r = users_->update_profile(alice, patch);
  ASSERT_FALSE(r);
  EXPECT_THAT(fields_of(r.error()), ElementsAre("email:required"));
}

TEST_F(UserServiceTest, ChangingAnIdentifierNeedsTheCurrentPassword) {
  User alice = sign_up("alice@example.com");
  alice.email_verified = true;
  store_update(alice);
  alice = *stored_user(alice.id);

  ProfilePatch patch;
  patch.email = std::optional<std::string>("alice@new.example");
  auto missing = users_->update_profile(alice, patch);
  ASSERT_FALSE(missing);
  EXPECT_THAT(fields_of(missing.error()), ElementsAre("current_password:required"));

  patch.current_password = "wrong password";
  auto wrong = users_->update_profile(alice, patch);
  ASSERT_FALSE(wrong);
  EXPECT_THAT(fields_of(wrong.error()), ElementsAre("current_password:incorrect"));
  EXPECT_EQ(stored_user(alice.id)->email, "alice@example.com");

  patch.current_password = "correct horse";
  auto ok = users_->update_profile(alice, patch);
  ASSERT_TRUE(ok) << ok.error().code;
  EXPECT_EQ(ok->email, "alice@new.example");
  EXPECT_FALSE(ok->email_verified);  // a new address is not verified
  EXPECT_FALSE(stored_user(alice.id)->email_verified);
  EXPECT_EQ(code_of(log_in("alice@new.example", "correct horse")), "ok");
  EXPECT_EQ(code_of(log_in("alice@example.com", "correct horse")), "invalid_credentials");
}

TEST_F(UserServiceTest, ProfileFieldsNeedNoPassword) {
  User alice = sign_up("alice@example.com");
  ProfilePatch patch;
  patch.full_name = std::optional<std::string>("Alice Liddell");
  auto r = users_->update_profile(alice, patch);
  ASSERT_TRUE(r) << r.error().code;
  EXPECT_EQ(stored_user(alice.id)->full_name, "Alice Liddell");
}

TEST_F(UserServiceTest, IdentifierConflictOnUpdateIs409) {
  sign_up("bob@example.com");
  User alice = sign_up("alice@example.com");
  ProfilePatch patch;
  patch.email = std::optional<std::string>("BOB@example.com");
  patch.current_password = "correct horse";
  auto r = users_->update_profile(alice, patch);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 409);
  EXPECT_EQ(r.error().code, "identifier_taken");
  EXPECT_EQ(stored_user(alice.id)->email, "alice@example.com");
}

TEST_F(UserServiceTest, DataIsMergePatched) {
  SignUp in;
  in.email = "alice@example.com";
  in.password = "correct horse";
  in.data = boost::json::parse(R"({"a":1,"b":{"c":2,"d":3}})").as_object();
  User alice = *users_->sign_up(project_, in);
  ProfilePatch patch;
  patch.data = boost::json::parse(R"({"b":{"c":null},"e":"new"})");
  auto r = users_->update_profile(alice, patch);
  ASSERT_TRUE(r) << r.error().code;
  EXPECT_EQ(boost::json::value(stored_user(alice.id)->data), boost::json::parse(R"({"a":1,"b":{"d":3},"e":"new"})"));

  ProfilePatch not_object;
  not_object.data = boost::json::parse("[1]");
  auto bad = users_->update_profile(*r, not_object);
  ASSERT_FALSE(bad);
  EXPECT_THAT(fields_of(bad.error()), ElementsAre("data:type"));
}

TEST_F(UserServiceTest, GetIsCachedAndRefreshedAfterAnUpdate) {
  User alice = sign_up("alice@example.com");
  auto first = users_->get(project_.id, alice.id);
  ASSERT_TRUE(first);
  EXPECT_EQ(users_->get(project_.id, alice.id), first);  // served from the cache
  EXPECT_EQ(users_->get("other-project", alice.id), nullptr);

  ProfilePatch patch;
  patch.full_name = std::optional<std::string>("Alice Liddell");
  ASSERT_TRUE(users_->update_profile(alice, patch));
  auto fresh = users_->get(project_.id, alice.id);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->full_name, "Alice Liddell");
}

// ---- deletion ----

TEST_F(UserServiceTest, DeleteSelfNeedsThePasswordAndEndsEverySession) {
  User alice = sign_up("alice@example.com");
  auto s1 = sessions_->issue(project_, alice.id, {});
  auto s2 = sessions_->issue(project_, alice.id, {});
  ASSERT_EQ(session_code(s1), "ok");

  auto missing = users_->delete_self(alice, std::nullopt);
  ASSERT_FALSE(missing);
  EXPECT_THAT(fields_of(missing.error()), ElementsAre("password:required"));
  auto wrong = users_->delete_self(alice, std::string("wrong password"));
  ASSERT_FALSE(wrong);
  EXPECT_THAT(fields_of(wrong.error()), ElementsAre("password:incorrect"));
  EXPECT_TRUE(stored_user(alice.id));

  ASSERT_TRUE(users_->delete_self(alice, std::string("correct horse")));
  EXPECT_FALSE(stored_user(alice.id));
  EXPECT_EQ(users_->get(project_.id, alice.id), nullptr);
  EXPECT_EQ(session_code(s1), "invalid_token");
  EXPECT_EQ(session_code(s2), "invalid_token");
  EXPECT_EQ(code_of(log_in("alice@example.com", "correct horse")), "invalid_credentials");
}

TEST_F(UserServiceTest, GuestDeletesItselfWithoutAPassword) {
  User guest = *users_->create_guest(project_);
  ASSERT_TRUE(users_->delete_self(guest, std::nullopt));
  EXPECT_FALSE(stored_user(guest.id));
}

}  // namespace
}  // namespace tessera::identity
