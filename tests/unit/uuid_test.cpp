// core/uuid: UUID v7 layout (RFC 9562), time ordering, and the canonical-form check.
#include "core/uuid.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "crypto/random.hpp"

namespace tessera {
namespace {

using namespace std::chrono_literals;

const Timestamp kStart = from_micros(1'795'000'000'123'456);  // late 2026

class UuidTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { crypto::init(); }
};

TEST_F(UuidTest, V7IsCanonicalWithVersionAndVariantBits) {
  for (int i = 0; i < 200; ++i) {
    std::string id = make_uuid_v7(kStart);
    ASSERT_TRUE(is_uuid(id)) << id;
    EXPECT_EQ(id[14], '7') << id;  // version nibble
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // variant 10xx
  }
}

TEST_F(UuidTest, V7StartsWithTheUnixMilliseconds) {
  std::string id = make_uuid_v7(kStart);
  std::string hex = id.substr(0, 8) + id.substr(9, 4);  // the first 48 bits
  EXPECT_EQ(std::stoull(hex, nullptr, 16), static_cast<unsigned long long>(to_micros(kStart) / 1000));
}

TEST_F(UuidTest, V7SortsByCreationTime) {
  std::vector<std::string> ids;
  Timestamp t = kStart;
  for (int i = 0; i < 100; ++i) {
    ids.push_back(make_uuid_v7(t));
    t += 1ms;
  }
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_LT(ids[i - 1], ids[i]) << i;
  // Across a wide span too: a year apart.
  EXPECT_LT(make_uuid_v7(kStart), make_uuid_v7(kStart + std::chrono::hours(24 * 365)));
}

TEST_F(UuidTest, V7IsUniqueWithinOneMillisecond) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(make_uuid_v7(kStart));
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(IsUuid, AcceptsCanonicalLowercaseOfAnyVersion) {
  EXPECT_TRUE(is_uuid("0190b2a4-5c3e-7d8f-9a0b-1c2d3e4f5a6b"));
  EXPECT_TRUE(is_uuid("123e4567-e89b-12d3-a456-426614174000"));  // v1
  EXPECT_TRUE(is_uuid("00000000-0000-0000-0000-000000000000"));
}

TEST(IsUuid, RejectsOtherForms) {
  for (const char* text : {
           "",
           "0190B2A4-5C3E-7D8F-9A0B-1C2D3E4F5A6B",   // uppercase
           "0190b2a45c3e7d8f9a0b1c2d3e4f5a6b",       // no hyphens
           "{0190b2a4-5c3e-7d8f-9a0b-1c2d3e4f5a6b}", // braces
           "0190b2a4-5c3e-7d8f-9a0b-1c2d3e4f5a6",    // short
           "0190b2a4-5c3e-7d8f-9a0b-1c2d3e4f5a6b0",  // long
           "0190b2a4-5c3e-7d8f-9a0b1-c2d3e4f5a6b",   // hyphen misplaced
           "0190b2a4-5c3e-7d8f-9a0g-1c2d3e4f5a6b",   // not hex
           "0190b2a4_5c3e_7d8f_9a0b_1c2d3e4f5a6b",
       }) {
    EXPECT_FALSE(is_uuid(text)) << text;
  }
}

}  // namespace
}  // namespace tessera
