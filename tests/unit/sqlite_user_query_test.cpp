// store/sqlite: the user filter language compiled to SQL, on a real database in a temp dir: every
// operator on every kind of field, typed data paths, sorting with NULLs and mixed directions, keyset
// paging (also while rows are inserted), injection attempts, project scoping, bulk update and delete.
#include "store/sql/sql_user_query.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "core/uuid.hpp"
#include "crypto/random.hpp"
#include "crypto/token.hpp"
#include "identity/user_query.hpp"
#include "store/sqlite/sqlite_connection.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

namespace tessera::store::sqlite {
namespace {

namespace json = boost::json;
using identity::User;
using sql::SqlQuery;
using sql::compile_user_list;
using sql::compile_user_where;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using namespace std::chrono_literals;

const Timestamp kT0 = from_micros(1'795'000'000'000'000);  // 2026-11-18T...

using tessera::testing::TempDir;

// format_rfc3339 writes Z, never a '+' that a query string would turn into a space.
std::string rfc(Timestamp t) { return format_rfc3339(t); }

class UserQueryStoreTest : public ::testing::Test {
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
    if (!store_->write([&](Repositories& r) { return r.projects.insert(p); })) throw std::runtime_error("project");
    return p.id;
  }

  // A user created at `created` (its id is time-ordered by it, so the default order is creation order).
  User& add(const std::string& name, const std::string& project, Timestamp created, const std::function<void(User&)>& fill) {
    User u;
    u.id = make_uuid_v7(created);
    u.project_id = project;
    u.created_at = u.updated_at = created;
    fill(u);
    if (store_->write([&](Repositories& r) { return r.users.insert(u, std::nullopt); }))
      throw std::runtime_error("insert conflict for " + name);
    name_of_[u.id] = name;
    return users_[name] = u;
  }

  // The five users of project A, and one look-alike in project B that must never show up.
  void add_fixture() {
    add("alice", project_a_, kT0, [](User& u) {
      u.email = "Alice@Example.com";
      u.login = "alice";
      u.phone = "+14155550001";
      u.full_name = "Alice";
      u.external_id = "ext-1";
      u.tags = {"vip", "beta"};
      u.data = json::parse(R"({"age":30,"plan":"pro","score":1.5,"profile":{"city":"Paris"},"flag":true})").as_object();
      u.email_verified = true;
      u.updated_at = kT0 + 1h;
      u.last_request_at = kT0 + 2h;
    });
    add("bob", project_a_, kT0 + 1min, [](User& u) {
      u.email = "bob@example.com";
      u.login = "Bob";
      u.full_name = "Bob";
      u.tags = {"beta"};
      u.data = json::parse(R"({"age":"30","plan":"free","flag":false,"nothing":null})").as_object();
      u.active = false;
    });
    add("carol", project_a_, kT0 + 2min, [](User& u) {
      u.login = "carol";
      u.phone = "+14155550003";
      u.data = json::parse(R"({"age":17,"plan":"pro","profile":{"city":"Berlin"}})").as_object();
      u.last_request_at = kT0 + 1h;
    });
    add("guest", project_a_, kT0 + 3min, [](User& u) {
      u.is_guest = true;
      u.tags = {"VIP"};
    });
    add("dave", project_a_, kT0 + 4min, [](User& u) {
      u.email = "dave@example.org";
      u.login = "dave";
      u.full_name = "Dave";
      u.avatar_url = "https://cdn.example/d.png";
      u.tags = {"vip"};
      u.data = json::parse(R"({"age":45.5,"plan":"enterprise"})").as_object();
      u.last_request_at = kT0 + 3h;
      u.updated_at = kT0 + 2h;
    });
    add("other-alice", project_b_, kT0 + 5min, [](User& u) {
      u.email = "alice@example.com";
      u.login = "alice";
      u.full_name = "Alice";
      u.tags = {"vip"};
      u.data = json::parse(R"({"age":30,"plan":"pro"})").as_object();
    });
  }

  Result<identity::UserPage> list(const std::string& project, const std::string& qs) {
    auto query = identity::parse_user_query(qs);
    if (!query) return fail(query.error());
    return store_->read([&](Repositories& r) { return r.users.list(project, *query); });
  }

  // The names of every matching user of project A, in the query's order.
  std::vector<std::string> names(const std::string& qs) {
    auto page = list(project_a_, qs + "&limit=1000");
    EXPECT_TRUE(page) << qs << ": " << (page ? "" : page.error().code);
    std::vector<std::string> out;
    if (page) {
      EXPECT_FALSE(page->next) << qs;
      for (auto& u : page->items) out.push_back(name_of_.at(u.id));
    }
    return out;
  }

  // Every id, following next cursors through their encoded form; `between(page)` runs after each page.
  std::vector<std::string> page_through(const std::string& project, const std::string& qs, size_t limit,
                                        const std::function<void(const identity::UserPage&)>& between = {}) {
    std::vector<std::string> ids;
    std::string cursor;
    for (int n = 0; n < 5000; ++n) {
      auto page = list(project, qs + "&limit=" + std::to_string(limit) + (cursor.empty() ? "" : "&cursor=" + cursor));
      EXPECT_TRUE(page) << qs << ": " << (page ? "" : page.error().code);
      if (!page) break;
      EXPECT_LE(page->items.size(), limit);
      for (auto& u : page->items) ids.push_back(u.id);
      if (!page->next) break;
      EXPECT_EQ(page->items.size(), limit) << qs;
      EXPECT_EQ(page->next->id, page->items.back().id);
      cursor = identity::encode_cursor(*page->next);
      if (between) between(*page);
    }
    return ids;
  }

  std::vector<std::string> update_where(const std::string& project, const char* where, const identity::UserChanges& changes,
                                        Timestamp now) {
    auto conditions = identity::parse_user_filter(json::parse(where).as_object());
    EXPECT_TRUE(conditions) << where;
    auto ids = store_->write([&](Repositories& r) { return r.users.update_where(project, *conditions, changes, now); });
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  std::vector<std::string> remove_where(const std::string& project, const char* where) {
    auto conditions = identity::parse_user_filter(json::parse(where).as_object());
    EXPECT_TRUE(conditions) << where;
    auto ids = store_->write([&](Repositories& r) { return r.users.remove_where(project, *conditions); });
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  std::vector<std::string> ids_of(std::initializer_list<const char*> names) {
    std::vector<std::string> ids;
    for (const char* n : names) ids.push_back(users_.at(n).id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  User get(const std::string& name) {
    const User& u = users_.at(name);
    auto got = store_->read([&](Repositories& r) { return r.users.find(u.project_id, u.id); });
    if (!got) throw std::runtime_error(name + " is gone");
    return *got;
  }
  bool exists(const std::string& name) {
    const User& u = users_.at(name);
    return store_->read([&](Repositories& r) { return r.users.find(u.project_id, u.id).has_value(); });
  }

  // The SQLite query plan of a list query, one line per step.
  std::string plan(const std::string& qs) {
    auto query = identity::parse_user_query(qs);
    EXPECT_TRUE(query) << qs;
    SqlQuery q = compile_user_list(sql::Dialect::sqlite, project_a_, *query, "id");
    q.sql = "EXPLAIN QUERY PLAN " + q.sql;
    Connection conn(dir_.str() + "/tessera.db", false, "normal");
    sql::Statement st = sql::prepare_query(conn, q);
    std::string out;
    while (st.step()) out += st.text(3) + "\n";
    return out;
  }

  TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  std::string project_a_, project_b_;
  std::map<std::string, User> users_;
  std::map<std::string, std::string> name_of_;
};

// ---- every operator on every kind of field ----

struct FilterCase {
  std::string query;
  std::vector<std::string> expected;  // in id (creation) order
};

TEST_F(UserQueryStoreTest, FiltersOnColumns) {
  add_fixture();
  const std::string alice = users_.at("alice").id, carol = users_.at("carol").id;
  const std::vector<FilterCase> cases = {
      {"", {"alice", "bob", "carol", "guest", "dave"}},
      // id: text
      {"id=" + alice, {"alice"}},
      {"id[ne]=" + alice, {"bob", "carol", "guest", "dave"}},
      {"id[in]=" + alice + "," + carol, {"alice", "carol"}},
      {"id[nin]=" + alice + "," + carol, {"bob", "guest", "dave"}},
      {"id[gt]=" + carol, {"guest", "dave"}},
      {"id[gte]=" + carol, {"carol", "guest", "dave"}},
      {"id[lt]=" + carol, {"alice", "bob"}},
      {"id[lte]=" + carol, {"alice", "bob", "carol"}},
      {"id[prefix]=" + alice, {"alice"}},
      {"id[prefix]=" + alice.substr(0, 4), {"alice", "bob", "carol", "guest", "dave"}},  // the same ~49 days
      // email and login: case-insensitive, on the folded keys
      {"email=ALICE@example.COM", {"alice"}},
      {"email[ne]=alice@example.com", {"bob", "carol", "guest", "dave"}},  // ne includes users without email
      {"email[in]=BOB@EXAMPLE.COM,dave@example.org", {"bob", "dave"}},
      {"email[nin]=bob@example.com", {"alice", "carol", "guest", "dave"}},
      {"email[prefix]=AL", {"alice"}},
      {"email[prefix]=", {"alice", "bob", "dave"}},
      {"email[gt]=C", {"dave"}},
      {"email[gte]=bob@example.com", {"bob", "dave"}},
      {"email[lt]=bob@example.com", {"alice"}},
      {"email[lte]=BOB@example.com", {"alice", "bob"}},
      {"email[exists]=false", {"carol", "guest"}},
      {"email[exists]=true", {"alice", "bob", "dave"}},
      {"login=BOB", {"bob"}},
      {"login[prefix]=C", {"carol"}},
      {"login[in]=ALICE,dave", {"alice", "dave"}},
      {"login[exists]=false", {"guest"}},
      // plain optional text: case-sensitive
      {"phone=%2B14155550001", {"alice"}},
      {"phone=+14155550001", {}},  // '+' is a space in a query string
      {"phone[prefix]=%2B1415555000", {"alice", "carol"}},
      {"phone[exists]=true", {"alice", "carol"}},
      {"phone[ne]=%2B14155550001", {"bob", "carol", "guest", "dave"}},
      {"full_name=Alice", {"alice"}},
      {"full_name=alice", {}},
      {"full_name[gt]=Bob", {"dave"}},
      {"full_name[nin]=Alice,Dave", {"bob", "carol", "guest"}},
      {"full_name[exists]=false", {"carol", "guest"}},
      {"external_id=ext-1", {"alice"}},
      {"external_id[exists]=true", {"alice"}},
      {"external_id[ne]=ext-1", {"bob", "carol", "guest", "dave"}},
      {"avatar_url[prefix]=https://cdn.", {"dave"}},
      {"avatar_url[exists]=false", {"alice", "bob", "carol", "guest"}},
      // tags
      {"tags[contains]=vip", {"alice", "dave"}},  // "VIP" is another tag
      {"tags[contains]=VIP", {"guest"}},
      {"tags[contains]=beta", {"alice", "bob"}},
      {"tags[contains]=vip&tags[contains]=beta", {"alice"}},
      {"tags[contains]=vi", {}},
      {"tags[exists]=true", {"alice", "bob", "guest", "dave"}},
      {"tags[exists]=false", {"carol"}},
      // booleans
      {"active=false", {"bob"}},
      {"active[ne]=false", {"alice", "carol", "guest", "dave"}},
      {"email_verified=true", {"alice"}},
      {"is_guest=true", {"guest"}},
      {"is_guest[ne]=true", {"alice", "bob", "carol", "dave"}},
      // times
      {"created_at=" + rfc(kT0), {"alice"}},
      {"created_at[ne]=" + rfc(kT0), {"bob", "carol", "guest", "dave"}},
      {"created_at[gt]=" + rfc(kT0 + 2min), {"guest", "dave"}},
      {"created_at[gte]=" + rfc(kT0 + 2min), {"carol", "guest", "dave"}},
      {"created_at[lt]=" + rfc(kT0 + 1min), {"alice"}},
      {"created_at[lte]=" + rfc(kT0 + 1min), {"alice", "bob"}},
      {"created_at[in]=" + rfc(kT0) + "," + rfc(kT0 + 2min), {"alice", "carol"}},
      {"created_at[nin]=" + rfc(kT0) + "," + rfc(kT0 + 2min), {"bob", "guest", "dave"}},
      {"created_at[gte]=" + rfc(kT0 + 1min) + "&created_at[lt]=" + rfc(kT0 + 3min), {"bob", "carol"}},
      {"created_at=2026-11-18T00:00:00%2B01:00", {}},
      {"updated_at[gte]=" + rfc(kT0 + 1h), {"alice", "dave"}},
      {"last_request_at[gt]=" + rfc(kT0 + 1h), {"alice", "dave"}},
      {"last_request_at[lte]=" + rfc(kT0 + 2h), {"alice", "carol"}},
      {"last_request_at[exists]=false", {"bob", "guest"}},
      {"last_request_at[ne]=" + rfc(kT0 + 1h), {"alice", "bob", "guest", "dave"}},
      {"last_request_at[nin]=" + rfc(kT0 + 1h), {"alice", "bob", "guest", "dave"}},
      // conditions are ANDed
      {"active=true&tags[contains]=vip&data.age[gte]=18", {"alice", "dave"}},
      {"active=true&last_request_at[gt]=" + rfc(kT0) + "&tags[contains]=vip&data.age[gte]=18&sort=-last_request_at",
       {"dave", "alice"}},
  };
  for (const FilterCase& c : cases) EXPECT_EQ(names(c.query), c.expected) << c.query;
}

TEST_F(UserQueryStoreTest, DataPathsCompareOnlyValuesOfTheSameJsonType) {
  add_fixture();
  const std::vector<FilterCase> cases = {
      {"data.age=30", {"alice"}},                 // bob's "30" is a string
      {"data.age=%2230%22", {"bob"}},             // a quoted string
      {"data.age=30.0", {"alice"}},               // numbers compare as numbers
      {"data.age[ne]=30", {"bob", "carol", "guest", "dave"}},
      {"data.age[gte]=18", {"alice", "dave"}},
      {"data.age[gt]=30", {"dave"}},
      {"data.age[lt]=18", {"carol"}},
      {"data.age[lte]=30", {"alice", "carol"}},
      {"data.age[gt]=abc", {}},                   // only strings compare with a string: "30" < "abc"
      {"data.age[lt]=abc", {"bob"}},
      {"data.age[in]=17,30", {"alice", "carol"}},
      {"data.age[in]=17,%2230%22", {"bob", "carol"}},
      {"data.age[nin]=30", {"bob", "carol", "guest", "dave"}},
      {"data.age[exists]=true", {"alice", "bob", "carol", "dave"}},
      {"data.age[exists]=false", {"guest"}},
      {"data.plan=pro", {"alice", "carol"}},
      {"data.plan[in]=pro,free", {"alice", "bob", "carol"}},
      {"data.plan[prefix]=ent", {"dave"}},
      {"data.plan[prefix]=", {"alice", "bob", "carol", "dave"}},
      {"data.plan[gt]=free", {"alice", "carol"}},
      {"data.score[gt]=1", {"alice"}},
      {"data.score[lt]=1.6", {"alice"}},
      {"data.profile.city=Paris", {"alice"}},
      {"data.profile.city[prefix]=B", {"carol"}},
      {"data.profile[exists]=true", {"alice", "carol"}},
      {"data.profile=Paris", {}},                 // an object is not a string
      {"data.flag=true", {"alice"}},
      {"data.flag=false", {"bob"}},
      {"data.flag=1", {}},                        // a boolean is not a number
      {"data.flag[ne]=true", {"bob", "carol", "guest", "dave"}},
      {"data.flag[in]=true,false", {"alice", "bob"}},
      {"data.flag[nin]=true,false", {"carol", "guest", "dave"}},
      {"data.nothing=null", {"bob"}},             // explicit null only
      {"data.missing=null", {}},
      {"data.nothing[exists]=true", {"bob"}},
      {"data.nothing[ne]=null", {"alice", "carol", "guest", "dave"}},
      {"data.missing[exists]=false", {"alice", "bob", "carol", "guest", "dave"}},
      {"data.age.deeper=1", {}},
  };
  for (const FilterCase& c : cases) EXPECT_EQ(names(c.query), c.expected) << c.query;

  // From JSON, values keep their type.
  auto where = identity::parse_user_filter(json::parse(R"({"data.age": {"in": ["30", 17]}, "data.flag": {"ne": true}})").as_object());
  ASSERT_TRUE(where);
  identity::UserQuery query;
  query.where = *where;
  auto page = store_->read([&](Repositories& r) { return r.users.list(project_a_, query); });
  std::vector<std::string> got;
  for (auto& u : page.items) got.push_back(name_of_.at(u.id));
  EXPECT_THAT(got, ElementsAre("bob", "carol"));
}

TEST_F(UserQueryStoreTest, PrefixesAreLiteralAndByteExact) {
  add("pct", project_a_, kT0, [](User& u) { u.full_name = "50%_off"; });
  add("under", project_a_, kT0 + 1s, [](User& u) { u.full_name = "5x_off"; });
  add("angstrom", project_a_, kT0 + 2s, [](User& u) { u.full_name = "Ångström"; });
  add("angel", project_a_, kT0 + 3s, [](User& u) { u.full_name = "Ångel"; });
  add("high", project_a_, kT0 + 4s, [](User& u) { u.full_name = "\xF4\x8F\xBF\xBF tail"; });  // U+10FFFF
  EXPECT_THAT(names("full_name[prefix]=50%25"), ElementsAre("pct"));
  EXPECT_THAT(names("full_name[prefix]=5_"), IsEmpty());  // no LIKE wildcards
  EXPECT_THAT(names("full_name[prefix]=5"), ElementsAre("pct", "under"));
  EXPECT_THAT(names("full_name[prefix]=%C3%85ng"), ElementsAre("angstrom", "angel"));
  EXPECT_THAT(names("full_name[prefix]=%C3%85ngs"), ElementsAre("angstrom"));
  EXPECT_THAT(names("full_name[prefix]=%C3%A5ng"), IsEmpty());  // case matters outside email and login
  EXPECT_THAT(names("full_name[prefix]=%F4%8F%BF%BF"), ElementsAre("high"));
}

// ---- injection ----

TEST_F(UserQueryStoreTest, InjectionAttemptsInValuesMatchLiterally) {
  add_fixture();
  add("quote", project_a_, kT0 + 10min, [](User& u) {
    u.full_name = "' OR 1=1 --";
    u.tags = {"' OR 1=1 --"};
    u.data = json::parse(R"({"k":"' OR 1=1 --","plan":"x\"); DROP TABLE users; --"})").as_object();
  });
  const std::string evil = "%27%20OR%201%3D1%20--";
  for (std::string field : {"email", "login", "phone", "external_id", "avatar_url", "id", "data.plan"})
    for (std::string op : {"", "[prefix]", "[in]", "[gt]"}) {
      if (op == "[gt]") continue;  // would legitimately match every value above the quote character
      std::string qs = field + op + "=" + evil;
      EXPECT_THAT(names(qs), IsEmpty()) << qs;
    }
  EXPECT_THAT(names("full_name=" + evil), ElementsAre("quote"));
  EXPECT_THAT(names("tags[contains]=" + evil), ElementsAre("quote"));
  EXPECT_THAT(names("data.k=" + evil), ElementsAre("quote"));
  EXPECT_THAT(names("data.plan=x%22)%3B%20DROP%20TABLE%20users%3B%20--"), ElementsAre("quote"));
  EXPECT_THAT(names("email=x%27)%20UNION%20SELECT%20*%20FROM%20users%20--"), IsEmpty());
  EXPECT_THAT(names("data.plan[in]=x%27),pro"), ElementsAre("alice", "carol"));

  // Names are checked before anything reaches SQL.
  for (const char* qs : {"data.a%27%5D%22)%20OR%201=1--=1", "data.a%22b=1", "full_name%27--=x", "sort=email%20DESC;--",
                         "sort=data.a%22"}) {
    auto page = list(project_a_, qs);
    ASSERT_FALSE(page) << qs;
    EXPECT_EQ(page.error().code, "invalid_filter") << qs;
  }
  EXPECT_EQ(names("").size(), 6u);  // everything still there
}

TEST_F(UserQueryStoreTest, UserTextOnlyTravelsAsParameters) {
  const std::string evil = "x'\"; DROP TABLE users; --";
  std::vector<identity::Condition> where;
  for (const char* field : {"id", "email", "login", "phone", "full_name", "external_id", "avatar_url", "data.a"}) {
    where.push_back({field, identity::FilterOp::eq, json::value(evil)});
    where.push_back({field, identity::FilterOp::in, json::array{json::value(evil)}});
    where.push_back({field, identity::FilterOp::prefix, json::value(evil)});
  }
  where.push_back({"tags", identity::FilterOp::contains, json::value(evil)});
  SqlQuery q = compile_user_where(sql::Dialect::sqlite, evil, where);
  EXPECT_THAT(q.sql, ::testing::Not(HasSubstr("DROP")));
  EXPECT_THAT(q.sql, ::testing::Not(HasSubstr("'x")));
  identity::UserQuery query;
  query.where = where;
  query.sort = {{"data.a", true}, {"email", false}};
  query.after = identity::Cursor{{json::value(evil), json::value(evil)}, evil, "-data.a,email"};
  q = compile_user_list(sql::Dialect::sqlite, evil, query, "id");
  EXPECT_THAT(q.sql, ::testing::Not(HasSubstr("DROP")));
  // And it runs: nothing matches.
  EXPECT_TRUE(store_->read([&](Repositories& r) { return r.users.list(evil, query).items.empty(); }));
}

// ---- project scoping ----

TEST_F(UserQueryStoreTest, OtherProjectsNeverAppear) {
  add_fixture();
  EXPECT_THAT(names("email=alice@example.com"), ElementsAre("alice"));
  EXPECT_THAT(names("data.age=30&data.plan=pro"), ElementsAre("alice"));
  EXPECT_EQ(names("sort=-created_at").size(), 5u);
  auto in_b = list(project_b_, "tags[contains]=vip");
  ASSERT_TRUE(in_b);
  ASSERT_EQ(in_b->items.size(), 1u);
  EXPECT_EQ(in_b->items[0].id, users_.at("other-alice").id);
  // A cursor naming a user of project B only positions the page in A.
  identity::Cursor foreign;
  foreign.id = users_.at("other-alice").id;
  auto page = list(project_a_, "cursor=" + identity::encode_cursor(foreign));
  ASSERT_TRUE(page);
  for (auto& u : page->items) EXPECT_EQ(u.project_id, project_a_);
  auto none = list(make_uuid_v7(kT0), "");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->items.empty());
}

// ---- sorting ----

TEST_F(UserQueryStoreTest, SortsWithNullsLowestAndIdAsTieBreaker) {
  add_fixture();
  EXPECT_THAT(names("sort=-created_at"), ElementsAre("dave", "guest", "carol", "bob", "alice"));
  EXPECT_THAT(names("sort=-id"), ElementsAre("dave", "guest", "carol", "bob", "alice"));
  // email: by the folded key; users without one first ascending, last descending, ties by id.
  EXPECT_THAT(names("sort=email"), ElementsAre("carol", "guest", "alice", "bob", "dave"));
  EXPECT_THAT(names("sort=-email"), ElementsAre("dave", "bob", "alice", "carol", "guest"));
  EXPECT_THAT(names("sort=login"), ElementsAre("guest", "alice", "bob", "carol", "dave"));  // Bob folds to bob
  EXPECT_THAT(names("sort=-last_request_at"), ElementsAre("dave", "alice", "carol", "bob", "guest"));
  EXPECT_THAT(names("sort=last_request_at,-created_at"), ElementsAre("guest", "bob", "carol", "alice", "dave"));
  EXPECT_THAT(names("sort=active,-created_at"), ElementsAre("bob", "dave", "guest", "carol", "alice"));
  EXPECT_THAT(names("sort=-active,full_name"), ElementsAre("carol", "guest", "alice", "dave", "bob"));
  EXPECT_THAT(names("sort=-updated_at,created_at"), ElementsAre("dave", "alice", "guest", "carol", "bob"));
  // data paths: missing first, then numbers, then strings (SQLite's order of types).
  EXPECT_THAT(names("sort=data.age"), ElementsAre("guest", "carol", "alice", "dave", "bob"));
  EXPECT_THAT(names("sort=-data.age"), ElementsAre("bob", "dave", "alice", "carol", "guest"));
  EXPECT_THAT(names("sort=data.plan,-data.age"), ElementsAre("guest", "dave", "bob", "alice", "carol"));
  EXPECT_THAT(names("sort=data.profile.city"), ElementsAre("bob", "guest", "dave", "carol", "alice"));
}

// A reference order written in C++: the documented semantics, independent of SQLite's ORDER BY.
using SortValue = std::variant<std::monostate, int64_t, double, std::string>;

SortValue data_sort_value(const User& u, std::string_view path) {
  const json::value* v = nullptr;
  const json::object* o = &u.data;
  auto segments = identity::data_path(path);
  for (size_t i = 0; i < segments->size(); ++i) {
    v = o->if_contains((*segments)[i]);
    if (!v) return {};
    if (i + 1 < segments->size()) {
      if (!v->is_object()) return {};
      o = &v->get_object();
    }
  }
  switch (v->kind()) {
    case json::kind::null: return {};
    case json::kind::bool_: return int64_t{v->get_bool()};
    case json::kind::int64: return v->get_int64();
    case json::kind::double_: return v->get_double();
    case json::kind::string: return std::string(v->get_string());
    default: return json::serialize(*v);
  }
}

SortValue sort_value(const User& u, const std::string& field) {
  auto text = [](const std::optional<std::string>& s) -> SortValue {
    if (!s) return {};
    return *s;
  };
  auto folded = [](const std::optional<std::string>& s) -> SortValue {
    if (!s) return {};
    std::string k = *s;
    for (char& c : k)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return k;
  };
  if (field == "id") return u.id;
  if (field == "email") return folded(u.email);
  if (field == "login") return folded(u.login);
  if (field == "phone") return text(u.phone);
  if (field == "full_name") return text(u.full_name);
  if (field == "external_id") return text(u.external_id);
  if (field == "active") return int64_t{u.active};
  if (field == "created_at") return to_micros(u.created_at);
  if (field == "updated_at") return to_micros(u.updated_at);
  if (field == "last_request_at") return u.last_request_at ? SortValue(to_micros(*u.last_request_at)) : SortValue();
  return data_sort_value(u, field);
}

// NULL < numbers (compared numerically) < text (compared byte-wise).
int compare(const SortValue& a, const SortValue& b) {
  auto rank = [](const SortValue& v) { return v.index() == 0 ? 0 : v.index() == 3 ? 2 : 1; };
  if (rank(a) != rank(b)) return rank(a) < rank(b) ? -1 : 1;
  if (rank(a) == 0) return 0;
  if (rank(a) == 2) {
    int c = std::get<std::string>(a).compare(std::get<std::string>(b));
    return c < 0 ? -1 : c > 0;
  }
  auto num = [](const SortValue& v) { return v.index() == 1 ? static_cast<double>(std::get<int64_t>(v)) : std::get<double>(v); };
  if (a.index() == 1 && b.index() == 1) return std::get<int64_t>(a) < std::get<int64_t>(b) ? -1 : std::get<int64_t>(a) > std::get<int64_t>(b);
  return num(a) < num(b) ? -1 : num(a) > num(b);
}

std::vector<std::string> reference_order(std::vector<User> users, const std::vector<identity::SortKey>& sort) {
  std::stable_sort(users.begin(), users.end(), [&](const User& a, const User& b) {
    for (const identity::SortKey& k : sort) {
      int c = compare(sort_value(a, k.field), sort_value(b, k.field));
      if (c != 0) return k.descending ? c > 0 : c < 0;
    }
    return a.id < b.id;
  });
  std::vector<std::string> ids;
  for (auto& u : users) ids.push_back(u.id);
  return ids;
}

class UserQueryPagingTest : public UserQueryStoreTest {
 protected:
  // 240 users with many ties and NULLs in every sortable field; 30 more in project B.
  void add_random_users() {
    std::mt19937 rng(7);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    const char* names[] = {"Ann", "bob", "Ann ", "Zed", "\xC3\x89mile"};
    const char* scores[] = {"1", "2.5", "\"x\"", "\"A\"", "null", "true", "false", "{\"o\":1}", "[1]", "-1", "2"};
    for (int i = 0; i < 270; ++i) {
      std::string project = i < 240 ? project_a_ : project_b_;
      User& u = add(std::string("u").append(std::to_string(i)), project, kT0 + std::chrono::milliseconds(i), [&](User& u) {
        u.created_at = kT0 + std::chrono::seconds(pick(20));
        u.updated_at = u.created_at + std::chrono::seconds(pick(3));
        if (pick(10) >= 3) u.last_request_at = kT0 + std::chrono::minutes(pick(8));
        u.active = pick(3) != 0;
        if (pick(10) >= 3) u.email = (pick(2) ? "User" : "user") + std::to_string(i) + "@Example.com";
        if (pick(2)) u.login = "L" + std::to_string(i);
        if (pick(5) == 0) u.phone = "+1415555" + std::to_string(1000 + i);
        if (int n = pick(6); n < 5) u.full_name = names[n];
        if (pick(2)) u.external_id = "e" + std::to_string(pick(3));
        if (int s = pick(12); s < 11) u.data["score"] = json::parse(scores[s]);
        u.data["grp"] = pick(3);
        if (pick(2)) u.data["nested"] = json::object{{"v", pick(4)}};
      });
      if (project == project_a_) a_users_.push_back(u);
    }
  }
  std::vector<User> a_users_;
};

TEST_F(UserQueryPagingTest, PagesConcatenateToTheFullSortedList) {
  add_random_users();
  const char* sorts[] = {"",
                         "-id",
                         "-created_at",
                         "created_at",
                         "-last_request_at",
                         "last_request_at,-created_at",
                         "-active,email",
                         "email",
                         "-email",
                         "login,-updated_at",
                         "-phone",
                         "full_name,-last_request_at",
                         "-full_name,active",
                         "external_id,-updated_at,created_at",
                         "data.score",
                         "-data.score,-full_name",
                         "data.grp,-data.score,last_request_at",
                         "-data.nested.v,data.grp",
                         "-updated_at,-created_at,full_name",
                         "active,-id"};
  for (const char* sort : sorts) {
    std::string qs = *sort ? std::string("sort=") + sort : "";
    auto parsed = identity::parse_user_query(qs);
    ASSERT_TRUE(parsed) << sort;
    std::vector<std::string> expected = reference_order(a_users_, parsed->sort);
    ASSERT_EQ(page_through(project_a_, qs, 1000), expected) << sort;
    for (size_t limit : {1u, 4u, 17u}) EXPECT_EQ(page_through(project_a_, qs, limit), expected) << sort << " limit " << limit;
  }
}

TEST_F(UserQueryPagingTest, PagesOfFilteredLists) {
  add_random_users();
  struct Case {
    std::string qs;
    std::function<bool(const User&)> keep;
  };
  const Timestamp t = kT0 + 3min;
  const std::vector<Case> cases = {
      {"active=true&sort=-last_request_at", [](const User& u) { return u.active; }},
      {"last_request_at[gt]=" + rfc(t) + "&sort=-last_request_at,email",
       [&](const User& u) { return u.last_request_at && *u.last_request_at > t; }},
      {"last_request_at[exists]=true&sort=last_request_at", [](const User& u) { return u.last_request_at.has_value(); }},
      {"last_request_at[lte]=" + rfc(t) + "&sort=-last_request_at",
       [&](const User& u) { return u.last_request_at && *u.last_request_at <= t; }},
      {"email[exists]=true&sort=-email", [](const User& u) { return u.email.has_value(); }},
      {"data.grp=1&sort=-data.score", [](const User& u) { return u.data.at("grp").as_int64() == 1; }},
      {"created_at[gte]=" + rfc(kT0 + 5s) + "&sort=created_at",
       [](const User& u) { return u.created_at >= kT0 + 5s; }},
  };
  for (const Case& c : cases) {
    auto parsed = identity::parse_user_query(c.qs);
    ASSERT_TRUE(parsed) << c.qs;
    std::vector<User> kept;
    std::copy_if(a_users_.begin(), a_users_.end(), std::back_inserter(kept), c.keep);
    ASSERT_FALSE(kept.empty()) << c.qs;
    std::vector<std::string> expected = reference_order(kept, parsed->sort);
    for (size_t limit : {1u, 5u, 1000u}) EXPECT_EQ(page_through(project_a_, c.qs, limit), expected) << c.qs << " limit " << limit;
  }
}

TEST_F(UserQueryPagingTest, InsertsAndDeletesBetweenPagesNeitherRepeatNorSkipRows) {
  add_random_users();
  int serial = 0;  // new users are newer than every user before them
  for (const char* sort : {"", "email", "-created_at", "-last_request_at,full_name", "data.score"}) {
    std::string qs = *sort ? std::string("sort=") + sort : "";
    auto parsed = identity::parse_user_query(qs);
    ASSERT_TRUE(parsed);
    std::vector<std::string> before = reference_order(a_users_, parsed->sort);
    std::set<std::string> deleted;
    int step = 0;
    std::vector<std::string> seen = page_through(project_a_, qs, 9, [&](const identity::UserPage& page) {
      ++step;
      // New users on both sides of the cursor, some with the same sort values as the last row.
      const User& last = page.items.back();
      for (int k = 0; k < 3; ++k) {
        std::string name = std::string("new-") + sort + "-" + std::to_string(step) + "-" + std::to_string(k);
        add(name, project_a_, kT0 + 1h + std::chrono::seconds(++serial), [&](User& u) {
          u.email = (k == 0 ? "0" : k == 1 ? "~" : "") + name + "@example.com";
          if (k == 2) {  // a twin of the last row: same sort values, a later id
            u.email = std::nullopt;
            u.created_at = last.created_at;
            u.last_request_at = last.last_request_at;
            u.full_name = last.full_name;
            u.data = last.data;
          }
        });
      }
      // And the row the cursor points at disappears: the next page must still start right after it.
      store_->write([&](Repositories& r) { return r.users.remove(project_a_, last.id); });
      deleted.insert(last.id);
      // A row further on disappears too: it must not be returned.
      for (auto it = std::find(before.begin(), before.end(), last.id); it != before.end() && ++it != before.end();) {
        if (!deleted.contains(*it)) {
          store_->write([&](Repositories& r) { return r.users.remove(project_a_, *it); });
          deleted.insert(*it);
          break;
        }
      }
    });
    // No repeats; every original user still alive was seen once, in order.
    std::set<std::string> unique(seen.begin(), seen.end());
    EXPECT_EQ(unique.size(), seen.size()) << sort;
    std::vector<std::string> originals;
    for (const std::string& id : seen)
      if (std::find(before.begin(), before.end(), id) != before.end()) originals.push_back(id);
    std::vector<std::string> expected;
    for (const std::string& id : before) {
      bool seen_then_deleted = std::find(originals.begin(), originals.end(), id) != originals.end();
      if (!deleted.contains(id) || seen_then_deleted) expected.push_back(id);
    }
    EXPECT_EQ(originals, expected) << sort;
    // Everything seen is in the final order of the list (the pages are one consistent keyset walk).
    auto all = list(project_a_, qs + "&limit=1000");
    ASSERT_TRUE(all);
    std::vector<std::string> final_order;
    for (auto& u : all->items) final_order.push_back(u.id);
    auto pos = final_order.begin();
    for (const std::string& id : seen) {
      if (deleted.contains(id)) continue;
      auto found = std::find(pos, final_order.end(), id);
      ASSERT_NE(found, final_order.end()) << sort << ": out of order or missing " << name_of_.at(id);
      pos = found;
    }
    // Rows inserted beyond the cursor were reached.
    const std::string added_now = std::string("new-") + sort + "-";
    size_t new_seen = std::count_if(seen.begin(), seen.end(), [&](const std::string& id) { return name_of_.at(id).starts_with(added_now); });
    if (std::string(sort).empty()) {
      EXPECT_EQ(new_seen, static_cast<size_t>(step * 3)) << "ids grow: every new user is after the cursor";
    }
    if (std::string(sort) == "-created_at") {
      EXPECT_EQ(new_seen, static_cast<size_t>(step)) << "newer users sort before the cursor, twins of the last row after it";
    }
    a_users_.clear();
    auto everyone = list(project_a_, "limit=1000");
    for (auto& u : everyone->items) a_users_.push_back(u);
  }
}

TEST_F(UserQueryStoreTest, LimitAndNextCursor) {
  add_fixture();
  auto page = list(project_a_, "limit=2");
  ASSERT_TRUE(page);
  ASSERT_EQ(page->items.size(), 2u);
  ASSERT_TRUE(page->next);
  EXPECT_EQ(page->next->id, users_.at("bob").id);
  EXPECT_TRUE(page->next->keys.empty());
  page = list(project_a_, "limit=5");
  EXPECT_FALSE(page->next);  // exactly the last page: no empty page after it
  page = list(project_a_, "sort=-email&limit=1");
  ASSERT_TRUE(page->next);
  EXPECT_EQ(page->next->keys, std::vector<json::value>{json::value("dave@example.org")});
  EXPECT_EQ(page->next->sort, "-email");
}

TEST_F(UserQueryStoreTest, AnOutOfRangeLimitIsClamped) {
  add_fixture();
  identity::UserQuery query;  // built by a caller other than parse_user_query
  query.limit = 0;
  auto page = store_->read([&](Repositories& r) { return r.users.list(project_a_, query); });
  EXPECT_EQ(page.items.size(), 1u);
  ASSERT_TRUE(page.next);
  EXPECT_EQ(page.next->id, page.items[0].id);
  query.limit = 100000;
  page = store_->read([&](Repositories& r) { return r.users.list(project_a_, query); });
  EXPECT_EQ(page.items.size(), 5u);
  EXPECT_FALSE(page.next);
}

TEST_F(UserQueryStoreTest, CursorForAnotherSortIsRefused) {
  add_fixture();
  auto page = list(project_a_, "sort=email&limit=2");
  ASSERT_TRUE(page && page->next);
  std::string cursor = identity::encode_cursor(*page->next);
  EXPECT_TRUE(list(project_a_, "sort=email&limit=2&cursor=" + cursor));
  for (const char* sort : {"sort=login", "sort=-email", "", "sort=email,login"}) {
    auto other = list(project_a_, std::string(sort) + "&cursor=" + cursor);
    ASSERT_FALSE(other) << sort;
    EXPECT_EQ(other.error().code, "invalid_cursor");
  }
}

// ---- the indexes ----

TEST_F(UserQueryStoreTest, CommonListsUseAnIndex) {
  add_fixture();
  identity::Cursor after_created{{json::value(to_micros(kT0))}, users_.at("alice").id, "-created_at"};
  identity::Cursor after_request{{json::value(to_micros(kT0 + 1h))}, users_.at("alice").id, "-last_request_at"};
  identity::Cursor after_id{{}, users_.at("alice").id, ""};
  struct Case {
    std::string qs;
    const char* index;
    bool needs_full_sort;
  };
  const std::vector<Case> cases = {
      {"", "users_project_id", false},
      {"cursor=" + identity::encode_cursor(after_id), "users_project_id (project_id=? AND id>?)", false},
      {"sort=-created_at", "users_project_created_id", false},
      {"sort=-created_at&cursor=" + identity::encode_cursor(after_created), "users_project_created_id (project_id=? AND created_at<?)", false},
      {"sort=created_at", "users_project_created_id", false},
      {"sort=-updated_at", "users_project_updated_id", false},
      {"sort=-last_request_at", "users_project_last_request_id", false},
      {"last_request_at[gt]=" + rfc(kT0) + "&sort=-last_request_at&cursor=" + identity::encode_cursor(after_request),
       "users_project_last_request_id (project_id=? AND last_request_at>? AND last_request_at<?)", false},
      {"active=false", "users_project_active_id (project_id=? AND active=?)", false},
      {"active=true&sort=-created_at", "users_project_created_id", false},
      {"external_id=ext-1", "users_project_external_id (project_id=? AND external_id=?)", false},
      {"email=alice@example.com", "users_email_key (project_id=? AND email_key=?)", false},
      {"email[prefix]=al", "users_email_key (project_id=? AND email_key>? AND email_key<?)", true},
      {"login=alice", "users_login_key (project_id=? AND login_key=?)", false},
      {"phone=%2B14155550001", "users_phone (project_id=? AND phone=?)", false},
      {"tags[contains]=vip&data.age[gte]=18", "users_project_id", false},
  };
  for (const Case& c : cases) {
    std::string p = plan(c.qs);
    EXPECT_THAT(p, HasSubstr(c.index)) << c.qs << "\n" << p;
    EXPECT_THAT(p, ::testing::Not(HasSubstr("SCAN users"))) << c.qs << "\n" << p;
    if (!c.needs_full_sort) {
      EXPECT_THAT(p, ::testing::Not(HasSubstr("USE TEMP B-TREE FOR ORDER BY"))) << c.qs << "\n" << p;
    }
  }
}

// ---- bulk update ----

TEST_F(UserQueryStoreTest, UpdateWhereSetsOnlyTheGivenColumnsOfMatchedUsers) {
  add_fixture();
  identity::UserChanges changes;
  changes.active = false;
  changes.email_verified = true;
  const Timestamp now = kT0 + 24h;
  EXPECT_EQ(update_where(project_a_, R"({"tags": {"contains": "vip"}})", changes, now), ids_of({"alice", "dave"}));
  User alice = get("alice"), dave = get("dave"), bob = get("bob");
  EXPECT_FALSE(alice.active);
  EXPECT_TRUE(dave.email_verified);
  EXPECT_EQ(alice.updated_at, now);
  EXPECT_EQ(alice.full_name, "Alice");  // untouched
  EXPECT_EQ(alice.data, users_.at("alice").data);
  EXPECT_EQ(bob.updated_at, users_.at("bob").updated_at);  // not matched, not touched
  EXPECT_TRUE(get("other-alice").active);                  // another project

  // Nothing matched: nothing changed.
  EXPECT_THAT(update_where(project_a_, R"({"email": "nobody@example.com"})", changes, now), IsEmpty());
}

TEST_F(UserQueryStoreTest, UpdateWhereMergePatchesDataAndSetsOrClearsFields) {
  add_fixture();
  identity::UserChanges changes;
  changes.full_name.emplace(std::nullopt);  // null clears
  changes.external_id = std::optional<std::string>("crm-7");
  changes.tags = std::vector<std::string>{"gold", "x\"y"};
  changes.data_patch = json::parse(R"({"plan":"gold","profile":{"city":null,"zip":"75001"},"age":null,"new":{"a":[1,2]}})").as_object();
  EXPECT_EQ(update_where(project_a_, R"({"data.plan": "pro"})", changes, kT0 + 1h), ids_of({"alice", "carol"}));
  User alice = get("alice");
  EXPECT_EQ(alice.full_name, std::nullopt);
  EXPECT_EQ(alice.external_id, "crm-7");
  EXPECT_EQ(alice.tags, (std::vector<std::string>{"gold", "x\"y"}));
  EXPECT_EQ(json::value(alice.data),
            json::parse(R"({"plan":"gold","score":1.5,"profile":{"zip":"75001"},"flag":true,"new":{"a":[1,2]}})"));
  EXPECT_EQ(json::value(get("carol").data), json::parse(R"({"plan":"gold","profile":{"zip":"75001"},"new":{"a":[1,2]}})"));
  EXPECT_EQ(get("bob").data, users_.at("bob").data);
  // The changed columns are filterable at once.
  EXPECT_THAT(names("tags[contains]=gold&data.profile.zip=%2275001%22&full_name[exists]=false"), ElementsAre("alice", "carol"));
  EXPECT_THAT(names("data.profile.zip=75001"), IsEmpty());  // a number: the zip is a string

  identity::UserChanges clear_id;
  clear_id.external_id.emplace(std::nullopt);
  EXPECT_EQ(update_where(project_a_, R"({"external_id": "crm-7"})", clear_id, kT0 + 2h), ids_of({"alice", "carol"}));
  EXPECT_EQ(get("alice").external_id, std::nullopt);
}

TEST_F(UserQueryStoreTest, UpdateWhereWithoutConditionsIsTheWholeProjectOnly) {
  add_fixture();
  identity::UserChanges changes;
  changes.tags = std::vector<std::string>{};
  EXPECT_EQ(update_where(project_a_, "{}", changes, kT0 + 1h), ids_of({"alice", "bob", "carol", "guest", "dave"}));
  EXPECT_THAT(names("tags[exists]=true"), IsEmpty());
  EXPECT_EQ(get("other-alice").tags, std::vector<std::string>{"vip"});
  EXPECT_THAT(update_where(project_b_, R"({"email": "Alice@Example.com", "login": "alice"})", changes, kT0 + 1h),
              ElementsAre(users_.at("other-alice").id));
}

TEST_F(UserQueryStoreTest, UpdateWhereIsAllOrNothing) {
  add_fixture();
  identity::UserChanges changes;
  changes.active = false;
  // The transaction is refused after the update: nothing stays.
  Status refused = store_->write([&](Repositories& r) -> Status {
    auto where = identity::parse_user_filter(json::object{});
    EXPECT_EQ(r.users.update_where(project_a_, *where, changes, kT0 + 1h).size(), 5u);
    return fail(Error::conflict("test", "refused"));
  });
  EXPECT_FALSE(refused);
  EXPECT_THAT(names("active=false"), ElementsAre("bob"));

  // One row failing mid-statement fails the whole statement.
  Connection conn(dir_.str() + "/tessera.db", false, "normal");
  conn.exec("CREATE TRIGGER refuse_dave BEFORE UPDATE ON users WHEN OLD.full_name = 'Dave' BEGIN SELECT RAISE(ABORT, 'no'); END");
  EXPECT_THROW(update_where(project_a_, "{}", changes, kT0 + 1h), StoreFailure);
  EXPECT_THAT(names("active=false"), ElementsAre("bob"));
  conn.exec("DROP TRIGGER refuse_dave");
  EXPECT_EQ(update_where(project_a_, "{}", changes, kT0 + 1h).size(), 5u);
}

// ---- bulk delete ----

TEST_F(UserQueryStoreTest, RemoveWhereDeletesMatchedUsersAndTheirSessions) {
  add_fixture();
  session::Session s;
  s.id = make_uuid_v7(kT0);
  s.project_id = project_a_;
  s.user_id = users_.at("bob").id;
  s.token_hash = crypto::token_hash(crypto::make_token(crypto::kSessionTokenPrefix));
  s.created_at = s.last_used_at = kT0;
  s.expires_at = s.idle_expires_at = kT0 + 1h;
  store_->write([&](Repositories& r) { r.sessions.insert(s); });

  EXPECT_EQ(remove_where(project_a_, R"({"active": false})"), ids_of({"bob"}));
  EXPECT_FALSE(exists("bob"));
  EXPECT_FALSE(store_->read([&](Repositories& r) { return r.sessions.find_by_token_hash(s.token_hash); }));
  EXPECT_THAT(remove_where(project_a_, R"({"active": false})"), IsEmpty());

  EXPECT_EQ(remove_where(project_a_, R"({"data.age": {"lt": 18}, "tags": {"exists": false}})"), ids_of({"carol"}));
  EXPECT_EQ(remove_where(project_a_, "{}"), ids_of({"alice", "guest", "dave"}));
  EXPECT_THAT(names(""), IsEmpty());
  EXPECT_TRUE(exists("other-alice"));  // another project is never touched
}

TEST_F(UserQueryStoreTest, RemoveWhereIsAllOrNothing) {
  add_fixture();
  Connection conn(dir_.str() + "/tessera.db", false, "normal");
  conn.exec("CREATE TRIGGER keep_dave BEFORE DELETE ON users WHEN OLD.full_name = 'Dave' BEGIN SELECT RAISE(ABORT, 'no'); END");
  EXPECT_THROW(remove_where(project_a_, "{}"), StoreFailure);
  EXPECT_EQ(names("").size(), 5u);
}

}  // namespace
}  // namespace tessera::store::sqlite
