// core/clock: RFC 3339 formatting (UTC, microseconds) and parsing (Z, offsets, fractions), ManualClock.
#include "core/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace tessera {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

Timestamp at(year_month_day day, Micros time_of_day) { return Timestamp(sys_days(day)) + time_of_day; }

const Timestamp kExample = at(2026y / 11 / 24, 10h + 123456us);  // 2026-11-24T10:00:00.123456Z

TEST(FormatRfc3339, WritesUtcWithMicroseconds) {
  EXPECT_EQ(format_rfc3339(kExample), "2026-11-24T10:00:00.123456Z");
  EXPECT_EQ(format_rfc3339(from_micros(0)), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339(at(2024y / 2 / 29, 23h + 59min + 59s + 7us)), "2024-02-29T23:59:59.000007Z");
}

TEST(FormatRfc3339, HandlesTimesBeforeTheEpoch) {
  EXPECT_EQ(format_rfc3339(from_micros(-1)), "1969-12-31T23:59:59.999999Z");
}

TEST(ParseRfc3339, ReadsWhatFormatWrites) {
  for (Timestamp t : {kExample, from_micros(0), from_micros(-1), at(2099y / 12 / 31, 23h + 59min + 59s + 999999us)}) {
    Timestamp parsed;
    ASSERT_TRUE(parse_rfc3339(format_rfc3339(t), parsed)) << format_rfc3339(t);
    EXPECT_EQ(parsed, t) << format_rfc3339(t);
  }
}

TEST(ParseRfc3339, FractionIsOptional) {
  Timestamp t;
  ASSERT_TRUE(parse_rfc3339("2026-11-24T10:00:00Z", t));
  EXPECT_EQ(t, at(2026y / 11 / 24, 10h));
}

TEST(ParseRfc3339, ShortAndLongFractions) {
  Timestamp t;
  ASSERT_TRUE(parse_rfc3339("2026-11-24T10:00:00.5Z", t));
  EXPECT_EQ(t, at(2026y / 11 / 24, 10h + 500ms));
  ASSERT_TRUE(parse_rfc3339("2026-11-24T10:00:00.123Z", t));
  EXPECT_EQ(t, at(2026y / 11 / 24, 10h + 123ms));
  // Beyond microseconds the extra digits are dropped (truncated, not rounded).
  ASSERT_TRUE(parse_rfc3339("2026-11-24T10:00:00.1234569Z", t));
  EXPECT_EQ(t, at(2026y / 11 / 24, 10h + 123456us));
}

TEST(ParseRfc3339, OffsetsConvertToUtc) {
  Timestamp t;
  ASSERT_TRUE(parse_rfc3339("2026-11-24T12:00:00+02:00", t));
  EXPECT_EQ(t, at(2026y / 11 / 24, 10h));
  ASSERT_TRUE(parse_rfc3339("2026-11-24T04:30:00.25-05:30", t));
  EXPECT_EQ(t, at(2026y / 11 / 24, 10h + 250ms));
  ASSERT_TRUE(parse_rfc3339("2026-11-24T10:00:00+00:00", t));
  EXPECT_EQ(t, at(2026y / 11 / 24, 10h));
  // An offset can move the instant to another day.
  ASSERT_TRUE(parse_rfc3339("2026-01-01T01:00:00+03:00", t));
  EXPECT_EQ(t, at(2025y / 12 / 31, 22h));
}

TEST(ParseRfc3339, LowercaseSeparatorsAreAccepted) {
  Timestamp t;
  ASSERT_TRUE(parse_rfc3339("2026-11-24t10:00:00.123456z", t));
  EXPECT_EQ(t, kExample);
}

TEST(ParseRfc3339, RejectsMalformedText) {
  for (const char* text : {
           "",
           "2026-11-24",
           "2026-11-24T10:00:00",         // no zone
           "2026-11-24T10:00Z",           // no seconds
           "2026/11/24T10:00:00Z",
           "2026-11-24X10:00:00Z",
           "26-11-24T10:00:00Z",
           "2026-13-01T00:00:00Z",        // month 13
           "2026-00-10T00:00:00Z",
           "2026-02-30T00:00:00Z",        // no such day
           "2025-02-29T00:00:00Z",        // not a leap year
           "2026-11-24T24:00:00Z",
           "2026-11-24T10:60:00Z",
           "2026-11-24T10:00:61Z",
           "2026-11-24T10:00:00.Z",       // a dot needs digits
           "2026-11-24T10:00:00.12a4Z",
           "2026-11-24T10:00:00+0200",    // offset needs a colon
           "2026-11-24T10:00:00+02",
           "2026-11-24T10:00:00+02:0",
           "2026-11-24T10:00:00+24:00",
           "2026-11-24T10:00:00+02:60",
           "2026-11-24T10:00:00Zjunk",
           "2026-11-24T10:00:00+02:00 ",
           " 2026-11-24T10:00:00Z",
           "2026-11-24T1a:00:00Z",
       }) {
    Timestamp t;
    EXPECT_FALSE(parse_rfc3339(text, t)) << '"' << text << '"';
  }
}

TEST(ManualClock, MovesOnlyWhenAdvanced) {
  ManualClock clock(kExample);
  EXPECT_EQ(clock.now(), kExample);
  EXPECT_EQ(clock.now(), kExample);
  clock.advance(90s);
  EXPECT_EQ(clock.now(), kExample + 90s);
  clock.advance(1us);
  EXPECT_EQ(clock.now(), kExample + 90s + 1us);
}

TEST(Micros, ConvertBothWays) {
  EXPECT_EQ(to_micros(from_micros(1234567890123456)), 1234567890123456);
  EXPECT_EQ(to_micros(kExample), to_micros(from_micros(to_micros(kExample))));
}

}  // namespace
}  // namespace tessera
