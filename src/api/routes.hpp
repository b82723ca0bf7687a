#pragma once

#include "http/router.hpp"

namespace tessera::api {

class App;

void register_operations_routes(http::Router& router, App& app);
void register_auth_routes(http::Router& router, App& app);
void register_me_routes(http::Router& router, App& app);
void register_token_routes(http::Router& router, App& app);
void register_api_key_routes(http::Router& router, App& app);
void register_role_routes(http::Router& router, App& app);
void register_users_routes(http::Router& router, App& app);
void register_avatar_routes(http::Router& router, App& app);
void register_account_routes(http::Router& router, App& app);
void register_webhook_routes(http::Router& router, App& app);
void register_project_routes(http::Router& router, App& app);
void register_rpc_routes(http::Router& router, App& app);
void register_provider_routes(http::Router& router, App& app);
void register_external_auth_routes(http::Router& router, App& app);
void register_license_routes(http::Router& router, App& app);
void register_context_routes(http::Router& router, App& app);

}  // namespace tessera::api
