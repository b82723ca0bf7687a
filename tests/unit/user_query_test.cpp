// identity/user_query: the filter language parser (query string and JSON), sort and cursors.
#include "identity/user_query.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/clock.hpp"
#include "crypto/random.hpp"

namespace tessera::identity {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::UnorderedElementsAre;

int64_t micros_of(const char* rfc3339) {
  Timestamp t;
  EXPECT_TRUE(parse_rfc3339(rfc3339, t)) << rfc3339;
  return to_micros(t);
}

UserQuery parse_ok(const std::string& qs) {
  auto q = parse_user_query(qs);
  EXPECT_TRUE(q) << qs << " -> " << (q ? "" : q.error().code + ": " + (q.error().fields.empty() ? "" : q.error().fields[0].code + " " + q.error().fields[0].detail));
  return q ? *q : UserQuery{};
}

Condition only_condition(const std::string& qs) {
  UserQuery q = parse_ok(qs);
  EXPECT_EQ(q.where.size(), 1u) << qs;
  return q.where.empty() ? Condition{} : q.where[0];
}

Error parse_error(const std::string& qs) {
  auto q = parse_user_query(qs);
  EXPECT_FALSE(q) << qs << " parsed";
  return q ? Error{} : q.error();
}

// The single field error of an invalid_filter answer.
FieldError filter_error(const std::string& qs) {
  Error e = parse_error(qs);
  EXPECT_EQ(e.status, 400) << qs;
  EXPECT_EQ(e.code, "invalid_filter") << qs;
  EXPECT_EQ(e.fields.size(), 1u) << qs;
  return e.fields.empty() ? FieldError{} : e.fields[0];
}

FieldError json_filter_error(const char* where) {
  auto r = parse_user_filter(json::parse(where).as_object());
  EXPECT_FALSE(r) << where;
  if (r) return {};
  EXPECT_EQ(r.error().code, "invalid_filter") << where;
  EXPECT_EQ(r.error().status, 400);
  EXPECT_EQ(r.error().fields.size(), 1u) << where;
  return r.error().fields.empty() ? FieldError{} : r.error().fields[0];
}

std::vector<Condition> json_ok(const char* where) {
  auto r = parse_user_filter(json::parse(where).as_object());
  EXPECT_TRUE(r) << where << " -> " << (r ? "" : r.error().fields.empty() ? r.error().code : r.error().fields[0].code + " " + r.error().fields[0].detail);
  return r ? *r : std::vector<Condition>{};
}

// ---- query string: fields, operators, values ----

TEST(UserQueryParse, EmptyQueryIsEveryUserById) {
  for (const char* qs : {"", "&", "&&"}) {
    UserQuery q = parse_ok(qs);
    EXPECT_TRUE(q.where.empty());
    EXPECT_TRUE(q.sort.empty());
    EXPECT_EQ(q.limit, 50u);
    EXPECT_FALSE(q.after);
  }
}

TEST(UserQueryParse, NoOperatorMeansEq) {
  Condition c = only_condition("email=Alice@Example.com");
  EXPECT_EQ(c.field, "email");
  EXPECT_EQ(c.op, FilterOp::eq);
  EXPECT_EQ(c.value, json::value("Alice@Example.com"));  // folding is the store's business
}

TEST(UserQueryParse, EveryOperatorOnTheFieldsItFits) {
  struct Case {
    const char* qs;
    const char* field;
    FilterOp op;
    const char* value;  // JSON
  };
  const Case cases[] = {
      {"id[eq]=abc", "id", FilterOp::eq, R"("abc")"},
      {"email[ne]=a@b.co", "email", FilterOp::ne, R"("a@b.co")"},
      {"login[gt]=m", "login", FilterOp::gt, R"("m")"},
      {"phone[gte]=%2B1", "phone", FilterOp::gte, R"("+1")"},
      {"full_name[lt]=Zed", "full_name", FilterOp::lt, R"("Zed")"},
      {"external_id[lte]=x9", "external_id", FilterOp::lte, R"("x9")"},
      {"email[in]=a@b.co,c@d.co", "email", FilterOp::in, R"(["a@b.co","c@d.co"])"},
      {"login[nin]=a,b,c", "login", FilterOp::nin, R"(["a","b","c"])"},
      {"full_name[prefix]=Al", "full_name", FilterOp::prefix, R"("Al")"},
      {"avatar_url[prefix]=https", "avatar_url", FilterOp::prefix, R"("https")"},
      {"tags[contains]=vip", "tags", FilterOp::contains, R"("vip")"},
      {"tags[exists]=false", "tags", FilterOp::exists, "false"},
      {"phone[exists]=true", "phone", FilterOp::exists, "true"},
      {"active=true", "active", FilterOp::eq, "true"},
      {"email_verified[ne]=false", "email_verified", FilterOp::ne, "false"},
      {"is_guest[eq]=true", "is_guest", FilterOp::eq, "true"},
      {"last_request_at[exists]=false", "last_request_at", FilterOp::exists, "false"},
      {"data.plan[prefix]=pro", "data.plan", FilterOp::prefix, R"("pro")"},
      {"data.age[exists]=true", "data.age", FilterOp::exists, "true"},
      {"data.age[in]=1,2.5,x", "data.age", FilterOp::in, R"([1,2.5,"x"])"},
      {"data.age[nin]=true,null", "data.age", FilterOp::nin, R"([true,null])"},
  };
  for (const Case& c : cases) {
    Condition got = only_condition(c.qs);
    EXPECT_EQ(got.field, c.field) << c.qs;
    EXPECT_EQ(got.op, c.op) << c.qs;
    EXPECT_EQ(got.value, json::parse(c.value)) << c.qs << " gave " << json::serialize(got.value);
  }
}

TEST(UserQueryParse, TimesAreRfc3339AndBecomeMicroseconds) {
  Condition c = only_condition("created_at[gt]=2026-11-01T00:00:00Z");
  EXPECT_EQ(c.op, FilterOp::gt);
  EXPECT_EQ(c.value, json::value(micros_of("2026-11-01T00:00:00Z")));
  c = only_condition("updated_at[lte]=2026-11-01T02:00:00.5%2B02:00");  // an offset; '+' encoded
  EXPECT_EQ(c.value, json::value(micros_of("2026-11-01T00:00:00.5Z")));
  c = only_condition("last_request_at[in]=2026-11-01T00:00:00Z,2026-11-02T00:00:00Z");
  EXPECT_EQ(c.value, (json::array{micros_of("2026-11-01T00:00:00Z"), micros_of("2026-11-02T00:00:00Z")}));

  for (const char* qs : {"created_at=yesterday", "created_at[gt]=2026-13-01T00:00:00Z", "updated_at=1700000000",
                         "last_request_at[in]=2026-11-01T00:00:00Z,soon", "created_at="}) {
    FieldError e = filter_error(qs);
    EXPECT_EQ(e.code, "type") << qs;
    EXPECT_THAT(e.detail, ::testing::HasSubstr("RFC 3339")) << qs;
  }
}

TEST(UserQueryParse, BooleansAreTrueOrFalse) {
  EXPECT_EQ(only_condition("active=false").value, json::value(false));
  for (const char* qs : {"active=maybe", "active=1", "active=TRUE", "is_guest=", "email_verified[ne]=yes"}) {
    FieldError e = filter_error(qs);
    EXPECT_EQ(e.code, "type") << qs;
  }
  for (const char* qs : {"phone[exists]=1", "tags[exists]=yes", "data.a[exists]=maybe"})
    EXPECT_EQ(filter_error(qs).code, "type") << qs;
}

TEST(UserQueryParse, DataValuesAreTypedAsJsonLiterals) {
  struct Case {
    const char* text;
    const char* value;
  };
  const Case cases[] = {
      {"18", "18"},
      {"-3", "-3"},
      {"18.5", "18.5"},
      {"1e3", "1000.0"},
      {"true", "true"},
      {"false", "false"},
      {"null", "null"},
      {"%2218%22", R"("18")"},  // a quoted JSON string stays a string
      {"%22a%2Cb%22", R"("a,b")"},
      {"abc", R"("abc")"},
      {"012", R"("012")"},        // not a JSON number
      {"%2012", R"(" 12")"},      // nor is one with a space
      {"1e999", R"("1e999")"},    // not a finite number
      {"True", R"("True")"},
      {"", R"("")"},
      {"%22unterminated", R"("\"unterminated")"},
  };
  for (const Case& c : cases) {
    std::string qs = std::string("data.x=") + c.text;
    Condition got = only_condition(qs);
    EXPECT_EQ(got.value, json::parse(c.value)) << qs << " gave " << json::serialize(got.value);
    EXPECT_EQ(got.value.kind(), json::parse(c.value).kind()) << qs;
  }
  // A prefix is always a string.
  EXPECT_EQ(only_condition("data.code[prefix]=12").value, json::value("12"));
  // Ordering compares numbers or strings only.
  for (const char* qs : {"data.x[gt]=true", "data.x[lte]=null"}) EXPECT_EQ(filter_error(qs).code, "type") << qs;
  EXPECT_EQ(only_condition("data.x[gt]=abc").value, json::value("abc"));
}

TEST(UserQueryParse, DataPathsAreDottedSegmentsOfSafeCharacters) {
  EXPECT_EQ(only_condition("data.profile.age-in_years.2=1").field, "data.profile.age-in_years.2");
  EXPECT_EQ(only_condition("data." + std::string(64, 'k') + "=1").field.size(), 69u);
  std::string deep = "data";
  for (int i = 0; i < 16; ++i) deep += ".k";
  EXPECT_EQ(only_condition(deep + "=1").field, deep);

  for (std::string qs : std::vector<std::string>{"data.a%27b=1", "data.a%22b=1", "data.=1", "data..a=1", "data.a.=1", "data.a%20b=1",
                         "data.a$b=1", "data.a%5Db=1", "data.%C3%A5=1", "data." + std::string(65, 'k') + "=1",
                         deep + ".k=1"}) {
    FieldError e = filter_error(qs);
    EXPECT_EQ(e.code, "format") << qs;
    EXPECT_THAT(e.field, ::testing::StartsWith("data.")) << qs;
  }
  EXPECT_EQ(filter_error("data=1").code, "unknown_field");
  EXPECT_EQ(filter_error("data[exists]=true").code, "unknown_field");
}

TEST(UserQueryParse, ListsTakeOneToAHundredValues) {
  std::string values;
  for (int i = 0; i < 100; ++i) values.append(i ? "," : "").append(std::to_string(i));
  EXPECT_EQ(only_condition("data.n[in]=" + values).value.as_array().size(), 100u);
  FieldError e = filter_error("data.n[nin]=" + values + ",100");
  EXPECT_EQ(e.code, "too_many");
  EXPECT_EQ(e.field, "data.n");
  // Commas split; an empty item is an empty string.
  EXPECT_EQ(only_condition("login[in]=a,,b").value, (json::array{"a", "", "b"}));
}

TEST(UserQueryParse, UnknownFieldsAndOperators) {
  FieldError e = filter_error("nickname=x");
  EXPECT_EQ(e.field, "nickname");
  EXPECT_EQ(e.code, "unknown_field");
  for (const char* qs : {"password_hash=x", "project_id=x", "Email=x", "email%20=x", "=x"})
    EXPECT_EQ(filter_error(qs).code, "unknown_field") << qs;

  e = filter_error("email[like]=x");
  EXPECT_EQ(e.field, "email");
  EXPECT_EQ(e.code, "unknown_operator");
  EXPECT_THAT(e.detail, ::testing::HasSubstr("like"));
  for (const char* qs : {"email[]=x", "email[eq=x", "email[eq]x=x", "email[eq][ne]=x", "email[EQ]=x"})
    EXPECT_EQ(filter_error(qs).code, "unknown_operator") << qs;
}

TEST(UserQueryParse, OperatorsThatDoNotFitTheField) {
  for (const char* qs : {"email[contains]=x", "data.tags[contains]=x", "active[prefix]=t", "created_at[prefix]=2026",
                         "tags[gt]=a", "tags[eq]=vip", "tags[in]=a,b", "active[gt]=false", "is_guest[in]=true",
                         "id[exists]=true", "active[exists]=true", "created_at[exists]=true"}) {
    FieldError e = filter_error(qs);
    EXPECT_EQ(e.code, "operator_not_allowed") << qs;
    EXPECT_THAT(e.detail, ::testing::HasSubstr("allowed:")) << qs;
  }
}

TEST(UserQueryParse, BracketsMayBeEncodedOrNot) {
  Condition encoded = only_condition("data.age%5Bgte%5D=18");
  Condition raw = only_condition("data.age[gte]=18");
  EXPECT_EQ(encoded.field, "data.age");
  EXPECT_EQ(encoded.op, FilterOp::gte);
  EXPECT_EQ(encoded.value, json::value(18));
  EXPECT_EQ(raw.field, encoded.field);
  EXPECT_EQ(raw.op, encoded.op);
  EXPECT_EQ(raw.value, encoded.value);
}

TEST(UserQueryParse, PercentAndPlusDecoding) {
  EXPECT_EQ(only_condition("full_name=Ann+Lee").value, json::value("Ann Lee"));
  EXPECT_EQ(only_condition("full_name=Ann%20Lee").value, json::value("Ann Lee"));
  EXPECT_EQ(only_condition("phone=%2B14155550123").value, json::value("+14155550123"));
  EXPECT_EQ(only_condition("full_name=%C3%85ngstr%C3%B6m").value, json::value("Ångström"));
  Error e = parse_error("full_name=%zz");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.code, "malformed_request");
}

TEST(UserQueryParse, TheExampleOfTheApi) {
  UserQuery q = parse_ok(
      "active=true&last_request_at[gt]=2026-11-01T00:00:00Z&tags[contains]=vip&data.age[gte]=18&sort=-last_request_at&"
      "limit=100");
  ASSERT_EQ(q.where.size(), 4u);
  EXPECT_EQ(q.where[0].field, "active");
  EXPECT_EQ(q.where[1].value, json::value(micros_of("2026-11-01T00:00:00Z")));
  EXPECT_EQ(q.where[2].op, FilterOp::contains);
  EXPECT_EQ(q.where[3].value, json::value(18));
  ASSERT_EQ(q.sort.size(), 1u);
  EXPECT_EQ(q.sort[0].field, "last_request_at");
  EXPECT_TRUE(q.sort[0].descending);
  EXPECT_EQ(q.limit, 100u);
}

TEST(UserQueryParse, RepeatedConditionsAreAllKept) {
  UserQuery q = parse_ok("tags[contains]=a&tags[contains]=b&created_at[gte]=2026-01-01T00:00:00Z&created_at[lt]=2027-01-01T00:00:00Z");
  EXPECT_EQ(q.where.size(), 4u);
}

TEST(UserQueryParse, EveryOffendingFieldIsNamed) {
  Error e = parse_error("nickname=x&active=maybe&tags[gt]=a&email[zz]=x&data.a%27=1&login=ok&sort=tags");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.code, "invalid_filter");
  EXPECT_THAT(e.fields, ElementsAre(Field(&FieldError::field, "nickname"), Field(&FieldError::field, "active"),
                                    Field(&FieldError::field, "tags"), Field(&FieldError::field, "email"),
                                    Field(&FieldError::field, "data.a'"), Field(&FieldError::field, "sort")));
  EXPECT_THAT(e.fields, ElementsAre(Field(&FieldError::code, "unknown_field"), Field(&FieldError::code, "type"),
                                    Field(&FieldError::code, "operator_not_allowed"),
                                    Field(&FieldError::code, "unknown_operator"), Field(&FieldError::code, "format"),
                                    Field(&FieldError::code, "not_sortable")));
}

TEST(UserQueryParse, AtMostSixtyFourConditions) {
  std::string qs;
  for (int i = 0; i < 64; ++i) qs += "data.k" + std::to_string(i) + "=1&";
  EXPECT_EQ(parse_ok(qs).where.size(), 64u);
  FieldError e = filter_error(qs + "data.more=1&data.andmore=2");
  EXPECT_EQ(e.code, "too_many");
}

TEST(UserQueryParse, InjectionAttemptsInNamesAreRejected) {
  for (const char* qs : {"email%27%20OR%201%3D1%20--=x", "email;DROP%20TABLE%20users=x", "data.a%22)%20OR%201=1--=x",
                         "data.a'b=1", "email[eq%27]=x"}) {
    Error e = parse_error(qs);
    EXPECT_EQ(e.code, "invalid_filter") << qs;
  }
  // Values are data: they parse, and the store binds them.
  EXPECT_EQ(only_condition("email=%27%20OR%201%3D1%20--").value, json::value("' OR 1=1 --"));
}

// ---- sort ----

TEST(UserQuerySort, KeysAndDirections) {
  UserQuery q = parse_ok("sort=-created_at,email,data.profile.age,-id");
  ASSERT_EQ(q.sort.size(), 4u);
  EXPECT_EQ(q.sort[0].field, "created_at");
  EXPECT_TRUE(q.sort[0].descending);
  EXPECT_EQ(q.sort[1].field, "email");
  EXPECT_FALSE(q.sort[1].descending);
  EXPECT_EQ(q.sort[2].field, "data.profile.age");
  EXPECT_EQ(q.sort[3].field, "id");
  EXPECT_TRUE(q.sort[3].descending);
  EXPECT_EQ(sort_spec(q.sort), "-created_at,email,data.profile.age,-id");

  for (const char* field : {"id", "email", "login", "phone", "full_name", "external_id", "created_at", "updated_at",
                            "last_request_at", "active", "data.x"})
    EXPECT_EQ(parse_ok(std::string("sort=") + field).sort.size(), 1u) << field;
}

TEST(UserQuerySort, BadSorts) {
  struct Case {
    const char* qs;
    const char* code;
  };
  const Case cases[] = {
      {"sort=tags", "not_sortable"},
      {"sort=avatar_url", "not_sortable"},
      {"sort=is_guest", "not_sortable"},
      {"sort=email_verified", "not_sortable"},
      {"sort=nickname", "unknown_field"},
      {"sort=data", "unknown_field"},
      {"sort=data.a%27b", "unknown_field"},
      {"sort=email;DROP%20TABLE%20users", "unknown_field"},
      {"sort=%2Bemail", "unknown_field"},
      {"sort=email,-email", "duplicate"},
      {"sort=", "format"},
      {"sort=email,,login", "format"},
      {"sort=-", "format"},
      {"sort=email&sort=login", "duplicate"},
      {"sort=id,email,login,phone,full_name,external_id,created_at,updated_at,last_request_at", "too_many"},
  };
  for (const Case& c : cases) {
    Error e = parse_error(c.qs);
    EXPECT_EQ(e.code, "invalid_filter") << c.qs;
    ASSERT_FALSE(e.fields.empty()) << c.qs;
    EXPECT_EQ(e.fields.back().field, "sort") << c.qs;
    EXPECT_EQ(e.fields.back().code, c.code) << c.qs;
  }
}

TEST(UserQuerySort, AloneForJsonCallers) {
  auto sort = parse_user_sort("-last_request_at,data.a");
  ASSERT_TRUE(sort);
  EXPECT_EQ(sort_spec(*sort), "-last_request_at,data.a");
  auto bad = parse_user_sort("tags,nickname");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "invalid_filter");
  EXPECT_THAT(bad.error().fields, ElementsAre(Field(&FieldError::code, "not_sortable"), Field(&FieldError::code, "unknown_field")));
  EXPECT_FALSE(parse_user_sort(""));
}

// ---- limit ----

TEST(UserQueryLimit, OneToAThousand) {
  EXPECT_EQ(parse_ok("limit=1").limit, 1u);
  EXPECT_EQ(parse_ok("limit=1000").limit, 1000u);
  for (const char* qs : {"limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=", "limit=10x", "limit=1e2",
                         "limit=99999999999999999999999"}) {
    Error e = parse_error(qs);
    EXPECT_EQ(e.status, 422) << qs;
    EXPECT_EQ(e.code, "validation_failed") << qs;
    ASSERT_EQ(e.fields.size(), 1u) << qs;
    EXPECT_EQ(e.fields[0].field, "limit");
    EXPECT_EQ(e.fields[0].code, "range");
  }
}

TEST(UserQueryLimit, FilterErrorsComeFirst) {
  EXPECT_EQ(parse_error("limit=0&nickname=x").code, "invalid_filter");
  EXPECT_EQ(parse_error("limit=0&cursor=!!!").code, "invalid_cursor");
}

// ---- cursors ----

Cursor sample_cursor(const std::vector<SortKey>& sort) {
  Cursor c;
  c.sort = sort_spec(sort);
  c.id = "0190a6f2-0000-7000-8000-000000000001";
  for (const SortKey& k : sort) {
    if (k.field == "created_at" || k.field == "active") c.keys.emplace_back(int64_t{1780000000000000});
    else if (k.field == "last_request_at") c.keys.emplace_back(nullptr);
    else if (k.field.starts_with("data.")) c.keys.emplace_back(2.5);
    else c.keys.emplace_back("alice@example.com");
  }
  return c;
}

TEST(UserQueryCursor, RoundTripsThroughTheQueryString) {
  std::vector<SortKey> sort = {{"created_at", true}, {"email", false}, {"last_request_at", true}, {"data.score", false}};
  Cursor c = sample_cursor(sort);
  std::string token = encode_cursor(c);
  EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
  UserQuery q = parse_ok("sort=-created_at,email,-last_request_at,data.score&cursor=" + token);
  ASSERT_TRUE(q.after);
  EXPECT_EQ(q.after->id, c.id);
  EXPECT_EQ(q.after->keys, c.keys);
  EXPECT_EQ(q.after->keys[3].kind(), json::kind::double_);
  EXPECT_EQ(q.after->sort, "-created_at,email,-last_request_at,data.score");

  Cursor by_id;
  by_id.id = "0190a6f2-0000-7000-8000-000000000002";
  q = parse_ok("cursor=" + encode_cursor(by_id));
  ASSERT_TRUE(q.after);
  EXPECT_TRUE(q.after->keys.empty());
  EXPECT_EQ(q.after->id, by_id.id);
}

TEST(UserQueryCursor, AnEmptyCursorIsTheFirstPage) { EXPECT_FALSE(parse_ok("cursor=").after); }

TEST(UserQueryCursor, TamperedCursorsAreRefused) {
  std::vector<SortKey> sort = {{"created_at", true}, {"email", false}};
  std::string good = encode_cursor(sample_cursor(sort));
  auto b64 = [](const std::string& s) { return crypto::base64url_encode(s); };
  const std::string id = R"("i":"0190a6f2-0000-7000-8000-000000000001")";
  std::vector<std::string> bad = {
      "!!!",
      good + "A",
      good.substr(0, good.size() - 3),
      good + "=",
      b64("not json"),
      b64("[1,2]"),
      b64(R"({"s":"-created_at,email","k":[1780000000000000,"a"]})"),                               // no id
      b64(R"({"s":"-created_at,email","k":[1780000000000000],)" + id + "}"),                         // a key short
      b64(R"({"s":"-created_at,email","k":[1780000000000000,"a","b"],)" + id + "}"),                 // a key more
      b64(R"({"s":"created_at,email","k":[1780000000000000,"a"],)" + id + "}"),                      // another sort
      b64(R"({"s":"-created_at,email","k":["yesterday","a"],)" + id + "}"),                          // time as text
      b64(R"({"s":"-created_at,email","k":[null,"a"],)" + id + "}"),                                 // created_at is never null
      b64(R"({"s":"-created_at,email","k":[1.5,"a"],)" + id + "}"),                                  // nor fractional
      b64(R"({"s":"-created_at,email","k":[1780000000000000,{"a":1}],)" + id + "}"),                 // not a scalar
      b64(R"({"s":"-created_at,email","k":[1780000000000000,"a"],"i":""})"),                         // empty id
      b64(R"({"s":"-created_at,email","k":[1780000000000000,"a"],"i":7})"),                          // id not text
      b64(R"({"s":"-created_at,email","k":[1780000000000000,"a"],)" + id + R"(,"x":1})"),            // extra member
  };
  for (const std::string& cursor : bad) {
    Error e = parse_error("sort=-created_at,email&cursor=" + cursor);
    EXPECT_EQ(e.status, 400) << cursor;
    EXPECT_EQ(e.code, "invalid_cursor") << cursor;
  }
  EXPECT_TRUE(parse_ok("sort=-created_at,email&cursor=" + good).after);
  // The same cursor for another sort, or none.
  EXPECT_EQ(parse_error("sort=-created_at,login&cursor=" + good).code, "invalid_cursor");
  EXPECT_EQ(parse_error("cursor=" + good).code, "invalid_cursor");
  EXPECT_EQ(decode_cursor(good, {{"created_at", true}}).error().code, "invalid_cursor");
}

TEST(UserQueryCursor, KeysMustFitTheirFields) {
  auto decode = [](const std::vector<SortKey>& sort, const char* keys) {
    return decode_cursor(crypto::base64url_encode(R"({"s":")" + sort_spec(sort) + R"(","k":)" + keys +
                                                  R"(,"i":"x"})"),
                         sort);
  };
  EXPECT_TRUE(decode({{"last_request_at", false}}, "[null]"));
  EXPECT_TRUE(decode({{"email", false}}, "[null]"));
  EXPECT_FALSE(decode({{"id", false}}, "[null]"));
  EXPECT_FALSE(decode({{"email", false}}, "[5]"));
  EXPECT_TRUE(decode({{"active", false}}, "[1]"));
  EXPECT_FALSE(decode({{"active", false}}, "[true]"));
  for (const char* keys : {"[null]", "[1]", "[-2.5]", R"(["x"])"}) EXPECT_TRUE(decode({{"data.a", true}}, keys)) << keys;
  EXPECT_FALSE(decode({{"data.a", true}}, "[[1]]"));
  EXPECT_FALSE(decode({{"data.a", true}}, "[true]"));
}

// ---- JSON filters (bulk operations) ----

TEST(UserFilterJson, BareValuesAndOperatorObjects) {
  auto where = json_ok(R"({"active": false, "email": "A@b.co", "data.age": {"gte": 18, "lt": 65},
                           "tags": {"contains": "vip"}, "created_at": {"gt": "2026-11-01T00:00:00Z"}})");
  ASSERT_EQ(where.size(), 6u);
  EXPECT_EQ(where[0].field, "active");
  EXPECT_EQ(where[0].op, FilterOp::eq);
  EXPECT_EQ(where[0].value, json::value(false));
  EXPECT_EQ(where[1].value, json::value("A@b.co"));
  EXPECT_EQ(where[2].op, FilterOp::gte);
  EXPECT_EQ(where[3].op, FilterOp::lt);
  EXPECT_EQ(where[3].value, json::value(65));
  EXPECT_EQ(where[4].op, FilterOp::contains);
  EXPECT_EQ(where[5].value, json::value(micros_of("2026-11-01T00:00:00Z")));
  EXPECT_TRUE(json_ok("{}").empty());  // every user: the service decides whether to allow it
}

TEST(UserFilterJson, DataValuesKeepTheirJsonType) {
  auto where = json_ok(R"({"data.a": "18", "data.b": 18, "data.c": 1.5, "data.d": true, "data.e": null,
                           "data.f": {"in": ["x", 2, false, null]}, "data.g": 18446744073709551615})");
  ASSERT_EQ(where.size(), 7u);
  EXPECT_EQ(where[0].value, json::value("18"));
  EXPECT_EQ(where[1].value, json::value(18));
  EXPECT_EQ(where[2].value, json::value(1.5));
  EXPECT_EQ(where[3].value, json::value(true));
  EXPECT_TRUE(where[4].value.is_null());
  EXPECT_EQ(where[5].value, json::parse(R"(["x", 2, false, null])"));
  EXPECT_TRUE(where[6].value.is_double());  // beyond int64: compared as a double
}

TEST(UserFilterJson, TypeErrors) {
  struct Case {
    const char* where;
    const char* field;
    const char* code;
  };
  const Case cases[] = {
      {R"({"active": "true"})", "active", "type"},
      {R"({"active": {"eq": 1}})", "active", "type"},
      {R"({"email": 5})", "email", "type"},
      {R"({"email": null})", "email", "type"},
      {R"({"created_at": {"gt": 1780000000000000}})", "created_at", "type"},
      {R"({"created_at": {"gt": "yesterday"}})", "created_at", "type"},
      {R"({"data.a": [1, 2]})", "data.a", "type"},
      {R"({"data.a": {}})", "data.a", "type"},
      {R"({"data.a": {"gt": true}})", "data.a", "type"},
      {R"({"data.a": {"prefix": 12}})", "data.a", "type"},
      {R"({"email": {"in": "a@b.co,c@d.co"}})", "email", "type"},
      {R"({"email": {"in": []}})", "email", "type"},
      {R"({"email": {"in": ["a@b.co", 5]}})", "email", "type"},
      {R"({"phone": {"exists": "yes"}})", "phone", "type"},
      {R"({"tags": {"contains": ["a"]}})", "tags", "type"},
      {R"({"nickname": "x"})", "nickname", "unknown_field"},
      {R"({"data": {"age": 1}})", "data", "unknown_field"},
      {R"({"data.a'b": 1})", "data.a'b", "format"},
      {R"({"email": {"like": "x"}})", "email", "unknown_operator"},
      {R"({"tags": "vip"})", "tags", "operator_not_allowed"},
      {R"({"active": {"prefix": "t"}})", "active", "operator_not_allowed"},
  };
  for (const Case& c : cases) {
    FieldError e = json_filter_error(c.where);
    EXPECT_EQ(e.field, c.field) << c.where;
    EXPECT_EQ(e.code, c.code) << c.where << ": " << e.detail;
  }
  std::string many = R"({"data.n": {"in": [)";
  for (int i = 0; i <= 100; ++i) many.append(i ? "," : "").append(std::to_string(i));
  EXPECT_EQ(json_filter_error((many + "]}}").c_str()).code, "too_many");
}

TEST(UserFilterJson, EveryOffendingFieldIsNamed) {
  auto r = parse_user_filter(
      json::parse(R"({"nickname": 1, "active": "no", "email": {"zz": 1, "eq": 2}, "login": "fine"})").as_object());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().fields, UnorderedElementsAre(Field(&FieldError::field, "nickname"), Field(&FieldError::field, "active"),
                                                     Field(&FieldError::field, "email"), Field(&FieldError::field, "email")));
}

// ---- field schema ----

TEST(UserQuerySchema, FieldsAndPaths) {
  EXPECT_EQ(user_field("email")->kind, FieldKind::folded_text);
  EXPECT_TRUE(user_field("last_request_at")->nullable);
  EXPECT_FALSE(user_field("created_at")->nullable);
  EXPECT_FALSE(user_field("tags")->sortable);
  EXPECT_EQ(user_field("data.a.b")->kind, FieldKind::data);
  EXPECT_FALSE(user_field("password_hash"));
  EXPECT_FALSE(user_field("data"));
  EXPECT_THAT(*data_path("data.profile.age"), ElementsAre("profile", "age"));
  EXPECT_FALSE(data_path("data.a\"b"));
  EXPECT_FALSE(data_path("email"));
}

}  // namespace
}  // namespace tessera::identity
