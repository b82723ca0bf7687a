// Users' public keys as clients send them: validated and normalized so every reader gets one form.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tessera::contexts {

// ed25519: 32 raw bytes in base64 (standard or URL alphabet, padding optional) -> standard base64.
// p256: an EC P-256 SubjectPublicKeyInfo in PEM or base64 DER -> PEM. nullopt when it is not such a key.
std::optional<std::string> normalize_public_key(std::string_view key_type, std::string_view text);

bool valid_key_type(std::string_view key_type);

}  // namespace tessera::contexts
