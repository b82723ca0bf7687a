// The short-lived records of the authorization code flow: started flows (found by the hash of their
// state) and the one-time codes handed to the application afterwards. Both are single use.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace tessera::external {

enum class FlowAction { signin, signup };

struct OAuthFlow {
  std::string project_id;
  std::string provider;
  FlowAction action = FlowAction::signup;
  std::optional<std::string> redirect_to;
  std::optional<std::string> code_challenge;  // the application's PKCE challenge (S256)
  Timestamp expires_at;
  Timestamp created_at;
};

struct LoginCode {
  std::string project_id;
  std::string user_id;
  bool user_created = false;
  std::string provider;
  std::optional<std::string> code_challenge;
  Timestamp expires_at;
  Timestamp created_at;
};

class FlowStore {
 public:
  virtual ~FlowStore() = default;
  virtual void insert_flow(std::string_view state_hash, const OAuthFlow& flow) = 0;
  // Deletes and returns the flow, whatever its expiry: the caller checks it.
  virtual std::optional<OAuthFlow> consume_flow(std::string_view state_hash) = 0;
  virtual void insert_code(std::string_view code_hash, const LoginCode& code) = 0;
  virtual std::optional<LoginCode> consume_code(std::string_view code_hash) = 0;
  virtual uint64_t remove_expired(Timestamp now) = 0;
};

}  // namespace tessera::external
