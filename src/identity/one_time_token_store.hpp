// Single-use tokens sent by mail (password reset, email verification); only their hash is stored.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace tessera::identity {

enum class TokenPurpose { password_reset, email_verification };

struct OneTimeToken {
  TokenPurpose purpose = TokenPurpose::password_reset;
  std::string project_id;
  std::string user_id;
  std::string email;  // where it was sent
  Timestamp expires_at;
  Timestamp created_at;
};

class OneTimeTokenStore {
 public:
  virtual ~OneTimeTokenStore() = default;
  virtual void insert(std::string_view token_hash, const OneTimeToken& token) = 0;
  // Deletes and returns the token (single use), whatever its expiry; the caller checks it.
  virtual std::optional<OneTimeToken> consume(std::string_view token_hash, TokenPurpose purpose) = 0;
  virtual void remove_for_user(std::string_view user_id, TokenPurpose purpose) = 0;
  virtual uint64_t remove_expired(Timestamp now) = 0;
};

}  // namespace tessera::identity
