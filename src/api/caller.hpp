// Who is calling and for which project: credentials (bearer token or session cookie with CSRF),
// then the project rules of API.md.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "http/message.hpp"
#include "identity/user.hpp"
#include "projects/project_service.hpp"
#include "session/session_service.hpp"

namespace tessera::api {

class App;

struct Caller {
  session::LiveSessionPtr session;
  std::shared_ptr<const identity::User> user;
  projects::ProjectPtr project;
};

// 401 when no valid credential is presented; 403 csrf_failed for a cookie without its CSRF token.
Result<Caller> authenticate(App& app, const http::RequestContext& ctx);

// For requests without a credential: X-Tessera-Project, then the body's "project", then the only project.
Result<projects::ProjectPtr> resolve_project(App& app, const http::RequestContext& ctx, const boost::json::object& body);

session::ClientInfo client_info(const http::RequestContext& ctx);

inline constexpr std::string_view kSessionCookie = "tessera_session";
inline constexpr std::string_view kCsrfCookie = "tessera_csrf";

}  // namespace tessera::api
