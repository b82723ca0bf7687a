#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "licenses/license_key.hpp"

using namespace tessera::licenses;

namespace {
const std::regex kShape("^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$");
}

TEST(LicenseKey, HasFiveGroupsOfCrockfordBase32AndDiffersEachTime) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string key = make_license_key();
    EXPECT_TRUE(std::regex_match(key, kShape)) << key;
    EXPECT_TRUE(seen.insert(key).second);
    EXPECT_TRUE(normalize_license_key(key).has_value()) << key;
  }
}

TEST(LicenseKey, InputIsForgiving) {
  std::string key = make_license_key();
  std::string plain = *normalize_license_key(key);
  EXPECT_EQ(plain.size(), 25u);
  EXPECT_EQ(format_license_key(plain), key);
  std::string lower;
  for (char c : key) lower += c == '-' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(normalize_license_key(lower), plain);
  // I and L read as 1, O as 0: a key holding 1s and 0s can be typed either way.
  std::string misread = key;
  for (char& c : misread) c = c == '1' ? 'l' : c == '0' ? 'O' : c;
  EXPECT_EQ(normalize_license_key(misread), plain);
}

TEST(LicenseKey, EverySingleCharacterTypoIsMostlyCaught) {
  // The check character is 5 bits of a hash: a changed character slips through 1 time in 32.
  int caught = 0, tries = 0;
  for (int k = 0; k < 40; ++k) {
    std::string key = make_license_key();
    for (size_t i = 0; i < key.size(); ++i) {
      if (key[i] == '-') continue;
      std::string typo = key;
      typo[i] = key[i] == 'Z' ? 'Y' : 'Z';
      ++tries;
      caught += !normalize_license_key(typo).has_value();
    }
  }
  EXPECT_GT(caught, tries * 9 / 10);
}

TEST(LicenseKey, RefusesWhatIsNotAKey) {
  std::string key = make_license_key();
  EXPECT_FALSE(normalize_license_key(""));
  EXPECT_FALSE(normalize_license_key(key.substr(0, key.size() - 1)));  // 24 characters
  EXPECT_FALSE(normalize_license_key(key + "A"));                        // 26
  EXPECT_FALSE(normalize_license_key("U" + key.substr(1)));  // U is not Crockford base32
  EXPECT_FALSE(normalize_license_key("*" + key.substr(1)));
  EXPECT_FALSE(normalize_license_key(std::string(1000, 'A')));
}
