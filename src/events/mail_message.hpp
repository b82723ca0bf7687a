// RFC 5322 / MIME mail messages: what the SMTP sender transmits and what log mode writes as a .eml file.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace tessera::events {

struct MailContent {
  std::string from;        // "Name <addr@x>" or "addr@x"
  std::string to;          // a bare address
  std::string subject;     // UTF-8
  std::string text;        // UTF-8 plain-text body
  std::string html;        // UTF-8 HTML body; empty: a text/plain message only
  std::string message_id;  // without angle brackets, e.g. "0192...@tessera"
  Timestamp date;
};

// The whole message with CRLF line endings: From, To, Subject (RFC 2047 encoded words unless printable
// ASCII), Date (UTC), Message-ID, MIME-Version, then multipart/alternative (text/plain + text/html) or a
// single text/plain part; bodies are UTF-8 quoted-printable. Header values lose their control
// characters, so a value can never start a header of its own. The boundary needs crypto::init().
std::string build_mail(const MailContent& mail);

// The address of "Name <addr>" or of a bare address; nullopt when malformed (no @, CR/LF, space or
// angle brackets inside the address, longer than 254 characters).
std::optional<std::string> mail_address(std::string_view from);

// Quoted-printable (RFC 2045 6.7): newlines become CRLF, lines are at most 76 characters with soft
// breaks, '=', non-ASCII, controls and whitespace before a line end are =XX.
std::string encode_quoted_printable(std::string_view text);

// "Tue, 24 Nov 2026 10:00:00 +0000"
std::string format_rfc5322_date(Timestamp t);

}  // namespace tessera::events
