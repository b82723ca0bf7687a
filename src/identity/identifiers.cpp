#include "identity/identifiers.hpp"

namespace tessera::identity {

namespace {
bool ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool non_ascii(char c) { return static_cast<unsigned char>(c) >= 0x80; }

bool valid_local_part(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '.' || s.back() == '.') return false;
  static constexpr std::string_view kSpecials = "!#$%&'*+/=?^_`{|}~.-";
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.' && s[i + 1] == '.') return false;
    if (!ascii_alnum(c) && !non_ascii(c) && kSpecials.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool valid_domain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t labels = 0;
  while (true) {
    size_t dot = s.find('.');
    std::string_view label = s.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!ascii_alnum(c) && !non_ascii(c) && c != '-') return false;
    ++labels;
    if (dot == std::string_view::npos) return labels >= 2 && label.size() >= 2;
    s.remove_prefix(dot + 1);
  }
}
}  // namespace

bool valid_email(std::string_view email) {
  if (email.size() > 254) return false;
  size_t at = email.rfind('@');
  if (at == std::string_view::npos) return false;
  return valid_local_part(email.substr(0, at)) && valid_domain(email.substr(at + 1));
}

bool valid_login(std::string_view login) {
  if (login.size() < 3 || login.size() > 64 || !ascii_alnum(login.front())) return false;
  for (char c : login)
    if (!ascii_alnum(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

bool valid_phone(std::string_view phone) {
  if (phone.size() < 8 || phone.size() > 16 || phone[0] != '+' || phone[1] == '0') return false;
  for (char c : phone.substr(1))
    if (c < '0' || c > '9') return false;
  return true;
}

std::string identifier_key(IdentifierKind kind, std::string_view value) {
  std::string key(value);
  if (kind != IdentifierKind::phone)
    for (char& c : key)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return key;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace tessera::identity
