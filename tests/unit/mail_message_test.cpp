// events/mail_message (RFC 5322 / MIME building) and events/smtp_sender against Postfix's smtp-sink.
#include "events/mail_message.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "crypto/random.hpp"
#include "events/smtp_sender.hpp"
#include "support/temp_dir.hpp"

namespace tessera::events {
namespace {

using namespace std::chrono_literals;

// 2026-11-24T10:00:00Z (a Tuesday)
const Timestamp kDate = Timestamp(std::chrono::seconds(1795514400));

// --- Independent decoders, so the tests do not trust the encoder to check itself ---

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode_quoted_printable(std::string_view qp) {
  std::string out;
  for (size_t i = 0; i < qp.size(); ++i) {
    if (qp[i] != '=') {
      out += qp[i];
    } else if (qp.substr(i + 1, 2) == "\r\n") {
      i += 2;  // soft line break
    } else {
      int hi = i + 2 < qp.size() ? hex_value(qp[i + 1]) : -1;
      int lo = i + 2 < qp.size() ? hex_value(qp[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        ADD_FAILURE() << "bad escape at " << i << " in " << qp;
        return out;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

std::string decode_base64(std::string_view text) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    size_t v = kAlphabet.find(c);
    if (v == std::string::npos) {
      ADD_FAILURE() << "bad base64 " << text;
      return out;
    }
    bits = bits << 6 | static_cast<uint32_t>(v);
    if ((count += 6) >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  return out;
}

std::string crlf(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' || text[i] == '\n') {
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += "\r\n";
    } else {
      out += text[i];
    }
  }
  return out;
}

std::vector<std::string> split(std::string_view text, std::string_view separator) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t at; (at = text.find(separator, start)) != std::string_view::npos; start = at + separator.size())
    out.emplace_back(text.substr(start, at - start));
  out.emplace_back(text.substr(start));
  return out;
}

std::string header_block(const std::string& message) { return message.substr(0, message.find("\r\n\r\n")); }

// The unfolded value of a header of the top-level header block, "" when absent.
std::string header(const std::string& message, std::string_view name) {
  std::string found;
  bool in_it = false;
  for (const std::string& line : split(header_block(message), "\r\n")) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      if (in_it) found += line;
      continue;
    }
    in_it = line.starts_with(std::string(name) + ": ");
    if (in_it) found = line.substr(name.size() + 2);
  }
  return found;
}

// Decodes a header made of RFC 2047 "B" words separated by folding whitespace; checks each word
// carries whole UTF-8 characters.
std::string decode_words(std::string_view value) {
  std::string out;
  std::istringstream words{std::string(value)};
  for (std::string word; words >> word;) {
    EXPECT_TRUE(word.starts_with("=?UTF-8?B?") && word.ends_with("?=")) << word;
    EXPECT_LE(word.size(), 75u) << word;
    std::string bytes = decode_base64(word.substr(10, word.size() - 12));
    EXPECT_FALSE(bytes.empty());
    if (!bytes.empty()) {
      EXPECT_NE(static_cast<unsigned char>(bytes[0]) & 0xC0, 0x80) << "word starts mid-character";
    }
    out += bytes;
  }
  return out;
}

void expect_wire_format(const std::string& message) {
  for (size_t i = 0; i < message.size(); ++i) {
    bool bare_lf = message[i] == '\n' && (i == 0 || message[i - 1] != '\r');
    bool bare_cr = message[i] == '\r' && (i + 1 == message.size() || message[i + 1] != '\n');
    ASSERT_FALSE(bare_lf || bare_cr) << "bare CR or LF at " << i;
    ASSERT_LT(static_cast<unsigned char>(message[i]), 0x80) << "8-bit byte at " << i;
  }
  for (const std::string& line : split(message, "\r\n")) EXPECT_LE(line.size() + 2, 78u) << line;
}

struct Part {
  std::string headers;
  std::string body;  // still encoded
};

// The parts of a multipart body. Between "--boundary" delimiters each piece is CRLF, the part, CRLF
// (RFC 2046 5.1.1: the CRLF before a delimiter belongs to it); the last piece is "--" CRLF.
std::vector<Part> parts(const std::string& message, const std::string& boundary) {
  std::vector<std::string> pieces = split(message.substr(message.find("\r\n\r\n") + 4), "--" + boundary);
  EXPECT_GE(pieces.size(), 2u);
  EXPECT_EQ(pieces.front(), "");  // no preamble
  EXPECT_EQ(pieces.back(), "--\r\n");
  std::vector<Part> out;
  for (size_t i = 1; i + 1 < pieces.size(); ++i) {
    const std::string& piece = pieces[i];
    EXPECT_TRUE(piece.starts_with("\r\n") && piece.ends_with("\r\n")) << piece;
    std::string part = piece.substr(2, piece.size() - 4);
    size_t end = part.find("\r\n\r\n");
    if (end == std::string::npos) {
      ADD_FAILURE() << "part without a header block: " << part;
      continue;
    }
    out.push_back({part.substr(0, end), part.substr(end + 4)});
  }
  return out;
}

std::string boundary_of(const std::string& message) {
  std::string type = header(message, "Content-Type");
  size_t at = type.find("boundary=\"");
  if (at == std::string::npos) return "";
  at += 10;
  return type.substr(at, type.find('"', at) - at);
}

class MailMessageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { crypto::init(); }

  static MailContent sample() {
    return {.from = "Tessera <no-reply@example.com>",
            .to = "ada@example.org",
            .subject = "Reset your password",
            .text = "Hello Ada,\nopen https://app.example.com/reset-password?token=tsc_abc=def\n",
            .html = "<p>Hello Ada,</p>\n<p><a href=\"https://app.example.com/reset-password?token=tsc_abc=def\">"
                    "Reset</a></p>",
            .message_id = "0192f3a4-1111-7000-8000-000000000001@tessera",
            .date = kDate};
  }
};

TEST_F(MailMessageTest, HeadersOfAnAsciiMessage) {
  std::string message = build_mail(sample());
  EXPECT_TRUE(message.starts_with("From: Tessera <no-reply@example.com>\r\n")) << message;
  EXPECT_EQ(header(message, "To"), "ada@example.org");
  EXPECT_EQ(header(message, "Subject"), "Reset your password");
  EXPECT_EQ(header(message, "Date"), "Tue, 24 Nov 2026 10:00:00 +0000");
  EXPECT_EQ(header(message, "Message-ID"), "<0192f3a4-1111-7000-8000-000000000001@tessera>");
  EXPECT_EQ(header(message, "MIME-Version"), "1.0");
  expect_wire_format(message);
}

TEST_F(MailMessageTest, DateIsRfc5322InUtc) {
  EXPECT_EQ(format_rfc5322_date(Timestamp(std::chrono::seconds(951868799)) + 999999us),
            "Tue, 29 Feb 2000 23:59:59 +0000");
  EXPECT_EQ(format_rfc5322_date(Timestamp{}), "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST_F(MailMessageTest, MultipartAlternativeWithTextThenHtml) {
  MailContent mail = sample();
  std::string message = build_mail(mail);
  expect_wire_format(message);
  std::string boundary = boundary_of(message);
  ASSERT_TRUE(boundary.starts_with("=_")) << header(message, "Content-Type");
  EXPECT_TRUE(header(message, "Content-Type").starts_with("multipart/alternative;"));

  std::vector<Part> found = parts(message, boundary);
  ASSERT_EQ(found.size(), 2u) << message;
  EXPECT_EQ(found[0].headers, "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable");
  EXPECT_EQ(found[1].headers, "Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable");
  EXPECT_EQ(decode_quoted_printable(found[0].body), crlf(mail.text));
  EXPECT_EQ(decode_quoted_printable(found[1].body), crlf(mail.html));
  // Two messages never share a boundary.
  EXPECT_NE(boundary_of(build_mail(mail)), boundary);
}

TEST_F(MailMessageTest, BoundaryCannotOccurInBodies) {
  MailContent mail = sample();
  std::string boundary = boundary_of(build_mail(mail));
  // A body that contains the very boundary, delimiters included, is still quoted-printable encoded,
  // and "=_" never survives that encoding.
  mail.text = "--" + boundary + "\r\n--" + boundary + "--\n";
  mail.html = mail.text;
  std::string message = build_mail(mail);
  std::string fresh = boundary_of(message);
  std::vector<Part> found = parts(message, fresh);
  ASSERT_EQ(found.size(), 2u) << message;
  EXPECT_EQ(decode_quoted_printable(found[0].body), crlf(mail.text));
  EXPECT_EQ(found[0].body.find("=_"), std::string::npos);
}

TEST_F(MailMessageTest, TextOnlyWhenNoHtml) {
  MailContent mail = sample();
  mail.html.clear();
  std::string message = build_mail(mail);
  expect_wire_format(message);
  EXPECT_EQ(header(message, "Content-Type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(header(message, "Content-Transfer-Encoding"), "quoted-printable");
  EXPECT_EQ(message.find("multipart"), std::string::npos);
  std::string body = message.substr(message.find("\r\n\r\n") + 4);
  EXPECT_EQ(decode_quoted_printable(body), crlf(mail.text) + "\r\n");
}

TEST_F(MailMessageTest, NonAsciiSubjectIsEncodedWords) {
  MailContent mail = sample();
  mail.subject = "Réinitialisez votre mot de passe 🔑";
  std::string message = build_mail(mail);
  expect_wire_format(message);
  std::string subject = header(message, "Subject");
  EXPECT_TRUE(subject.starts_with("=?UTF-8?B?")) << subject;
  EXPECT_EQ(decode_words(subject), mail.subject);
}

TEST_F(MailMessageTest, LongSubjectsAreFoldedWithoutSplittingCharacters) {
  MailContent mail = sample();
  mail.subject.clear();
  for (int i = 0; i < 40; ++i) mail.subject += "Сброс пароля ✓ ";  // 2- and 3-byte characters
  std::string message = build_mail(mail);
  expect_wire_format(message);
  EXPECT_EQ(decode_words(header(message, "Subject")), mail.subject);

  mail.subject = std::string(200, 'a');  // ASCII too long for one line
  message = build_mail(mail);
  expect_wire_format(message);
  EXPECT_EQ(decode_words(header(message, "Subject")), mail.subject);
}

TEST_F(MailMessageTest, SubjectThatLooksEncodedIsEncoded) {
  MailContent mail = sample();
  mail.subject = "=?UTF-8?B?SGk=?=";
  EXPECT_EQ(decode_words(header(build_mail(mail), "Subject")), mail.subject);
}

TEST_F(MailMessageTest, DisplayNames) {
  MailContent mail = sample();
  mail.from = "Тессера <no-reply@example.com>";
  std::string from = header(build_mail(mail), "From");
  ASSERT_TRUE(from.ends_with(" <no-reply@example.com>")) << from;
  EXPECT_EQ(decode_words(from.substr(0, from.size() - 23)), "Тессера");

  mail.from = "Acme, Inc. \"Support\" <help@acme.test>";
  EXPECT_EQ(header(build_mail(mail), "From"), R"("Acme, Inc. \"Support\"" <help@acme.test>)");
  mail.from = "\"Acme\" <help@acme.test>";
  EXPECT_EQ(header(build_mail(mail), "From"), "Acme <help@acme.test>");
  mail.from = "help@acme.test";
  EXPECT_EQ(header(build_mail(mail), "From"), "help@acme.test");
  mail.from = std::string(60, 'N') + " <a-rather-long-address@example.com>";
  expect_wire_format(build_mail(mail));
}

TEST_F(MailMessageTest, HeaderInjectionIsStripped) {
  MailContent mail = sample();
  mail.from = "Evil\r\nBcc: victim@example.com <no-reply@example.com>";
  mail.to = "ada@example.org\r\nBcc: victim@example.com";
  mail.subject = "Hi\r\nBcc: victim@example.com\r\n\r\nforged body";
  mail.message_id = "id@tessera>\r\nX-Injected: 1";
  std::string message = build_mail(mail);
  expect_wire_format(message);
  for (const std::string& line : split(header_block(message), "\r\n")) {
    EXPECT_FALSE(line.starts_with("Bcc")) << line;
    EXPECT_FALSE(line.starts_with("X-Injected")) << line;
  }
  EXPECT_EQ(header(message, "To"), "ada@example.orgBcc: victim@example.com");
  EXPECT_EQ(header(message, "Message-ID"), "<id@tesseraX-Injected:1>");
  size_t fields = 0;
  for (const std::string& line : split(header_block(message), "\r\n")) fields += !line.starts_with(' ');
  EXPECT_EQ(fields, 7u) << header_block(message);
}

// --- quoted-printable ---

class QuotedPrintableTest : public ::testing::TestWithParam<std::string> {};

TEST_P(QuotedPrintableTest, RoundTripsWithinLineLimits) {
  const std::string& text = GetParam();
  std::string encoded = encode_quoted_printable(text);
  EXPECT_EQ(decode_quoted_printable(encoded), crlf(text));
  for (const std::string& line : split(encoded, "\r\n")) {
    EXPECT_LE(line.size(), 76u) << line;
    EXPECT_FALSE(line.ends_with(' ') || line.ends_with('\t')) << "trailing whitespace: " << line;
    for (unsigned char c : line) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << line;
  }
}

INSTANTIATE_TEST_SUITE_P(
    MailQuotedPrintable, QuotedPrintableTest,
    ::testing::Values("", "plain", "a=b==c", "trailing space \nand tab\t\r\nend ", "   ", "\n\n\r\n\r\r",
                      std::string(300, 'x'), std::string(75, 'y') + "=", std::string(76, 'z'),
                      std::string(74, 'w') + "é", std::string(200, ' ') + "x", std::string(200, '='),
                      "Привет, мир — ünïcødé 😀 " + std::string(100, 'q') + "\nsecond line",
                      std::string("nul\0byte\x7f\x01", 10), ".leading dot\nFrom the start\n"));

TEST(MailQuotedPrintable, EncodesEqualsAndNonAscii) {
  EXPECT_EQ(encode_quoted_printable("a=b"), "a=3Db");
  EXPECT_EQ(encode_quoted_printable("café"), "caf=C3=A9");
  EXPECT_EQ(encode_quoted_printable("end \nx\t"), "end=20\r\nx=09");
  EXPECT_EQ(encode_quoted_printable("a\nb\r\nc\rd"), "a\r\nb\r\nc\r\nd");
  EXPECT_EQ(encode_quoted_printable(std::string(80, 'a')), std::string(75, 'a') + "=\r\n" + std::string(5, 'a'));
  EXPECT_EQ(encode_quoted_printable(std::string(76, 'a')), std::string(76, 'a'));  // fits: no soft break
  // An escape is never split by a soft break.
  EXPECT_EQ(encode_quoted_printable(std::string(74, 'a') + "=b"), std::string(74, 'a') + "=\r\n=3Db");
}

// --- mail_address ---

TEST(MailAddress, AcceptsBareAndNamedAddresses) {
  EXPECT_EQ(mail_address("ada@example.org"), "ada@example.org");
  EXPECT_EQ(mail_address("  ada@example.org "), "ada@example.org");
  EXPECT_EQ(mail_address("Ada <ada@example.org>"), "ada@example.org");
  EXPECT_EQ(mail_address("<ada@example.org>"), "ada@example.org");
  EXPECT_EQ(mail_address("\"Lovelace, Ada\" <ada+tag@example.org>"), "ada+tag@example.org");
  EXPECT_EQ(mail_address("Тессера <no-reply@localhost>"), "no-reply@localhost");
  std::string longest = std::string(64, 'l') + "@" + std::string(189, 'd');
  EXPECT_EQ(mail_address(longest), longest);  // 254 characters
}

TEST(MailAddress, RefusesMalformed) {
  for (std::string bad :
       {"", "ada", "ada.example.org", "@example.org", "ada@", "ada @example.org", "Ada <ada @example.org>",
        "Ada <>", "Ada <ada@example.org", "ada<x>@example.org", "a<da@example.org", "Ada ada@example.org",
        "ada@example.org\r\nRCPT TO:<x@y>", "Ada <ada@example.org>\r\nBcc: x@y", "Ada\n <ada@example.org>",
        "ada@exa\tmple.org"})
    EXPECT_EQ(mail_address(bad), std::nullopt) << bad;
  EXPECT_EQ(mail_address(std::string(64, 'l') + "@" + std::string(190, 'd')), std::nullopt);  // 255
}

// --- SmtpSender against Postfix's smtp-sink ---

constexpr const char* kSmtpSink = "/usr/sbin/smtp-sink";

unsigned free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool accepts_connections(unsigned port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// smtp-sink on a loopback port, dumping each mail transaction to a file in dump_dir.
class SmtpSink {
 public:
  SmtpSink() {
    dump_dir_ = temp_.path() / "dump";
    std::filesystem::create_directory(dump_dir_);
    std::vector<std::string> args = {kSmtpSink};
    if (geteuid() == 0) {  // smtp-sink refuses to keep root privileges: it needs a user to switch to
      const passwd* nobody = getpwnam("nobody");
      if (nobody == nullptr || chmod(temp_.str().c_str(), 0711) != 0 ||
          chown(dump_dir_.c_str(), nobody->pw_uid, nobody->pw_gid) != 0)
        return;
      args.insert(args.end(), {"-u", "nobody"});
    }
    args.insert(args.end(), {"-d", (dump_dir_ / "%M.").string(), "", "10"});
    for (int attempt = 0; attempt < 3 && pid_ < 0; ++attempt) {  // the free port may be taken meanwhile
      port_ = free_loopback_port();
      args[args.size() - 2] = "127.0.0.1:" + std::to_string(port_);
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      pid_t pid;
      if (posix_spawn(&pid, kSmtpSink, nullptr, nullptr, argv.data(), environ) != 0) return;
      // Waiting for an external process to listen: poll, there is no clock to drive.
      for (auto deadline = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < deadline;) {
        if (accepts_connections(port_)) {
          pid_ = pid;
          break;
        }
        if (waitpid(pid, nullptr, WNOHANG) == pid) break;
        std::this_thread::sleep_for(20ms);
      }
      if (pid_ < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
  }
  ~SmtpSink() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

  bool running() const { return pid_ > 0; }
  unsigned port() const { return port_; }

  // The dumped transactions (LF line ends), waiting up to 5 s for `expected` of them to be complete.
  std::vector<std::string> dumps(size_t expected, std::string_view complete_marker) const {
    std::vector<std::string> out;
    for (auto deadline = std::chrono::steady_clock::now() + 5s;; std::this_thread::sleep_for(20ms)) {
      out.clear();
      for (const auto& entry : std::filesystem::directory_iterator(dump_dir_)) {
        std::ifstream in(entry.path(), std::ios::binary);
        std::string dump{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        std::erase(dump, '\r');
        out.push_back(std::move(dump));
      }
      size_t complete = 0;
      for (const std::string& dump : out) complete += dump.find(complete_marker) != std::string::npos;
      if (complete >= expected || std::chrono::steady_clock::now() > deadline) return out;
    }
  }

 private:
  testing::TempDir temp_;
  std::filesystem::path dump_dir_;
  pid_t pid_ = -1;
  unsigned port_ = 0;
};

class SmtpSenderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { crypto::init(); }

  void SetUp() override {
    if (access(kSmtpSink, X_OK) != 0) GTEST_SKIP() << kSmtpSink << " is not installed (package postfix)";
  }

};

MailConfig smtp_config(unsigned port, std::string tls) {
  MailConfig config;
  config.mode = "smtp";
  config.smtp_host = "127.0.0.1";
  config.smtp_port = port;
  config.smtp_tls = std::move(tls);
  config.timeout = 10s;
  return config;
}

std::string without_cr(std::string text) {
  std::erase(text, '\r');
  return text;
}

TEST_F(SmtpSenderTest, DeliversToSmtpSink) {
  SmtpSink sink;
  ASSERT_TRUE(sink.running());
  MailContent mail{.from = "Tessera <no-reply@tessera.test>",
                   .to = "ada@example.org",
                   .subject = "Vérifiez votre adresse",
                   .text = "Hello\n.a line starting with a dot\nbye",
                   .html = "<p>Hello</p>",
                   .message_id = "delivery-1@tessera",
                   .date = kDate};
  std::string message = build_mail(mail);
  EXPECT_EQ(SmtpSender(smtp_config(sink.port(), "none")).send("no-reply@tessera.test", "ada@example.org", message),
            std::nullopt);

  std::vector<std::string> dumps = sink.dumps(1, "--\n");
  ASSERT_EQ(dumps.size(), 1u);
  const std::string& dump = dumps[0];
  EXPECT_NE(dump.find("X-Mail-Args: <no-reply@tessera.test>"), std::string::npos) << dump;
  EXPECT_NE(dump.find("X-Rcpt-Args: <ada@example.org>"), std::string::npos) << dump;
  // The message arrives as built (smtp-sink ends the dump with an empty line; curl undoes nothing).
  std::string expected_headers = without_cr(header_block(message));
  EXPECT_NE(dump.find(expected_headers), std::string::npos) << dump;
  EXPECT_NE(dump.find("\nFrom: Tessera <no-reply@tessera.test>\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("\nTo: ada@example.org\n"), std::string::npos);
  EXPECT_NE(dump.find("\nSubject: " + header(message, "Subject") + "\n"), std::string::npos);
  EXPECT_NE(dump.find("\n.a line starting with a dot\n"), std::string::npos) << "dot-stuffing undone";
}

TEST_F(SmtpSenderTest, StartTlsIsRequiredNotOpportunistic) {
  SmtpSink sink;  // offers no STARTTLS
  ASSERT_TRUE(sink.running());
  SmtpSender sender(smtp_config(sink.port(), "starttls"));
  std::optional<std::string> error = sender.send("a@tessera.test", "b@example.org", "Subject: x\r\n\r\nx\r\n");
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("STARTTLS"), std::string::npos) << *error;
  EXPECT_TRUE(sink.dumps(0, "").empty());
}

TEST(SmtpSenderChecks, ErrorsNeverContainThePassword) {
  MailConfig refused = smtp_config(free_loopback_port(), "none");
  refused.smtp_username = "relay-user";
  refused.smtp_password = "s3cret-relay-password";
  std::optional<std::string> error = SmtpSender(refused).send("a@tessera.test", "b@example.org", "x\r\n");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->find(refused.smtp_password), std::string::npos) << *error;
}

TEST(SmtpSenderChecks, RefusesAddressesThatWouldInjectCommands) {
  SmtpSender sender(smtp_config(1, "none"));  // never connects
  EXPECT_EQ(sender.send("a@b.test>\r\nRCPT TO:<victim@x.test", "c@d.test", "x"), "invalid sender address");
  EXPECT_EQ(sender.send("a@b.test", "c@d.test\r\nDATA", "x"), "invalid recipient address");
  EXPECT_EQ(sender.send("Name <a@b.test>", "c@d.test", "x"), "invalid sender address");  // a bare address
}

}  // namespace
}  // namespace tessera::events
