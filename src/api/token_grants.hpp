// The grants that both the OAuth 2.0 token endpoint (POST /v1/token) and JSON-RPC manager/auth offer,
// so that a credential gets the same tokens, and the same errors, whichever door it comes through.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "session/token_service.hpp"

namespace tessera::api {

class App;

// client_credentials (alias api_key_credentials): an API key's id and secret. 401 invalid_client.
Result<session::TokenResponse> grant_api_key_credentials(App& app, std::string_view key_id, std::string_view secret,
                                                         const std::optional<std::string>& scope);
// refresh_token: rotates, against what the token's subject holds now. 400 invalid_grant.
// When the request also authenticates a client (an API key), the token must have been issued to it
// (RFC 6749 section 6); a refresh token alone is accepted too, as PrivMX's manager/auth does.
Result<session::TokenResponse> grant_refresh_token(App& app, std::string_view refresh_token,
                                                   const std::optional<std::string>& scope,
                                                   std::string_view client_id = {}, std::string_view client_secret = {});

// What a refresh token's subject holds now; nullopt when it is gone, expired or suspended.
std::optional<session::GrantSubject> current_subject(App& app, const session::RefreshToken& token);

}  // namespace tessera::api
