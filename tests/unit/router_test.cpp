// http/router: static and {param} routes; 404 not_found for unknown paths, 405 with the allowed methods.
#include "http/router.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tessera::http {
namespace {

using beast_http::verb;

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add(verb::get, "/healthz", {});
    router_.add(verb::get, "/v1/me", {});
    router_.add(verb::patch, "/v1/me", {});
    router_.add(verb::delete_, "/v1/me", {});
    router_.add(verb::get, "/v1/sessions", {});
    router_.add(verb::delete_, "/v1/sessions/{id}", {});
    router_.add(verb::get, "/v1/users/lookup", {});
    router_.add(verb::get, "/v1/users/{id}", {});
    router_.add(verb::patch, "/v1/users/{id}", {});
    router_.add(verb::put, "/v1/contexts/{id}/users/{user_id}", {});
    router_.add(verb::delete_, "/v1/contexts/{id}/users/{user_id}", {});
  }

  // Builds the context from a real Beast request, as the server does.
  Router::Match route(verb method, const std::string& target) {
    request_ = Request(method, target, 11);
    context_.emplace(RequestContext{request_, {}, {}, {}});
    std::string_view path = request_.target();
    path = path.substr(0, path.find('?'));  // the server routes on the path without the query
    return router_.match(method, path, *context_);
  }

  Router router_;
  Request request_;
  std::optional<RequestContext> context_;
};

TEST_F(RouterTest, MatchesAStaticRoute) {
  auto m = route(verb::get, "/v1/me");
  ASSERT_NE(m.route, nullptr) << m.error.code;
  EXPECT_EQ(m.route->pattern, "/v1/me");
  EXPECT_EQ(m.route->method, verb::get);
  EXPECT_TRUE(context_->params.empty());
}

TEST_F(RouterTest, PicksTheRouteOfTheMethod) {
  auto m = route(verb::patch, "/v1/me");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method, verb::patch);
}

TEST_F(RouterTest, ExtractsAParameter) {
  auto m = route(verb::delete_, "/v1/sessions/0190b2a4-5c3e-7d8f-9a0b-1c2d3e4f5a6b");
  ASSERT_NE(m.route, nullptr) << m.error.code;
  EXPECT_EQ(m.route->pattern, "/v1/sessions/{id}");
  EXPECT_EQ(context_->param("id"), "0190b2a4-5c3e-7d8f-9a0b-1c2d3e4f5a6b");
  EXPECT_EQ(context_->param("missing"), "");
}

TEST_F(RouterTest, ExtractsSeveralParameters) {
  auto m = route(verb::put, "/v1/contexts/ctx-1/users/user-2");
  ASSERT_NE(m.route, nullptr) << m.error.code;
  EXPECT_EQ(m.route->pattern, "/v1/contexts/{id}/users/{user_id}");
  ASSERT_EQ(context_->params.size(), 2u);
  EXPECT_EQ(context_->param("id"), "ctx-1");
  EXPECT_EQ(context_->param("user_id"), "user-2");
}

TEST_F(RouterTest, QueryStringDoesNotAffectRouting) {
  auto m = route(verb::get, "/v1/users/abc?fields=email&x=/y");
  ASSERT_NE(m.route, nullptr) << m.error.code;
  EXPECT_EQ(context_->param("id"), "abc");
  auto s = route(verb::get, "/v1/sessions?limit=2");
  ASSERT_NE(s.route, nullptr) << s.error.code;
  EXPECT_EQ(s.route->pattern, "/v1/sessions");
}

TEST_F(RouterTest, StaticSegmentWinsOverAParameter) {
  auto m = route(verb::get, "/v1/users/lookup");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/users/lookup");
  auto p = route(verb::get, "/v1/users/abc");
  ASSERT_NE(p.route, nullptr);
  EXPECT_EQ(p.route->pattern, "/v1/users/{id}");
  EXPECT_EQ(context_->param("id"), "abc");
}

TEST_F(RouterTest, HeadIsServedByGet) {
  auto m = route(verb::head, "/healthz");
  ASSERT_NE(m.route, nullptr) << m.error.code;
  EXPECT_EQ(m.route->method, verb::get);
  auto p = route(verb::head, "/v1/users/abc");
  ASSERT_NE(p.route, nullptr) << p.error.code;
  EXPECT_EQ(context_->param("id"), "abc");
}

TEST_F(RouterTest, UnknownPathIsNotFound) {
  for (const char* target : {"/nope", "/v1", "/v1/me/extra", "/v1/sessions/", "/v1/sessions/a/b",
                             "/v1/contexts/c/users/", "/v1/contexts//users/u", "/V1/me", "/v1/me/"}) {
    auto m = route(verb::get, target);
    EXPECT_EQ(m.route, nullptr) << target;
    EXPECT_EQ(m.error.status, 404) << target;
    EXPECT_EQ(m.error.code, "not_found") << target;
    EXPECT_TRUE(context_->params.empty()) << target;
  }
}

TEST_F(RouterTest, PathsNotStartingWithASlashAreNotFound) {
  for (const char* target : {"", "v1/me", "*", "http://example.com/v1/me"}) {
    auto m = route(verb::get, target);
    EXPECT_EQ(m.route, nullptr) << target;
    EXPECT_EQ(m.error.code, "not_found") << target;
  }
}

TEST_F(RouterTest, KnownStaticPathWithAnotherMethodIsMethodNotAllowed) {
  auto m = route(verb::post, "/v1/me");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.error.status, 405);
  EXPECT_EQ(m.error.code, "method_not_allowed");
  EXPECT_EQ(m.error.internal, "GET, PATCH, DELETE");  // becomes the Allow header
  EXPECT_NE(m.error.message.find("POST"), std::string::npos) << m.error.message;
}

TEST_F(RouterTest, KnownParameterPathWithAnotherMethodIsMethodNotAllowed) {
  auto m = route(verb::delete_, "/v1/users/abc");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.error.status, 405);
  EXPECT_EQ(m.error.code, "method_not_allowed");
  EXPECT_EQ(m.error.internal, "GET, PATCH");
  EXPECT_TRUE(context_->params.empty());

  auto s = route(verb::get, "/v1/sessions/abc");
  EXPECT_EQ(s.error.status, 405);
  EXPECT_EQ(s.error.internal, "DELETE");
}

TEST_F(RouterTest, RoutesKeepTheirRegistrationIndex) {
  const auto& routes = router_.routes();
  ASSERT_EQ(routes.size(), 11u);
  for (size_t i = 0; i < routes.size(); ++i) EXPECT_EQ(routes[i].index, i);
  auto m = route(verb::delete_, "/v1/sessions/x");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->index, 5u);
}

TEST(RouterRoot, MatchesTheRootPath) {
  Router router;
  router.add(verb::get, "/", {});
  Request request(verb::get, "/", 11);
  RequestContext ctx{request, {}, {}, {}};
  auto m = router.match(verb::get, "/", ctx);
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/");
  RequestContext other{request, {}, {}, {}};
  EXPECT_EQ(router.match(verb::get, "/x", other).error.code, "not_found");
}

}  // namespace
}  // namespace tessera::http
