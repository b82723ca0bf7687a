// The small text grammars: identifiers, times, durations, sizes, tokens, cursors.
#include <cstdint>
#include <string>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/uuid.hpp"
#include "crypto/random.hpp"
#include "crypto/token.hpp"
#include "identity/identifiers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera;
  std::string_view s(reinterpret_cast<const char*>(data), size);
  (void)identity::valid_email(s);
  (void)identity::valid_login(s);
  (void)identity::valid_phone(s);
  (void)identity::identifier_key(identity::IdentifierKind::email, s);
  (void)identity::utf8_length(s);
  Timestamp t;
  if (parse_rfc3339(s, t)) (void)format_rfc3339(t);
  (void)parse_duration(s);
  (void)parse_size(s);
  (void)is_uuid(s);
  (void)crypto::token_well_formed(s, crypto::kSessionTokenPrefix);
  std::string decoded;
  if (crypto::base64url_decode(s, decoded)) (void)crypto::base64url_encode(decoded);
  return 0;
}
