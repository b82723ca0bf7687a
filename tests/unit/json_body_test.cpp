// api/json_body: strict request-body parsing and typed field access that reports every problem.
#include "api/json_body.hpp"

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace tessera::api {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;
namespace beast_http = http::beast_http;

http::Request post(std::string body, std::optional<std::string> content_type = "application/json") {
  http::Request req(beast_http::verb::post, "/v1/auth/signup", 11);
  if (content_type) req.set(beast_http::field::content_type, *content_type);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

std::vector<std::string> fields_of(const Error& e) {
  std::vector<std::string> out;
  for (auto& f : e.fields) out.push_back(f.field + ":" + f.code);
  return out;
}

boost::json::object obj(const char* json) { return boost::json::parse(json).as_object(); }

TEST(ParseJsonObject, EmptyBodyIsAnEmptyObject) {
  auto empty = parse_json_object(post("", std::nullopt));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  auto blank = parse_json_object(post(" \r\n\t ", "text/plain"));  // no content to type-check
  ASSERT_TRUE(blank);
  EXPECT_TRUE(blank->empty());
}

TEST(ParseJsonObject, ReadsAnObject) {
  auto body = parse_json_object(post(R"({"email":"a@example.com","data":{"n":1}})"));
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_EQ(body->at("email").as_string(), "a@example.com");
  EXPECT_EQ(body->at("data").as_object().at("n").as_int64(), 1);
}

TEST(ParseJsonObject, AcceptsJsonMediaTypeVariants) {
  for (const char* ct : {"application/json", "application/json; charset=utf-8", "Application/JSON",
                         "application/json ;charset=UTF-8", "application/merge-patch+json"}) {
    auto body = parse_json_object(post("{}", ct));
    EXPECT_TRUE(body) << ct;
  }
}

TEST(ParseJsonObject, WrongOrMissingContentTypeIs415) {
  for (std::optional<std::string> ct : {std::optional<std::string>("text/plain"),
                                        std::optional<std::string>("application/x-www-form-urlencoded"),
                                        std::optional<std::string>("application/jsonx"),
                                        std::optional<std::string>("text/json"),
                                        std::optional<std::string>()}) {
    auto body = parse_json_object(post(R"({"a":1})", ct));
    ASSERT_FALSE(body) << ct.value_or("(none)");
    EXPECT_EQ(body.error().status, 415) << ct.value_or("(none)");
    EXPECT_EQ(body.error().code, "unsupported_media_type");
  }
}

TEST(ParseJsonObject, MalformedJsonIs400) {
  for (const char* text : {"{", "{\"a\":}", "{'a':1}", "{\"a\":1,}", "{} {}", "{}x", "{\"a\":\"\xff\"}",
                           "nul"}) {
    auto body = parse_json_object(post(text));
    ASSERT_FALSE(body) << text;
    EXPECT_EQ(body.error().status, 400) << text;
    EXPECT_EQ(body.error().code, "malformed_json") << text;
  }
}

TEST(ParseJsonObject, TooDeepIs400) {
  std::string deep = std::string(100, '[') + std::string(100, ']');
  auto body = parse_json_object(post("{\"a\":" + deep + "}"));
  ASSERT_FALSE(body);
  EXPECT_EQ(body.error().status, 400);
}

TEST(ParseJsonObject, NonObjectIs400) {
  for (const char* text : {"[]", "[1,2]", "\"text\"", "42", "null", "true"}) {
    auto body = parse_json_object(post(text));
    ASSERT_FALSE(body) << text;
    EXPECT_EQ(body.error().status, 400) << text;
    EXPECT_EQ(body.error().code, "malformed_json") << text;
  }
}

TEST(JsonFields, ReadsTypedFields) {
  auto o = obj(R"({"email":"a@example.com","tags":["x","y"],"data":{"k":true},"any":[1]})");
  JsonFields f(o);
  EXPECT_EQ(f.string("email"), "a@example.com");
  EXPECT_EQ(f.string_array("tags"), (std::vector<std::string>{"x", "y"}));
  auto data = f.object("data");
  ASSERT_TRUE(data);
  EXPECT_TRUE(data->at("k").as_bool());
  auto any = f.any("any");
  ASSERT_TRUE(any);
  EXPECT_TRUE(any->is_array());
  EXPECT_EQ(f.string("absent"), std::nullopt);
  EXPECT_TRUE(f.finish());
}

TEST(JsonFields, UnknownFieldsAre400NamingEachOne) {
  auto o = obj(R"({"email":"a@example.com","colour":"blue","size":3})");
  JsonFields f(o);
  f.string("email");
  auto status = f.finish();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().status, 400);
  EXPECT_EQ(status.error().code, "unknown_field");
  EXPECT_THAT(fields_of(status.error()), UnorderedElementsAre("colour:unknown_field", "size:unknown_field"));
}

TEST(JsonFields, UnknownFieldsAreReportedBeforeTypeErrors) {
  auto o = obj(R"({"email":5,"extra":1})");
  JsonFields f(o);
  f.string("email");
  auto status = f.finish();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, "unknown_field");
}

TEST(JsonFields, AllowedFieldsAreNotUnknown) {
  auto o = obj(R"({"email":"a@example.com","project":"main"})");
  JsonFields f(o);
  f.string("email");
  f.allow("project");
  EXPECT_TRUE(f.finish());
}

TEST(JsonFields, TypeErrorsAre422NamingEveryField) {
  auto o = obj(R"({"email":5,"tags":"vip","labels":["a",2],"data":[],"full_name":{"x":1}})");
  JsonFields f(o);
  EXPECT_EQ(f.string("email"), std::nullopt);
  EXPECT_EQ(f.string_array("tags"), std::nullopt);
  EXPECT_EQ(f.string_array("labels"), std::nullopt);
  EXPECT_EQ(f.object("data"), std::nullopt);
  EXPECT_EQ(f.nullable_string("full_name"), std::nullopt);
  auto status = f.finish();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().status, 422);
  EXPECT_EQ(status.error().code, "validation_failed");
  EXPECT_THAT(fields_of(status.error()),
              UnorderedElementsAre("email:type", "tags:type", "labels:type", "data:type", "full_name:type"));
}

TEST(JsonFields, NullableStringIsTriState) {
  auto o = obj(R"({"email":null,"login":"bob"})");
  JsonFields f(o);
  auto absent = f.nullable_string("phone");
  auto null = f.nullable_string("email");
  auto value = f.nullable_string("login");
  EXPECT_FALSE(absent.has_value());
  ASSERT_TRUE(null.has_value());
  EXPECT_FALSE(null->has_value());
  ASSERT_TRUE(value.has_value());
  ASSERT_TRUE(value->has_value());
  EXPECT_EQ(**value, "bob");
  EXPECT_TRUE(f.finish());
}

TEST(JsonFields, NullIsNotAStringForPlainFields) {
  auto o = obj(R"({"password":null})");
  JsonFields f(o);
  EXPECT_EQ(f.string("password"), std::nullopt);
  auto status = f.finish();
  ASSERT_FALSE(status);
  EXPECT_THAT(fields_of(status.error()), ElementsAre("password:type"));
}

TEST(JsonFields, RequireAddsMissingFields) {
  auto o = obj(R"({"email":"a@example.com"})");
  JsonFields f(o);
  auto email = f.string("email");
  auto password = f.string("password");
  f.require("email", email.has_value());
  f.require("password", password.has_value());
  auto status = f.finish();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().status, 422);
  EXPECT_THAT(fields_of(status.error()), ElementsAre("password:required"));
}

TEST(JsonFields, RequireDoesNotDoubleReportATypeError) {
  auto o = obj(R"({"password":12345678})");
  JsonFields f(o);
  auto password = f.string("password");
  f.require("password", password.has_value());
  auto status = f.finish();
  ASSERT_FALSE(status);
  EXPECT_THAT(fields_of(status.error()), ElementsAre("password:type"));
}

TEST(JsonFields, FinishAddsTheDomainRuleErrors) {
  auto o = obj(R"({"email":"nope","password":"short"})");
  JsonFields f(o);
  f.string("email");
  f.string("password");
  auto status = f.finish({{"email", "format", "must be a valid email address"},
                          {"password", "too_short", "must be at least 8 characters"}});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().status, 422);
  EXPECT_EQ(status.error().code, "validation_failed");
  EXPECT_THAT(fields_of(status.error()), ElementsAre("email:format", "password:too_short"));
}

TEST(JsonFields, OneEntryPerFieldTypeErrorsFirst) {
  auto o = obj(R"({"email":5,"password":"short"})");
  JsonFields f(o);
  f.string("email");
  f.string("password");
  f.require("login", false);
  // The domain also complains about the email it never received; the type error already names it.
  auto status = f.finish({{"email", "required", "one of email, login or phone is required"},
                          {"password", "too_short", "must be at least 8 characters"}});
  ASSERT_FALSE(status);
  EXPECT_THAT(fields_of(status.error()), ElementsAre("email:type", "login:required", "password:too_short"));
}

TEST(JsonFields, UnknownFieldsWinOverRuleErrors) {
  auto o = obj(R"({"email":"nope","extra":true})");
  JsonFields f(o);
  f.string("email");
  auto status = f.finish({{"email", "format", "must be a valid email address"}});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, "unknown_field");
  EXPECT_THAT(fields_of(status.error()), ElementsAre("extra:unknown_field"));
}

TEST(JsonFields, FinishWithoutErrorsSucceeds) {
  auto o = obj(R"({"email":"a@example.com"})");
  JsonFields f(o);
  f.string("email");
  EXPECT_TRUE(f.finish({}));
}

}  // namespace
}  // namespace tessera::api
