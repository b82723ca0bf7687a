// Who is calling and for which project: credentials (bearer token or session cookie with CSRF),
// then the project rules of API.md.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "http/message.hpp"
#include "identity/user.hpp"
#include "access/permission.hpp"
#include "projects/project_service.hpp"
#include "session/credentials.hpp"
#include "session/token_service.hpp"
#include "session/session_service.hpp"

namespace tessera::api {

class App;

// A resolved credential: its project, who acts (a user, or an API key through an access token) and
// what it may do now. Permissions are computed at each request from the live state of the subject:
// a suspended user, a revoked key or a changed role takes effect at once, whatever token is presented.
struct Caller {
  enum class Kind { session, access_token, personal_token };
  Kind kind = Kind::session;
  projects::ProjectPtr project;
  std::shared_ptr<const identity::User> user;      // null when an API key acts
  std::shared_ptr<const session::ApiKey> api_key;  // the key behind an access token, if any
  session::LiveSessionPtr session;                 // only for session tokens
  std::shared_ptr<const session::PersonalToken> personal_token;  // only for personal access tokens
  std::shared_ptr<const session::AccessToken> access_token;      // only for JWT access tokens
  access::PermissionSet permissions;

  // 403 forbidden naming the missing permission.
  Status require(std::string_view permission) const;
  const access::PermissionSet& grantor() const { return permissions; }
};

// Any credential: session token or cookie (with CSRF for unsafe methods), JWT access token, or
// personal access token. 401 when none is valid.
Result<Caller> authenticate(App& app, const http::RequestContext& ctx);
// The same resolution for a bare token (introspection), without cookies or project headers.
Result<Caller> resolve_token(App& app, std::string_view token);
// Any credential that holds `permission` (403 forbidden naming it otherwise).
Result<Caller> authorize(App& app, const http::RequestContext& ctx, std::string_view permission);
// A user's credential of any kind (GET /v1/me): 403 user_required for API keys.
Result<Caller> authenticate_user(App& app, const http::RequestContext& ctx);
// The user's own session (self-service changes, sessions, tokens): 403 session_required otherwise.
Result<Caller> authenticate_session(App& app, const http::RequestContext& ctx);

// For requests without a credential: X-Tessera-Project, then the body's "project", then the only project.
Result<projects::ProjectPtr> resolve_project(App& app, const http::RequestContext& ctx, const boost::json::object& body);

session::ClientInfo client_info(const http::RequestContext& ctx);

// Who reads contexts: a credential with contexts:read (viewer empty: every context), or a user without
// it (viewer: their id; they see only the contexts they belong to). REST and JSON-RPC share it.
struct ContextReader {
  std::string project_id;
  std::optional<std::string> viewer;
};
Result<ContextReader> context_reader(App& app, const http::RequestContext& ctx);

inline constexpr std::string_view kSessionCookie = "tessera_session";
inline constexpr std::string_view kCsrfCookie = "tessera_csrf";

}  // namespace tessera::api
