// external/external_token: the profile in a verify_url answer (docs/external.md, "POST /v1/auth/external"):
// the default field names, an id given as a string or a number, and `mapping` to dotted paths.
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "external/external_token.hpp"

namespace tessera::external {
namespace {

namespace json = boost::json;

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

Result<ExternalProfile> profile(std::string_view answer, std::optional<std::string_view> mapping = std::nullopt) {
  std::optional<json::object> m;
  if (mapping) m = obj(*mapping);
  return profile_from_answer(obj(answer), m);
}

void expect_provider_unavailable(const Result<ExternalProfile>& p, std::string_view what) {
  ASSERT_FALSE(p) << what;
  EXPECT_EQ(p.error().status, 502) << what;
  EXPECT_EQ(p.error().code, "provider_unavailable") << what;
  EXPECT_FALSE(p.error().internal.empty()) << what;
}

TEST(ProfileFromAnswer, ReadsTheDefaultFields) {
  auto p = profile(R"({"id": "u-1", "login": "alice", "email": "alice@example.com", "email_verified": true,
                       "full_name": "Alice Liddell", "phone": "+14155550123", "extra": {"ignored": 1}})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->subject, "u-1");
  EXPECT_EQ(p->login, "alice");
  EXPECT_EQ(p->email, "alice@example.com");
  EXPECT_TRUE(p->email_verified);
  EXPECT_EQ(p->full_name, "Alice Liddell");
  EXPECT_EQ(p->phone, "+14155550123");
}

TEST(ProfileFromAnswer, OnlyIdIsRequired) {
  auto p = profile(R"({"id": "u-1"})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->subject, "u-1");
  EXPECT_EQ(p->login, std::nullopt);
  EXPECT_EQ(p->email, std::nullopt);
  EXPECT_FALSE(p->email_verified);
  EXPECT_EQ(p->full_name, std::nullopt);
  EXPECT_EQ(p->phone, std::nullopt);
}

TEST(ProfileFromAnswer, TheIdMayBeANumber) {
  auto p = profile(R"({"id": 12345})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->subject, "12345");
  auto big = profile(R"({"id": 18446744073709551615})");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->subject, "18446744073709551615");
  auto zero = profile(R"({"id": 0})");
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->subject, "0");
}

TEST(ProfileFromAnswer, WithoutAnIdTheProviderIsUnavailable) {
  expect_provider_unavailable(profile(R"({})"), "empty");
  expect_provider_unavailable(profile(R"({"email": "a@example.com", "email_verified": true})"), "no id");
  expect_provider_unavailable(profile(R"({"id": ""})"), "empty id");
  expect_provider_unavailable(profile(R"({"id": null})"), "null id");
  expect_provider_unavailable(profile(R"({"id": true})"), "boolean id");
  expect_provider_unavailable(profile(R"({"id": ["u-1"]})"), "array id");
  expect_provider_unavailable(profile(R"({"id": {"value": "u-1"}})"), "object id");
  expect_provider_unavailable(profile(R"({"ID": "u-1"})"), "names are case-sensitive");
  expect_provider_unavailable(profile_from_answer({{"id", std::string(256, 'x')}}, std::nullopt), "id of 256 characters");
  EXPECT_TRUE(profile_from_answer({{"id", std::string(255, 'x')}}, std::nullopt));
}

TEST(ProfileFromAnswer, EmailVerifiedOnlyWhenTheBooleanTrue) {
  auto verified = [](std::string_view value) {
    auto p = profile(R"({"id": "u", "email": "a@example.com", "email_verified": )" + std::string(value) + "}");
    EXPECT_TRUE(p) << value;
    return p && p->email_verified;
  };
  EXPECT_TRUE(verified("true"));
  EXPECT_FALSE(verified("false"));
  EXPECT_FALSE(verified(R"("true")"));
  EXPECT_FALSE(verified("1"));
  EXPECT_FALSE(verified("null"));
  EXPECT_FALSE(verified("[true]"));
}

TEST(ProfileFromAnswer, LeavesOutEmptyOrNonStringFields) {
  auto p = profile(R"({"id": "u", "login": "", "email": 42, "full_name": null, "phone": ["+14155550123"]})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->login, std::nullopt);
  EXPECT_EQ(p->email, std::nullopt);
  EXPECT_EQ(p->full_name, std::nullopt);
  EXPECT_EQ(p->phone, std::nullopt);
}

TEST(ProfileFromAnswer, AMappingReadsDottedPaths) {
  auto p = profile(R"({"user": {"uid": "u-9", "mail": "bob@example.com", "verified": true, "handle": "bob",
                                "name": {"full": "Bob Builder"}},
                       "contact": {"phone": "+447700900123"}})",
                   R"({"id": "user.uid", "email": "user.mail", "email_verified": "user.verified", "login": "user.handle",
                       "full_name": "user.name.full", "phone": "contact.phone"})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->subject, "u-9");
  EXPECT_EQ(p->email, "bob@example.com");
  EXPECT_TRUE(p->email_verified);
  EXPECT_EQ(p->login, "bob");
  EXPECT_EQ(p->full_name, "Bob Builder");
  EXPECT_EQ(p->phone, "+447700900123");
}

TEST(ProfileFromAnswer, AMappingMayRenameWithoutDots) {
  auto p = profile(R"({"uid": 77, "mail": "c@example.com"})", R"({"id": "uid", "email": "mail"})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->subject, "77");
  EXPECT_EQ(p->email, "c@example.com");
}

TEST(ProfileFromAnswer, FieldsLeftOutOfTheMappingKeepTheirNames) {
  auto p = profile(R"({"user": {"uid": "u-9"}, "email": "top@example.com", "email_verified": true})", R"({"id": "user.uid"})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->subject, "u-9");
  EXPECT_EQ(p->email, "top@example.com");
  EXPECT_TRUE(p->email_verified);
}

TEST(ProfileFromAnswer, AMappedFieldIsReadAtItsPathOnly) {
  // The answer's own "id" is not a fallback for a mapped id that is missing.
  expect_provider_unavailable(profile(R"({"id": "top", "user": {}})", R"({"id": "user.uid"})"), "mapped id missing");
  expect_provider_unavailable(profile(R"({"id": "top", "user": "u-1"})", R"({"id": "user.uid"})"), "path through a string");
  expect_provider_unavailable(profile(R"({"id": "top", "user": ["u-1"]})", R"({"id": "user.0"})"), "path through an array");
  auto p = profile(R"({"id": "u", "email": "top@example.com", "user": {}})", R"({"email": "user.mail"})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->email, std::nullopt);
}

TEST(ProfileFromAnswer, AMappedEmailVerifiedMustBeTheBooleanTrue) {
  auto p = profile(R"({"id": "u", "user": {"verified": "true"}})", R"({"email_verified": "user.verified"})");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->email_verified);
}

}  // namespace
}  // namespace tessera::external
