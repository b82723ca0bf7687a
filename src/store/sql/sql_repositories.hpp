// Every store of one connection, as the Repositories a transaction body receives.
#pragma once

#include "store/sql/sql_avatar_store.hpp"
#include "store/sql/sql_connection.hpp"
#include "store/sql/sql_context_store.hpp"
#include "store/sql/sql_credential_stores.hpp"
#include "store/sql/sql_event_stores.hpp"
#include "store/sql/sql_external_stores.hpp"
#include "store/sql/sql_license_store.hpp"
#include "store/sql/sql_project_store.hpp"
#include "store/sql/sql_rate_limit_store.hpp"
#include "store/sql/sql_role_store.hpp"
#include "store/sql/sql_session_store.hpp"
#include "store/sql/sql_user_store.hpp"
#include "store/store.hpp"

namespace tessera::store::sql {

struct SqlRepositories {
  explicit SqlRepositories(Connection& conn)
      : projects(conn), users(conn), sessions(conn), roles(conn), api_keys(conn), personal_tokens(conn),
        refresh_tokens(conn), signing_keys(conn), revoked_tokens(conn), one_time_tokens(conn), webhooks(conn),
        outbox(conn), providers(conn), identities(conn), flows(conn), licenses(conn), contexts(conn),
        rate_limits(conn), avatars(conn) {}
  SqlRepositories(const SqlRepositories&) = delete;
  SqlRepositories& operator=(const SqlRepositories&) = delete;

  SqlProjectStore projects;
  SqlUserStore users;
  SqlSessionStore sessions;
  SqlRoleStore roles;
  SqlApiKeyStore api_keys;
  SqlPersonalTokenStore personal_tokens;
  SqlRefreshTokenStore refresh_tokens;
  SqlSigningKeyStore signing_keys;
  SqlRevokedTokenStore revoked_tokens;
  SqlOneTimeTokenStore one_time_tokens;
  SqlWebhookStore webhooks;
  SqlOutboxStore outbox;
  SqlProviderStore providers;
  SqlIdentityStore identities;
  SqlFlowStore flows;
  SqlLicenseStore licenses;
  SqlContextStore contexts;
  SqlRateLimitStore rate_limits;
  SqlAvatarStore avatars;
  ChangeLog changes;
  Repositories repos{projects,       users,        sessions,       roles,           api_keys, personal_tokens,
                     refresh_tokens, signing_keys, revoked_tokens, one_time_tokens, webhooks, outbox,
                     providers,      identities,   flows,          licenses,        contexts, rate_limits,
                     avatars,        changes};
};

}  // namespace tessera::store::sql
