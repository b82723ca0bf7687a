// identity/identifiers: email, login and phone rules, case-folded keys, and code-point counting.
#include "identity/identifiers.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tessera::identity {
namespace {

TEST(ValidEmail, AcceptsCommonAddresses) {
  for (const char* email : {
           "alice@example.com",
           "Alice.Smith@Example.COM",
           "a.b+tag@sub.example.co.uk",
           "o'brien@example.ie",
           "user_name-1@my-host.example",
           "x@ab.cd",
           "jörg@exämple.de",  // internationalized local part and domain
       }) {
    EXPECT_TRUE(valid_email(email)) << email;
  }
}

TEST(ValidEmail, RejectsMalformedAddresses) {
  for (const char* email : {
           "",
           "alice",
           "@example.com",
           "alice@",
           "alice@example",          // one label
           "alice@example.c",        // one-letter top-level label
           ".alice@example.com",
           "alice.@example.com",
           "al..ice@example.com",
           "al ice@example.com",
           "alice@exa mple.com",
           "alice@-example.com",
           "alice@example-.com",
           "alice@example..com",
           "alice@.example.com",
           "alice@example.com.",
           "a@b@example.com",
           "alice@exa_mple.com",
           "<alice@example.com>",
       }) {
    EXPECT_FALSE(valid_email(email)) << email;
  }
}

TEST(ValidEmail, LengthLimits) {
  std::string local64(64, 'a');
  EXPECT_TRUE(valid_email(local64 + "@example.com"));
  EXPECT_FALSE(valid_email(local64 + "a@example.com"));
  std::string label63(63, 'b');
  EXPECT_TRUE(valid_email("a@" + label63 + ".com"));
  EXPECT_FALSE(valid_email("a@" + label63 + "b.com"));
  // 254 characters in all is the most an address may have.
  std::string domain = std::string(63, 'c') + "." + std::string(63, 'd') + "." + std::string(63, 'e') + ".";
  std::string at_limit = std::string(254 - 1 - domain.size() - 2, 'a') + "@" + domain + "io";
  ASSERT_EQ(at_limit.size(), 254u);
  EXPECT_TRUE(valid_email(at_limit));
  EXPECT_FALSE(valid_email("a" + at_limit));
}

TEST(ValidLogin, AcceptsLettersDigitsAndSeparators) {
  for (const char* login : {"bob", "Bob", "b0b", "42abc", "bob.smith", "bob_smith", "bob-smith", "a.b_c-d"}) {
    EXPECT_TRUE(valid_login(login)) << login;
  }
  EXPECT_TRUE(valid_login(std::string(64, 'x')));
}

TEST(ValidLogin, RejectsOtherForms) {
  for (const char* login : {"", "ab", ".bob", "_bob", "-bob", "bob smith", "bob@smith", "bób", "bob!", "bob/x"}) {
    EXPECT_FALSE(valid_login(login)) << login;
  }
  EXPECT_FALSE(valid_login(std::string(65, 'x')));
}

TEST(ValidPhone, AcceptsE164) {
  for (const char* phone : {"+14155550123", "+4930123456", "+1234567", "+123456789012345"}) {
    EXPECT_TRUE(valid_phone(phone)) << phone;
  }
}

TEST(ValidPhone, RejectsOtherForms) {
  for (const char* phone : {
           "",
           "+",
           "+123456",            // 6 digits
           "+1234567890123456",  // 16 digits
           "14155550123",        // no '+'
           "+04155550123",       // country code cannot start with 0
           "+1 415 555 0123",
           "+1-415-555-0123",
           "+1415555012a",
           "++14155550123",
           "0014155550123",
       }) {
    EXPECT_FALSE(valid_phone(phone)) << phone;
  }
}

TEST(IdentifierKey, FoldsAsciiCaseOfEmailsAndLogins) {
  EXPECT_EQ(identifier_key(IdentifierKind::email, "Alice@Example.COM"), "alice@example.com");
  EXPECT_EQ(identifier_key(IdentifierKind::login, "Bob.SMITH_1"), "bob.smith_1");
  EXPECT_EQ(identifier_key(IdentifierKind::email, "alice@example.com"), "alice@example.com");
  EXPECT_EQ(identifier_key(IdentifierKind::email, identifier_key(IdentifierKind::email, "MiXeD@X.io")),
            identifier_key(IdentifierKind::email, "MiXeD@X.io"));
}

TEST(IdentifierKey, LeavesNonAsciiBytesIntact) {
  // Only ASCII letters fold: multi-byte sequences must not be corrupted.
  EXPECT_EQ(identifier_key(IdentifierKind::email, "JÖRG@EXAMPLE.DE"), "jÖrg@example.de");
}

TEST(IdentifierKey, PhonesAreKeptAsGiven) {
  EXPECT_EQ(identifier_key(IdentifierKind::phone, "+14155550123"), "+14155550123");
}

TEST(Utf8Length, CountsCodePoints) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("é"), 1u);        // 2 bytes
  EXPECT_EQ(utf8_length("日本"), 2u);      // 3 bytes each
  EXPECT_EQ(utf8_length("😀"), 1u);        // 4 bytes
  EXPECT_EQ(utf8_length("aé日😀"), 4u);
  EXPECT_EQ(utf8_length(std::string("a\0b", 3)), 3u);
}

}  // namespace
}  // namespace tessera::identity
