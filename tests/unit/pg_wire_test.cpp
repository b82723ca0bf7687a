// store/postgres: the placeholder rewrite of the shared SQL, URL redaction for logs, and the payload of
// the change notifications that keep other nodes' caches coherent.
#include <gtest/gtest.h>

#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_notifications.hpp"

using namespace tessera::store;
using namespace tessera::store::postgres;

TEST(PostgresPlaceholders, NumberedAndBareParametersBecomeDollarNumbers) {
  EXPECT_EQ(to_postgres_placeholders("SELECT a FROM t WHERE b = ?2 AND c = ?1"),
            std::make_pair(std::string("SELECT a FROM t WHERE b = $2 AND c = $1"), 2));
  EXPECT_EQ(to_postgres_placeholders("x = ? AND y IN (?, ?)"), std::make_pair(std::string("x = $1 AND y IN ($2, $3)"), 3));
  EXPECT_EQ(to_postgres_placeholders("(id < ?12 OR ?12 IS NULL)"), std::make_pair(std::string("(id < $12 OR $12 IS NULL)"), 12));
  EXPECT_EQ(to_postgres_placeholders("SELECT 1"), std::make_pair(std::string("SELECT 1"), 0));
}

TEST(PostgresPlaceholders, QuotedTextIsLeftAlone) {
  EXPECT_EQ(to_postgres_placeholders("SELECT '?', \"a?b\", 'it''s ?' WHERE x = ?"),
            std::make_pair(std::string("SELECT '?', \"a?b\", 'it''s ?' WHERE x = $1"), 1));
}

TEST(PostgresUrl, PasswordsNeverReachLogs) {
  EXPECT_EQ(redact_url("postgres://app:s3cret@db.internal:5432/tessera"), "postgres://app:***@db.internal:5432/tessera");
  EXPECT_EQ(redact_url("postgres://app@db/tessera"), "postgres://app@db/tessera");
  EXPECT_EQ(redact_url("postgresql://db/tessera?sslmode=verify-full"), "postgresql://db/tessera?sslmode=verify-full");
}

TEST(ChangeNotifications, RoundTripKeysOfAnyBytes) {
  std::vector<Change> changes{{Topic::sessions, std::string("\x00\xff\n:ab", 6)}, {Topic::users, "0192-user"},
                              {Topic::permissions, ""}};
  auto decoded = decode_changes(encode_changes("node-a", changes), "node-b");
  ASSERT_EQ(decoded.size(), 3u);
  for (size_t i = 0; i < changes.size(); ++i) {
    EXPECT_EQ(decoded[i].topic, changes[i].topic);
    EXPECT_EQ(decoded[i].key, changes[i].key);
  }
}

TEST(ChangeNotifications, ANodeIgnoresItsOwn) {
  EXPECT_TRUE(decode_changes(encode_changes("node-a", {{Topic::users, "u"}}), "node-a").empty());
}

TEST(ChangeNotifications, TooManyForOnePayloadBecomeWholeTopics) {
  std::vector<Change> many;
  for (int i = 0; i < 500; ++i) many.push_back({Topic::users, "user-" + std::to_string(i)});
  many.push_back({Topic::sessions, std::string(32, 'x')});
  std::string payload = encode_changes("node-a", many);
  EXPECT_LE(payload.size(), kMaxNotificationPayload);
  auto decoded = decode_changes(payload, "node-b");
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[0].topic, Topic::users);
  EXPECT_EQ(decoded[0].key, "");
  EXPECT_EQ(decoded[1].topic, Topic::sessions);
  EXPECT_EQ(decoded[1].key, "");
}

TEST(ChangeNotifications, MalformedEntriesAreSkipped) {
  auto decoded = decode_changes("node-a\n99:00\nx:00\n1:zz\n1:0\n0:6869", "node-b");
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoded[0].topic, Topic::users);
  EXPECT_EQ(decoded[0].key, "hi");
}
