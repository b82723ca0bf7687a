// identity/user_service pure functions: sign-up validation, the password rule, and RFC 7386 merge-patch.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "identity/profile_rules.hpp"
#include "identity/user_service.hpp"

namespace tessera::identity {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

// "field:code" for compact comparisons.
std::vector<std::string> codes(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (auto& e : errors) out.push_back(e.field + ":" + e.code);
  return out;
}

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

SignUp valid_sign_up() {
  SignUp in;
  in.email = "alice@example.com";
  in.password = "correct horse";
  return in;
}

TEST(ValidateSignUp, AcceptsAValidRequest) {
  EXPECT_TRUE(validate_sign_up(valid_sign_up()).empty());
  SignUp login_only;
  login_only.login = "alice";
  login_only.password = "correct horse";
  EXPECT_TRUE(validate_sign_up(login_only).empty());
  SignUp phone_only;
  phone_only.phone = "+14155550123";
  phone_only.password = "correct horse";
  EXPECT_TRUE(validate_sign_up(phone_only).empty());
}

TEST(ValidateSignUp, NeedsAnIdentifierAndAPassword) {
  SignUp empty;
  EXPECT_THAT(codes(validate_sign_up(empty)), UnorderedElementsAre("email:required", "password:required"));
}

TEST(ValidateSignUp, NamesEveryOffendingField) {
  SignUp in;
  in.email = "not-an-email";
  in.login = "x";
  in.phone = "555-0123";
  in.password = "short";
  in.full_name = repeat("n", 257);
  in.external_id = repeat("e", 257);
  EXPECT_THAT(codes(validate_sign_up(in)),
              UnorderedElementsAre("email:format", "login:format", "phone:format", "password:too_short",
                                   "full_name:too_long", "external_id:too_long"));
}

TEST(ValidateSignUp, ErrorsCarryAHumanDetail) {
  SignUp in = valid_sign_up();
  in.email = "nope";
  auto errors = validate_sign_up(in);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_FALSE(errors[0].detail.empty());
}

TEST(ValidateSignUp, TextLimitsCountCharactersNotBytes) {
  SignUp in = valid_sign_up();
  in.full_name = repeat("é", 256);  // 512 bytes, 256 characters
  EXPECT_TRUE(validate_sign_up(in).empty());
  in.full_name = repeat("é", 257);
  EXPECT_THAT(codes(validate_sign_up(in)), ElementsAre("full_name:too_long"));
}

TEST(ValidateSignUp, TagRules) {
  SignUp in = valid_sign_up();
  in.tags = std::vector<std::string>(64, "vip");
  EXPECT_TRUE(validate_sign_up(in).empty());
  in.tags = std::vector<std::string>(65, "vip");
  EXPECT_THAT(codes(validate_sign_up(in)), ElementsAre("tags:too_many"));
  in.tags = std::vector<std::string>{"ok", "", repeat("t", 65), repeat("日", 64)};
  EXPECT_THAT(codes(validate_sign_up(in)), ElementsAre("tags[1]:length", "tags[2]:length"));
}

TEST(ValidateSignUp, DataIsLimitedTo64KiB) {
  SignUp in = valid_sign_up();
  boost::json::object small;
  small["note"] = repeat("x", 1000);
  in.data = small;
  EXPECT_TRUE(validate_sign_up(in).empty());
  boost::json::object big;
  big["note"] = repeat("x", 64 * 1024);
  in.data = big;
  EXPECT_THAT(codes(validate_sign_up(in)), ElementsAre("data:too_large"));
}

TEST(CheckPasswordRule, EightToTenTwentyFourCharacters) {
  auto check = [](const std::string& password) {
    std::vector<FieldError> errors;
    check_password_rule("password", password, errors);
    return codes(errors);
  };
  EXPECT_THAT(check(""), ElementsAre("password:too_short"));
  EXPECT_THAT(check("1234567"), ElementsAre("password:too_short"));
  EXPECT_TRUE(check("12345678").empty());
  EXPECT_TRUE(check(repeat("a", 1024)).empty());
  EXPECT_THAT(check(repeat("a", 1025)), ElementsAre("password:too_long"));
}

TEST(CheckPasswordRule, MultiByteCharactersCountAsOne) {
  auto check = [](const std::string& password) {
    std::vector<FieldError> errors;
    check_password_rule("password", password, errors);
    return codes(errors);
  };
  EXPECT_THAT(check(repeat("😀", 7)), ElementsAre("password:too_short"));  // 28 bytes, 7 characters
  EXPECT_TRUE(check(repeat("😀", 8)).empty());
  EXPECT_TRUE(check(repeat("é", 8)).empty());
  EXPECT_TRUE(check(repeat("é", 1024)).empty());  // 2048 bytes
  EXPECT_THAT(check(repeat("é", 1025)), ElementsAre("password:too_long"));
}

TEST(CheckPasswordRule, UsesTheGivenFieldNameAndAppends) {
  std::vector<FieldError> errors{{"email", "format", "x"}};
  check_password_rule("new_password", "short", errors);
  EXPECT_THAT(codes(errors), ElementsAre("email:format", "new_password:too_short"));
}

// apply_profile_patch: the pure half of PATCH /v1/me.
User full_user() {
  User u;
  u.id = "u1";
  u.email = "alice@example.com";
  u.email_verified = true;
  u.has_password = true;
  return u;
}
User guest_user() {
  User u;
  u.id = "g1";
  u.is_guest = true;
  return u;
}
std::vector<std::string> patch_errors(const User& me, const ProfilePatch& patch) {
  auto r = apply_profile_patch(me, patch);
  if (r) return {};
  EXPECT_EQ(r.error().status, 422);
  EXPECT_EQ(r.error().code, "validation_failed");
  return codes(r.error().fields);
}

TEST(ApplyProfilePatch, AbsentFieldsAreKeptNullClears) {
  User me = full_user();
  me.login = "alice";
  me.full_name = "Alice";
  ProfilePatch patch;
  patch.full_name = std::optional<std::string>();  // null
  auto r = apply_profile_patch(me, patch);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->full_name, std::nullopt);
  EXPECT_EQ(r->email, "alice@example.com");
  EXPECT_EQ(r->login, "alice");
  EXPECT_TRUE(r->email_verified);  // the email did not change
}

TEST(ApplyProfilePatch, NewEmailIsNotVerifiedButACaseChangeKeepsVerification) {
  ProfilePatch patch;
  patch.email = std::optional<std::string>("alice@new.example");
  auto changed = apply_profile_patch(full_user(), patch);
  ASSERT_TRUE(changed);
  EXPECT_FALSE(changed->email_verified);
  patch.email = std::optional<std::string>("ALICE@Example.com");
  auto recased = apply_profile_patch(full_user(), patch);
  ASSERT_TRUE(recased);
  EXPECT_TRUE(recased->email_verified);
  EXPECT_EQ(recased->email, "ALICE@Example.com");
}

TEST(ApplyProfilePatch, ValidatesChangedIdentifiersAndText) {
  ProfilePatch patch;
  patch.email = std::optional<std::string>("nope");
  patch.login = std::optional<std::string>("x");
  patch.phone = std::optional<std::string>("12345");
  patch.full_name = std::optional<std::string>(std::string(257, 'n'));
  EXPECT_THAT(patch_errors(full_user(), patch),
              UnorderedElementsAre("email:format", "login:format", "phone:format", "full_name:too_long"));
}

TEST(ApplyProfilePatch, FullUserKeepsAnIdentifierAndUsesThePasswordEndpoint) {
  ProfilePatch clear;
  clear.email = std::optional<std::string>();
  EXPECT_THAT(patch_errors(full_user(), clear), ElementsAre("email:required"));
  ProfilePatch password;
  password.password = "a new password";
  EXPECT_THAT(patch_errors(full_user(), password), ElementsAre("password:not_allowed"));
}

TEST(ApplyProfilePatch, GuestNeedsBothAnIdentifierAndAPassword) {
  ProfilePatch email_only;
  email_only.email = std::optional<std::string>("g@example.com");
  EXPECT_THAT(patch_errors(guest_user(), email_only), ElementsAre("password:required"));
  ProfilePatch password_only;
  password_only.password = "guest password";
  EXPECT_THAT(patch_errors(guest_user(), password_only), ElementsAre("email:required"));
  ProfilePatch short_password;
  short_password.login = std::optional<std::string>("guest1");
  short_password.password = "short";
  EXPECT_THAT(patch_errors(guest_user(), short_password), ElementsAre("password:too_short"));
}

TEST(ApplyProfilePatch, GuestWithIdentifierAndPasswordBecomesAFullUser) {
  ProfilePatch patch;
  patch.phone = std::optional<std::string>("+14155550123");
  patch.password = "guest password";
  auto r = apply_profile_patch(guest_user(), patch);
  ASSERT_TRUE(r) << r.error().code;
  EXPECT_FALSE(r->is_guest);
  EXPECT_TRUE(r->has_password);
  EXPECT_EQ(r->phone, "+14155550123");
  EXPECT_EQ(r->id, "g1");
}

TEST(ApplyProfilePatch, GuestMayChangeOtherFieldsAndStayAGuest) {
  ProfilePatch patch;
  patch.full_name = std::optional<std::string>("Fox");
  auto r = apply_profile_patch(guest_user(), patch);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->is_guest);
  EXPECT_FALSE(r->has_password);
}

TEST(ApplyProfilePatch, DataIsMergedNullEmptiesItOtherTypesAreRefused) {
  User me = full_user();
  me.data = boost::json::parse(R"({"a":1,"b":{"c":2}})").as_object();
  ProfilePatch merge;
  merge.data = boost::json::parse(R"({"b":{"c":null,"d":3}})");
  auto merged = apply_profile_patch(me, merge);
  ASSERT_TRUE(merged);
  EXPECT_EQ(boost::json::value(merged->data), boost::json::parse(R"({"a":1,"b":{"d":3}})"));

  ProfilePatch empty;
  empty.data = boost::json::value(nullptr);
  auto emptied = apply_profile_patch(me, empty);
  ASSERT_TRUE(emptied);
  EXPECT_TRUE(emptied->data.empty());

  ProfilePatch wrong;
  wrong.data = boost::json::parse("[1,2]");
  EXPECT_THAT(patch_errors(me, wrong), ElementsAre("data:type"));

  ProfilePatch huge;
  boost::json::object big;
  big["blob"] = repeat("x", 70 * 1024);
  huge.data = boost::json::value(big);
  EXPECT_THAT(patch_errors(me, huge), ElementsAre("data:too_large"));
}

TEST(ApplyProfilePatch, NamesEveryOffendingFieldAtOnce) {
  ProfilePatch patch;
  patch.email = std::optional<std::string>("bad");
  patch.password = "x";
  patch.data = boost::json::parse("3");
  EXPECT_THAT(patch_errors(full_user(), patch),
              UnorderedElementsAre("email:format", "password:not_allowed", "data:type"));
}

// RFC 7386 appendix A, the cases whose target and patch are objects.
struct MergeCase {
  const char* target;
  const char* patch;
  const char* result;
};

class MergePatchRfc7386 : public ::testing::TestWithParam<MergeCase> {};

TEST_P(MergePatchRfc7386, Example) {
  const MergeCase& c = GetParam();
  boost::json::object target = boost::json::parse(c.target).as_object();
  merge_patch(target, boost::json::parse(c.patch).as_object());
  EXPECT_EQ(boost::json::value(target), boost::json::parse(c.result))
      << c.target << " + " << c.patch << " gave " << boost::json::serialize(target);
}

INSTANTIATE_TEST_SUITE_P(
    AppendixA, MergePatchRfc7386,
    ::testing::Values(MergeCase{R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
                      MergeCase{R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
                      MergeCase{R"({"a":"b"})", R"({"a":null})", R"({})"},
                      MergeCase{R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
                      MergeCase{R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
                      MergeCase{R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
                      MergeCase{R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
                      MergeCase{R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
                      MergeCase{R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
                      MergeCase{R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
                      // Section 3's example.
                      MergeCase{R"({"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},
                                   "tags":["example","sample"],"content":"This will be unchanged"})",
                                R"({"title":"Hello!","phoneNumber":"+01-555-1234","author":{"familyName":null},
                                   "tags":["example"]})",
                                R"({"title":"Hello!","author":{"givenName":"John"},"tags":["example"],
                                   "content":"This will be unchanged","phoneNumber":"+01-555-1234"})"},
                      // Objects replace scalars, nulls of absent keys are no-ops, empty patches change nothing.
                      MergeCase{R"({"a":1})", R"({"a":{"b":2}})", R"({"a":{"b":2}})"},
                      MergeCase{R"({"a":1})", R"({"z":null})", R"({"a":1})"},
                      MergeCase{R"({"a":{"b":1}})", R"({})", R"({"a":{"b":1}})"},
                      MergeCase{R"({"a":{"b":{"c":1,"d":2}}})", R"({"a":{"b":{"c":null,"e":3}}})",
                                R"({"a":{"b":{"d":2,"e":3}}})"}));

}  // namespace
}  // namespace tessera::identity
