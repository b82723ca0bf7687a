// crypto/password_hasher: Argon2id PHC strings, verification by prefix, and re-hash decisions.
// Uses the cheapest Argon2id cost that libsodium's string format can express quickly (8 MiB, t=1).
#include "crypto/password_hasher.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <stdexcept>
#include <string>

#include "crypto/random.hpp"

namespace tessera::crypto {
namespace {

constexpr Argon2Params kCheap{8192, 1};

class PasswordHasherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init(); }
  PasswordHasher hasher_{kCheap};
};

std::string argon2i_hash(std::string_view password) {
  char out[crypto_pwhash_argon2i_STRBYTES];
  if (crypto_pwhash_argon2i_str(out, password.data(), password.size(), crypto_pwhash_argon2i_OPSLIMIT_MIN,
                                8192 * 1024) != 0)
    throw std::runtime_error("argon2i hashing failed");
  return out;
}

TEST_F(PasswordHasherTest, HashIsAnArgon2idPhcStringWithTheConfiguredCost) {
  std::string hash = hasher_.hash("correct horse battery staple");
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=8192,t=1,p=1$")) << hash;
  EXPECT_EQ(hash.find("correct horse"), std::string::npos);
}

TEST_F(PasswordHasherTest, EachHashHasItsOwnSalt) {
  EXPECT_NE(hasher_.hash("same password"), hasher_.hash("same password"));
}

TEST_F(PasswordHasherTest, VerifyAcceptsTheRightPasswordOnly) {
  std::string hash = hasher_.hash("correct horse battery staple");
  VerifyOutcome ok = hasher_.verify("correct horse battery staple", hash);
  EXPECT_TRUE(ok.ok);
  EXPECT_FALSE(ok.needs_rehash);
  for (const char* wrong : {"", "correct horse battery stapl", "Correct horse battery staple",
                            "correct horse battery staple "}) {
    VerifyOutcome bad = hasher_.verify(wrong, hash);
    EXPECT_FALSE(bad.ok) << wrong;
    EXPECT_FALSE(bad.needs_rehash) << wrong;
  }
}

TEST_F(PasswordHasherTest, PasswordsAreBytesNotCStrings) {
  std::string with_nul("abc\0def", 7);
  std::string hash = hasher_.hash(with_nul);
  EXPECT_TRUE(hasher_.verify(with_nul, hash).ok);
  EXPECT_FALSE(hasher_.verify("abc", hash).ok);
}

TEST_F(PasswordHasherTest, EmptyAndMultiBytePasswordsWork) {
  std::string empty_hash = hasher_.hash("");
  EXPECT_TRUE(hasher_.verify("", empty_hash).ok);
  std::string utf8 = "pässwörd 日本語 😀";
  EXPECT_TRUE(hasher_.verify(utf8, hasher_.hash(utf8)).ok);
}

TEST_F(PasswordHasherTest, OtherIterationsNeedRehash) {
  std::string old_hash = hasher_.hash("hunter2hunter2");
  PasswordHasher stronger({8192, 2});
  VerifyOutcome outcome = stronger.verify("hunter2hunter2", old_hash);
  EXPECT_TRUE(outcome.ok);
  EXPECT_TRUE(outcome.needs_rehash);
  EXPECT_FALSE(stronger.verify("hunter2hunter2", stronger.hash("hunter2hunter2")).needs_rehash);
}

TEST_F(PasswordHasherTest, OtherMemoryNeedsRehash) {
  std::string old_hash = hasher_.hash("hunter2hunter2");
  PasswordHasher bigger({16384, 1});
  VerifyOutcome outcome = bigger.verify("hunter2hunter2", old_hash);
  EXPECT_TRUE(outcome.ok);
  EXPECT_TRUE(outcome.needs_rehash);
}

TEST_F(PasswordHasherTest, WrongPasswordNeverAsksForRehash) {
  std::string old_hash = hasher_.hash("hunter2hunter2");
  PasswordHasher stronger({8192, 2});
  VerifyOutcome outcome = stronger.verify("wrong password", old_hash);
  EXPECT_FALSE(outcome.ok);
  EXPECT_FALSE(outcome.needs_rehash);
}

TEST_F(PasswordHasherTest, Argon2iHashesVerifyAndNeedRehash) {
  std::string imported = argon2i_hash("legacy password");
  ASSERT_TRUE(imported.starts_with("$argon2i$")) << imported;
  VerifyOutcome outcome = hasher_.verify("legacy password", imported);
  EXPECT_TRUE(outcome.ok);
  EXPECT_TRUE(outcome.needs_rehash);
  VerifyOutcome wrong = hasher_.verify("other password", imported);
  EXPECT_FALSE(wrong.ok);
  EXPECT_FALSE(wrong.needs_rehash);
}

TEST_F(PasswordHasherTest, UnknownFormatsNeverVerify) {
  std::string argon2id = hasher_.hash("password123");
  for (std::string stored : {
           std::string(""),
           std::string("password123"),  // a plain-text "hash" equal to the password
           std::string("$2b$10$abcdefghijklmnopqrstuuB4V4vzS2aF1cmX8xJYh6ZqBXh6uGa6"),
           std::string("$argon2d$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"),
           std::string("$argon2id$garbage"),
           std::string("$argon2i$garbage"),
           argon2id.substr(0, argon2id.size() - 4),  // truncated
           "x" + argon2id,                             // prefix broken
       }) {
    VerifyOutcome outcome = hasher_.verify("password123", stored);
    EXPECT_FALSE(outcome.ok) << stored;
    EXPECT_FALSE(outcome.needs_rehash) << stored;
  }
}

TEST_F(PasswordHasherTest, VerifyDummyIsHarmless) {
  hasher_.verify_dummy("anything");
  hasher_.verify_dummy("");
  SUCCEED();
}

TEST(PasswordHasherParams, BelowArgon2idMinimumsIsRefused) {
  init();
  EXPECT_THROW(PasswordHasher({4, 1}), std::invalid_argument);     // 4 KiB < 8 KiB
  EXPECT_THROW(PasswordHasher({8192, 0}), std::invalid_argument);  // t < 1
  PasswordHasher minimal({8, 1});
  EXPECT_EQ(minimal.params().memory_kib, 8u);
  EXPECT_EQ(minimal.params().iterations, 1u);
}

}  // namespace
}  // namespace tessera::crypto
