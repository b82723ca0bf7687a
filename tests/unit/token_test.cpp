// crypto/token (opaque bearer secrets) and crypto/random (base64url, hex).
#include "crypto/token.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "crypto/random.hpp"

namespace tessera::crypto {
namespace {

class TokenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init(); }
};

bool is_base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

TEST_F(TokenTest, MakeTokenIsPrefixPlus43Base64urlChars) {
  std::string token = make_token(kSessionTokenPrefix);
  ASSERT_EQ(token.size(), 4u + 43u) << token;
  EXPECT_TRUE(token.starts_with("tss_")) << token;
  for (char c : token.substr(4)) EXPECT_TRUE(is_base64url_char(c)) << token;
  std::string secret;
  ASSERT_TRUE(base64url_decode(token.substr(4), secret));
  EXPECT_EQ(secret.size(), 32u);
  EXPECT_TRUE(token_well_formed(token, kSessionTokenPrefix));
}

TEST_F(TokenTest, MakeTokenUsesTheGivenPrefix) {
  std::string token = make_token("tsp_");
  EXPECT_TRUE(token.starts_with("tsp_"));
  EXPECT_TRUE(token_well_formed(token, "tsp_"));
  EXPECT_FALSE(token_well_formed(token, "tss_"));
}

TEST_F(TokenTest, TokensAreDistinct) {
  std::set<std::string> tokens;
  for (int i = 0; i < 1000; ++i) tokens.insert(make_token(kSessionTokenPrefix));
  EXPECT_EQ(tokens.size(), 1000u);
}

TEST_F(TokenTest, WellFormedRejectsJunk) {
  std::string good = make_token(kSessionTokenPrefix);
  std::string body = good.substr(4);
  EXPECT_TRUE(token_well_formed(good, "tss_"));
  EXPECT_FALSE(token_well_formed("", "tss_"));
  EXPECT_FALSE(token_well_formed("tss_", "tss_"));
  EXPECT_FALSE(token_well_formed("tsp_" + body, "tss_"));   // wrong prefix
  EXPECT_FALSE(token_well_formed("TSS_" + body, "tss_"));   // prefix is case-sensitive
  EXPECT_FALSE(token_well_formed("xtss" + body, "tss_"));
  EXPECT_FALSE(token_well_formed(body + "abcd", "tss_"));   // right length, no prefix
  EXPECT_FALSE(token_well_formed(good.substr(0, 46), "tss_"));  // too short
  EXPECT_FALSE(token_well_formed(good + "A", "tss_"));          // too long
  for (char bad : {'+', '/', '=', '.', ' ', '%', '\0', '\xC3'}) {
    std::string t = good;
    t[20] = bad;
    EXPECT_FALSE(token_well_formed(t, "tss_")) << static_cast<int>(bad);
  }
}

TEST_F(TokenTest, TokenHashIsDeterministic32Bytes) {
  std::string a = make_token(kSessionTokenPrefix);
  std::string b = make_token(kSessionTokenPrefix);
  EXPECT_EQ(token_hash(a).size(), 32u);
  EXPECT_EQ(token_hash(a), token_hash(a));
  EXPECT_NE(token_hash(a), token_hash(b));
  EXPECT_NE(token_hash(a), a);
  // The prefix is part of what is hashed.
  std::string other_prefix = "tsp_" + a.substr(4);
  EXPECT_NE(token_hash(a), token_hash(other_prefix));
}

TEST_F(TokenTest, CsrfTokenIsDerivedDeterministicallyAndDiffersFromTheStoredHash) {
  std::string a = make_token(kSessionTokenPrefix);
  std::string b = make_token(kSessionTokenPrefix);
  std::string csrf = csrf_token_for(a);
  EXPECT_EQ(csrf, csrf_token_for(a));
  EXPECT_NE(csrf, csrf_token_for(b));
  EXPECT_EQ(csrf.size(), 43u);
  for (char c : csrf) EXPECT_TRUE(is_base64url_char(c)) << csrf;
  EXPECT_EQ(csrf.find(a.substr(4)), std::string::npos);
  // Domain separation: knowing the CSRF token must not reveal the lookup hash the store keeps.
  EXPECT_NE(csrf, base64url_encode(token_hash(a)));
}

TEST_F(TokenTest, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "Secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secret2"));
  EXPECT_FALSE(constant_time_equal("secret", ""));
  EXPECT_TRUE(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST_F(TokenTest, Base64urlKnownVectors) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode(std::string("\xfb\xff\xfe", 3)), "-__-");  // '+' and '/' in standard base64
}

TEST_F(TokenTest, Base64urlRoundTripsEveryLength) {
  for (size_t n = 0; n <= 70; ++n) {
    std::string bytes = random_bytes(n);
    std::string encoded = base64url_encode(bytes);
    EXPECT_EQ(encoded.find('='), std::string::npos);
    std::string decoded = "stale";
    ASSERT_TRUE(base64url_decode(encoded, decoded)) << n;
    EXPECT_EQ(decoded, bytes) << n;
  }
}

TEST_F(TokenTest, Base64urlDecodeRejectsPaddingAndForeignCharacters) {
  std::string out;
  for (const char* text : {
           "Zg==",   // padded
           "Zm8=",
           "Zg=",
           "Zm9v+A", // standard-alphabet characters
           "Zm9v/A",
           "Zm 9v",
           "Zm9v\n",
           "Z",      // not a whole byte
           "Zm9vY",
           "!!!!",
           "Zm9v=Zm9v",
       }) {
    EXPECT_FALSE(base64url_decode(text, out)) << text;
  }
}

TEST_F(TokenTest, HexEncode) {
  EXPECT_EQ(hex_encode(""), "");
  EXPECT_EQ(hex_encode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
}

TEST_F(TokenTest, RandomBytesHaveTheAskedLength) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(32).size(), 32u);
  EXPECT_NE(random_bytes(32), random_bytes(32));
}

}  // namespace
}  // namespace tessera::crypto
