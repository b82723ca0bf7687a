// JSON shapes of the API's objects (API.md), and the session cookies.
#pragma once

#include <boost/json/object.hpp>

#include "http/message.hpp"
#include "identity/user.hpp"
#include "projects/project.hpp"
#include "access/role.hpp"
#include "events/event.hpp"
#include "external/provider.hpp"
#include "licenses/license.hpp"
#include "contexts/context.hpp"
#include "session/credentials.hpp"
#include "session/session_service.hpp"

namespace tessera::api {

boost::json::object user_json(const identity::User& user);
// A session as listed: no token.
boost::json::object session_json(const session::Session& session, bool current);
// A session just issued: {id, token, expires_at, idle_expires_at, csrf_token}.
boost::json::object issued_session_json(const session::IssuedSession& issued);
// {user, session}, with the session cookies set.
http::Response signed_in_response(http::beast_http::status status, const identity::User& user,
                                  const session::IssuedSession& issued, bool secure_cookies);
void clear_session_cookies(http::Response& response, bool secure_cookies);

boost::json::object api_key_json(const session::ApiKey& key);
boost::json::object personal_token_json(const session::PersonalToken& token);
boost::json::object role_json(const access::Role& role);
boost::json::array permissions_json(const access::PermissionSet& permissions);
boost::json::value optional_time_json(const std::optional<Timestamp>& t);
boost::json::object webhook_json(const events::Webhook& webhook);  // never the secret
boost::json::object delivery_json(const events::Delivery& delivery);
// The project and its settings, the mail templates in effect included.
boost::json::object project_json(const projects::Project& project);
// The fields of its kind, never a secret: has_client_secret says whether one is set.
boost::json::object provider_json(const external::Provider& provider);
boost::json::object identity_json(const external::Identity& identity);
// With its key: only for those who may see the license.
boost::json::object license_json(const licenses::License& license);
boost::json::object activation_json(const licenses::Activation& activation);
boost::json::object context_json(const contexts::Context& context);
boost::json::object member_json(const contexts::Member& member);

}  // namespace tessera::api
