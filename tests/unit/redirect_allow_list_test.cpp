// external/redirect_allow_list: where a browser may be sent after an external sign-in (docs/external.md,
// "redirect_allow_list"). Tessera must never become an open redirect, so most cases here are tricks that
// a lax comparison (prefix of the whole string, case, userinfo, dot segments) would let through.
#include "external/redirect_allow_list.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tessera::external {
namespace {

using List = std::vector<std::string>;

TEST(RedirectAllowed, AnEmptyListAllowsNothing) {
  EXPECT_FALSE(redirect_allowed({}, "https://app.example.com/cb"));
}

TEST(RedirectAllowed, AllowsAnExactMatch) {
  List list = {"https://app.example.com/auth/callback"};
  EXPECT_TRUE(redirect_allowed(list, "https://app.example.com/auth/callback"));
  EXPECT_TRUE(redirect_allowed({"https://other.example.com/", "https://app.example.com/auth/callback"},
                               "https://app.example.com/auth/callback"));
  EXPECT_TRUE(redirect_allowed({"http://localhost:3000/cb"}, "http://localhost:3000/cb"));
}

TEST(RedirectAllowed, TheSchemesDefaultPortIsThePort) {
  EXPECT_TRUE(redirect_allowed({"https://app.example.com/cb"}, "https://app.example.com:443/cb"));
  EXPECT_TRUE(redirect_allowed({"https://app.example.com:443/cb"}, "https://app.example.com/cb"));
  EXPECT_TRUE(redirect_allowed({"http://app.example.com/cb"}, "http://app.example.com:80/cb"));
  EXPECT_FALSE(redirect_allowed({"https://app.example.com/cb"}, "https://app.example.com:80/cb"));
  EXPECT_FALSE(redirect_allowed({"http://app.example.com/cb"}, "http://app.example.com:443/cb"));
}

TEST(RedirectAllowed, RefusesAnotherSchemeHostOrPort) {
  List list = {"https://app.example.com/cb"};
  EXPECT_FALSE(redirect_allowed(list, "http://app.example.com/cb"));
  EXPECT_FALSE(redirect_allowed(list, "https://evil.example.com/cb"));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com.evil.com/cb"));
  EXPECT_FALSE(redirect_allowed(list, "https://evilapp.example.com/cb"));
  EXPECT_FALSE(redirect_allowed(list, "https://sub.app.example.com/cb"));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com:8443/cb"));
  EXPECT_FALSE(redirect_allowed({"http://localhost:3000/cb"}, "http://localhost:3001/cb"));
  EXPECT_FALSE(redirect_allowed({"http://localhost:3000/cb"}, "http://localhost/cb"));
}

TEST(RedirectAllowed, HostAndSchemeAreCaseInsensitive) {
  EXPECT_TRUE(redirect_allowed({"https://app.example.com/cb"}, "https://APP.Example.COM/cb"));
  EXPECT_TRUE(redirect_allowed({"https://App.Example.com/cb"}, "https://app.example.com/cb"));
  EXPECT_TRUE(redirect_allowed({"https://app.example.com/cb"}, "HTTPS://app.example.com/cb"));
}

TEST(RedirectAllowed, PathsAreCaseSensitive) {
  EXPECT_FALSE(redirect_allowed({"https://app.example.com/cb"}, "https://app.example.com/CB"));
}

TEST(RedirectAllowed, APathWithoutTrailingSlashMatchesExactly) {
  List list = {"https://app.example.com/cb"};
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com/cb2"));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com/cb/"));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com/cb/x"));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com/c"));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com/"));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com"));
}

TEST(RedirectAllowed, APathEndingInSlashIsAPrefix) {
  List list = {"https://app.example.com/app/"};
  EXPECT_TRUE(redirect_allowed(list, "https://app.example.com/app/"));
  EXPECT_TRUE(redirect_allowed(list, "https://app.example.com/app/callback"));
  EXPECT_TRUE(redirect_allowed(list, "https://app.example.com/app/a/b/c"));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com/app"));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com/application"));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com/other/app/"));

  List root = {"https://app.example.com/"};
  EXPECT_TRUE(redirect_allowed(root, "https://app.example.com/"));
  EXPECT_TRUE(redirect_allowed(root, "https://app.example.com/anything/at/all"));
  EXPECT_FALSE(redirect_allowed(root, "https://evil.com/"));
}

TEST(RedirectAllowed, RefusesDotSegments) {
  List list = {"https://app.example.com/app/"};
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com/app/../admin"));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com/app/./x"));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com/app/.."));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com/app/%2e%2e/admin"));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com/app/%2E%2E/admin"));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com/app/.%2e/admin"));
  EXPECT_FALSE(redirect_allowed(list, "https://app.example.com/app/%2e/x"));
  // Dots inside a segment are a name, not a dot segment.
  EXPECT_TRUE(redirect_allowed(list, "https://app.example.com/app/..hidden"));
  EXPECT_TRUE(redirect_allowed(list, "https://app.example.com/app/file.html"));
}

TEST(RedirectAllowed, RefusesUserinfo) {
  EXPECT_FALSE(redirect_allowed({"https://app.example.com/"}, "https://app.example.com@evil.com/"));
  EXPECT_FALSE(redirect_allowed({"https://evil.com/"}, "https://app.example.com@evil.com/"));
  EXPECT_FALSE(redirect_allowed({"https://app.example.com/"}, "https://user:pass@app.example.com/"));
  EXPECT_FALSE(redirect_allowed({"https://app.example.com/"}, "https://user@app.example.com/"));
  EXPECT_FALSE(redirect_allowed({"https://app.example.com/"}, "https://@app.example.com/"));
  // An entry with userinfo matches nothing, not even itself.
  EXPECT_FALSE(redirect_allowed({"https://user@app.example.com/"}, "https://user@app.example.com/"));
}

TEST(RedirectAllowed, RefusesFragments) {
  EXPECT_FALSE(redirect_allowed({"https://app.example.com/cb"}, "https://app.example.com/cb#"));
  EXPECT_FALSE(redirect_allowed({"https://app.example.com/cb"}, "https://app.example.com/cb#access_token=x"));
  EXPECT_FALSE(redirect_allowed({"https://app.example.com/"}, "https://app.example.com/#@evil.com"));
}

TEST(RedirectAllowed, AllowsAQueryOnRedirectTo) {
  EXPECT_TRUE(redirect_allowed({"https://app.example.com/cb"}, "https://app.example.com/cb?next=%2Fhome&x=1"));
  EXPECT_TRUE(redirect_allowed({"https://app.example.com/cb"}, "https://app.example.com/cb?"));
  EXPECT_TRUE(redirect_allowed({"https://app.example.com/app/"}, "https://app.example.com/app/x?y=z"));
  // A query does not extend the path.
  EXPECT_FALSE(redirect_allowed({"https://app.example.com/cb"}, "https://app.example.com/cb2?x"));
}

TEST(RedirectAllowed, RefusesWhatIsNotAnAbsoluteUrl) {
  List list = {"https://app.example.com/"};
  for (auto bad : {"", "/relative", "//evil.com/", "app.example.com/", "https://app.example.com/has space", "https://app.example.com/\\evil",
                   "https://app.example.com/\n", " https://app.example.com/"}) {
    EXPECT_FALSE(redirect_allowed(list, bad)) << bad;
  }
  std::string long_url = "https://app.example.com/" + std::string(2048, 'a');
  EXPECT_FALSE(redirect_allowed({"https://app.example.com/"}, long_url));
}

TEST(RedirectAllowed, CustomSchemes) {
  List list = {"com.example.app:/oauth"};
  EXPECT_TRUE(redirect_allowed(list, "com.example.app:/oauth"));
  EXPECT_TRUE(redirect_allowed(list, "com.example.app:/oauth?state=1"));
  EXPECT_TRUE(redirect_allowed(list, "COM.EXAMPLE.APP:/oauth"));
  EXPECT_FALSE(redirect_allowed(list, "com.example.app:/oauth2"));
  EXPECT_FALSE(redirect_allowed(list, "com.example.app:/oauth/x"));
  EXPECT_FALSE(redirect_allowed(list, "com.example.other:/oauth"));
  EXPECT_FALSE(redirect_allowed(list, "com.example.app://oauth"));  // "oauth" is then a host
  EXPECT_FALSE(redirect_allowed(list, "com.example.app:/oauth#x"));
  EXPECT_FALSE(redirect_allowed(list, "https:/oauth"));

  EXPECT_TRUE(redirect_allowed({"myapp://callback"}, "myapp://callback"));
  EXPECT_FALSE(redirect_allowed({"myapp://callback"}, "myapp://evil"));
  EXPECT_FALSE(redirect_allowed({"myapp://callback"}, "otherapp://callback"));
}

TEST(RedirectAllowed, SkipsInvalidEntries) {
  EXPECT_TRUE(redirect_allowed({"not a url", "/relative", "https://app.example.com/cb"}, "https://app.example.com/cb"));
  EXPECT_FALSE(redirect_allowed({"not a url"}, "not a url"));
}

TEST(AllowListEntryProblem, AcceptsAbsoluteUrls) {
  for (auto entry : {"https://app.example.com/cb", "https://app.example.com/", "https://app.example.com", "http://localhost:3000/cb",
                     "https://app.example.com/app/?x=1", "com.example.app:/oauth", "myapp://callback", "https://[::1]:8443/cb"}) {
    EXPECT_EQ(allow_list_entry_problem(entry), std::nullopt) << entry;
  }
  EXPECT_EQ(allow_list_entry_problem("https://a.example.com/" + std::string(2048 - 22, 'a')), std::nullopt);
}

TEST(AllowListEntryProblem, RefusesWhatCouldNeverMatchSafely) {
  for (auto entry : {"", "/cb", "app.example.com/cb", "//app.example.com/cb", "https://app.example.com/cb#frag", "https://app.example.com/#",
                     "https://user:pw@app.example.com/", "https://user@app.example.com/", "https://app.example.com/a/../b",
                     "https://app.example.com/a/./b", "https://app.example.com/%2e%2e/", "https://app.example.com/has space"}) {
    EXPECT_NE(allow_list_entry_problem(entry), std::nullopt) << entry;
  }
  EXPECT_NE(allow_list_entry_problem("https://a.example.com/" + std::string(2048 - 21, 'a')), std::nullopt);
  EXPECT_EQ(allow_list_entry_problem("https://u@app.example.com/"), "must not contain user:password");
  EXPECT_EQ(allow_list_entry_problem("https://app.example.com/../x"), "must not contain . or .. segments");
}

}  // namespace
}  // namespace tessera::external
