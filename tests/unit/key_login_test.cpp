// contexts::KeyLogin on a real SQLite store with a ManualClock: the challenge's lifetime and single use,
// the message it binds, and signatures made here with libsodium (Ed25519).
#include "contexts/key_login.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include "contexts/context_service.hpp"
#include "core/uuid.hpp"
#include "crypto/random.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

namespace tessera::contexts {
namespace {

using namespace std::chrono_literals;
using store::Repositories;

const Timestamp kT0 = from_micros(1'795'000'000'000'000);

std::string base64(const unsigned char* bytes, size_t n) {
  std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes, n, sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return out;
}

class KeyLoginTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { crypto::init(); }

  void SetUp() override {
    store_ = std::make_unique<store::sqlite::SqliteStore>(dir_.str(), "normal");
    store_->migrate();
    project_.id = make_uuid_v7(kT0);
    project_.alias = "main";
    project_.name = "Main";
    project_.created_at = kT0;
    ASSERT_TRUE(store_->write([&](Repositories& r) { return r.projects.insert(project_); }));
    user_.id = make_uuid_v7(kT0);
    user_.project_id = project_.id;
    user_.email = "keys@example.com";
    user_.created_at = user_.updated_at = kT0;
    ASSERT_FALSE(store_->write([&](Repositories& r) { return r.users.insert(user_, std::nullopt); }));
    crypto_sign_keypair(public_key_, secret_key_);
    contexts_ = std::make_unique<ContextService>(*store_, clock_);
    auto context = contexts_->create(project_.id, "chat", "");
    ASSERT_TRUE(context);
    context_id_ = context->id;
    ASSERT_TRUE(contexts_->put_member(project_.id, context_id_, user_.id, {base64(public_key_, sizeof public_key_), "ed25519"}));
  }

  std::string sign(const std::string& message) {
    unsigned char signature[crypto_sign_BYTES];
    crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(message.data()), message.size(), secret_key_);
    return std::string(reinterpret_cast<char*>(signature), sizeof signature);
  }

  testing::TempDir dir_;
  ManualClock clock_{kT0};
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<ContextService> contexts_;
  projects::Project project_;
  identity::User user_;
  std::string context_id_;
  unsigned char public_key_[crypto_sign_PUBLICKEYBYTES];
  unsigned char secret_key_[crypto_sign_SECRETKEYBYTES];
};

TEST_F(KeyLoginTest, TheMessageBindsOriginProjectChallengeAndNonce) {
  KeyLogin login(*store_, clock_, "https://id.example.com");
  auto c = login.challenge(project_, {.user_id = user_.id});
  EXPECT_EQ(c.message, "tessera-key-login/v1\nhttps://id.example.com\n" + project_.id + "\n" + c.id + "\n" + c.nonce + "\n");
  EXPECT_EQ(c.expires_at, kT0 + 60s);
  auto user = login.log_in(project_, c.id, sign(c.message));
  ASSERT_TRUE(user) << user.error().code;
  EXPECT_EQ(user->id, user_.id);
}

TEST_F(KeyLoginTest, AChallengeIsSingleUseAndLivesSixtySeconds) {
  KeyLogin login(*store_, clock_, "tessera");
  auto used = login.challenge(project_, {.email = "KEYS@example.com"});
  ASSERT_TRUE(login.log_in(project_, used.id, sign(used.message)));
  EXPECT_EQ(login.log_in(project_, used.id, sign(used.message)).error().code, "invalid_challenge");

  auto late = login.challenge(project_, {.user_id = user_.id});
  clock_.advance(60s);
  EXPECT_EQ(login.log_in(project_, late.id, sign(late.message)).error().code, "invalid_challenge");
  auto in_time = login.challenge(project_, {.user_id = user_.id});
  clock_.advance(59s);
  EXPECT_TRUE(login.log_in(project_, in_time.id, sign(in_time.message)));
}

TEST_F(KeyLoginTest, ASignatureForAnotherOriginDoesNotVerify) {
  KeyLogin here(*store_, clock_, "https://here.example");
  auto c = here.challenge(project_, {.user_id = user_.id});
  std::string elsewhere = c.message;
  elsewhere.replace(elsewhere.find("https://here.example"), 20, "https://evil.example");
  auto refused = here.log_in(project_, c.id, sign(elsewhere));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "invalid_signature");
}

TEST_F(KeyLoginTest, AnUnknownUserGetsAChallengeAndFailsLikeAWrongSignature) {
  KeyLogin login(*store_, clock_, "tessera");
  auto c = login.challenge(project_, {.login = "nobody"});
  EXPECT_FALSE(c.id.empty());
  EXPECT_EQ(login.log_in(project_, c.id, sign(c.message)).error().code, "invalid_signature");
}

}  // namespace
}  // namespace tessera::contexts
