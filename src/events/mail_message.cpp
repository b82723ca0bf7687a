#include "events/mail_message.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "crypto/random.hpp"

namespace tessera::events {

namespace {

constexpr size_t kMaxAddressChars = 254;   // RFC 5321 path limit
constexpr size_t kMaxLine = 76;            // without CRLF: QP's limit (RFC 2045 6.7), under RFC 5322's 78
constexpr size_t kEncodedWordBytes = 39;   // 52 base64 chars: "Subject: =?UTF-8?B?...?=" is 73

bool is_printable_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

// Controls (CR, LF above all) are dropped so that a value cannot end its header and start another.
std::string header_safe(std::string_view value) {
  std::string out;
  for (unsigned char c : value)
    if (c >= 0x20 && c != 0x7f) out += static_cast<char>(c);
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// RFC 2047 "B" encoded words, folded onto continuation lines. Each word holds whole UTF-8 characters
// (RFC 2047 section 5), so a chunk never ends inside a multi-byte sequence.
std::string encoded_words(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    size_t n = std::min(kEncodedWordBytes, text.size());
    if (n < text.size()) {
      size_t cut = n;
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
      if (cut > 0) n = cut;  // else not UTF-8 at all: cut anywhere
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(text.substr(0, n)) + "?=";
    text.remove_prefix(n);
  }
  return out;
}

// Printable ASCII that fits on the header line goes as it is; anything else as encoded words. "=?" is
// encoded too, so a reader never decodes text that only looks like an encoded word.
std::string header_text(std::string_view value, size_t name_chars) {
  std::string safe = header_safe(value);
  bool plain = is_printable_ascii(safe) && safe.find("=?") == std::string::npos &&
               name_chars + 2 + safe.size() <= kMaxLine;
  return plain ? safe : encoded_words(safe);
}

// A display name as an RFC 5322 phrase: a quoted string when it has specials, encoded words when not ASCII.
std::string display_name(std::string_view name) {
  std::string safe = header_safe(name);
  if (!is_printable_ascii(safe) || safe.find("=?") != std::string::npos) return encoded_words(safe);
  if (safe.find_first_of("()<>[]:;@\\,.\"") == std::string::npos) return safe;
  std::string quoted = "\"";
  for (char c : safe) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

std::string from_header(std::string_view from) {
  std::optional<std::string> address = mail_address(from);
  if (!address) return header_safe(from);
  size_t open = from.rfind('<');
  std::string name = open == std::string_view::npos ? "" : trim(from.substr(0, open));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
  if (name.empty()) return *address;
  std::string phrase = display_name(name);
  size_t last_line = phrase.size() - (phrase.rfind('\n') == std::string::npos ? 0 : phrase.rfind('\n') + 1);
  bool fits = 6 + last_line + 3 + address->size() <= kMaxLine;  // "From: " ... " <" addr ">"
  return phrase + (fits ? " <" : "\r\n <") + *address + ">";
}

std::string message_id(std::string_view id) {
  std::string out;
  for (char c : header_safe(id))
    if (c != ' ' && c != '<' && c != '>') out += c;
  return "<" + out + ">";
}

// "=_" cannot occur in quoted-printable text ('=' is always followed by hex or a line end), so this
// boundary cannot collide with a body whatever it contains; the random part keeps nested mails apart.
std::string make_boundary() { return "=_tessera_" + crypto::hex_encode(crypto::random_bytes(16)); }

void append_part(std::string& out, std::string_view content_type, std::string_view body) {
  out += "Content-Type: ";
  out += content_type;
  out += "; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
  out += encode_quoted_printable(body);
  out += "\r\n";
}

}  // namespace

std::optional<std::string> mail_address(std::string_view from) {
  for (char c : from)
    if (c == '\r' || c == '\n') return std::nullopt;
  std::string text = trim(from);
  std::string_view address = text;
  if (address.ends_with('>')) {
    size_t open = address.rfind('<');
    if (open == std::string_view::npos) return std::nullopt;
    address = address.substr(open + 1, address.size() - open - 2);
  }
  if (address.empty() || address.size() > kMaxAddressChars) return std::nullopt;
  for (unsigned char c : address)
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>') return std::nullopt;
  size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return std::nullopt;
  return std::string(address);
}

std::string encode_quoted_printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  size_t column = 0;
  auto line_end = [&](size_t i) {
    return i + 1 == text.size() || text[i + 1] == '\n' || text[i + 1] == '\r';
  };
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\r' || c == '\n') {  // CRLF, CR and LF all end a line
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += "\r\n";
      column = 0;
      continue;
    }
    bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !line_end(i));
    char token[3] = {static_cast<char>(c), 0, 0};
    size_t len = 1;
    if (!literal) {
      token[0] = '=';
      token[1] = kHex[c >> 4];
      token[2] = kHex[c & 0xF];
      len = 3;
    }
    // The last token of a line may reach 76; others leave room for the soft break's '='.
    size_t limit = line_end(i) ? kMaxLine : kMaxLine - 1;
    if (column + len > limit) {
      out += "=\r\n";
      column = 0;
    }
    out.append(token, len);
    column += len;
  }
  return out;
}

std::string format_rfc5322_date(Timestamp t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  auto day = std::chrono::floor<std::chrono::days>(seconds);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss hms{seconds - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d +0000",
                kDays[std::chrono::weekday{day}.c_encoding()], static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string build_mail(const MailContent& mail) {
  std::string out;
  out += "From: " + from_header(mail.from) + "\r\n";
  out += "To: " + header_safe(mail.to) + "\r\n";
  out += "Subject: " + header_text(mail.subject, 7) + "\r\n";
  out += "Date: " + format_rfc5322_date(mail.date) + "\r\n";
  out += "Message-ID: " + message_id(mail.message_id) + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  if (mail.html.empty()) {
    append_part(out, "text/plain", mail.text);
    return out;
  }
  std::string boundary = make_boundary();
  out += "Content-Type: multipart/alternative;\r\n boundary=\"" + boundary + "\"\r\n\r\n";
  out += "--" + boundary + "\r\n";
  append_part(out, "text/plain", mail.text);
  out += "--" + boundary + "\r\n";
  append_part(out, "text/html", mail.html);
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace tessera::events
