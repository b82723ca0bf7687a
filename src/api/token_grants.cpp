#include "api/token_grants.hpp"

#include "api/app.hpp"

namespace tessera::api {

std::optional<session::GrantSubject> current_subject(App& app, const session::RefreshToken& rt) {
  if (rt.subject_kind == session::SubjectKind::api_key) {
    auto key = app.api_keys().active(rt.subject_id);
    if (!key) return std::nullopt;
    return session::GrantSubject{rt.subject_kind, key->id, key->project_id, key->permissions};
  }
  auto user = app.users().get(rt.project_id, rt.subject_id);
  if (!user || !user->active) return std::nullopt;
  return session::GrantSubject{rt.subject_kind, user->id, user->project_id, app.roles().permissions_of(user->project_id, user->id)};
}

Result<session::TokenResponse> grant_api_key_credentials(App& app, std::string_view key_id, std::string_view secret,
                                                         const std::optional<std::string>& scope) {
  auto key = app.api_keys().authenticate(key_id, secret);
  if (!key) return fail(std::move(key.error()));
  return app.tokens().grant({session::SubjectKind::api_key, (*key)->id, (*key)->project_id, (*key)->permissions}, scope);
}

Result<session::TokenResponse> grant_refresh_token(App& app, std::string_view refresh_token,
                                                   const std::optional<std::string>& scope, std::string_view client_id,
                                                   std::string_view client_secret) {
  std::optional<std::string> client;
  if (!client_id.empty() || !client_secret.empty()) {
    auto key = app.api_keys().authenticate(client_id, client_secret);
    if (!key) return fail(std::move(key.error()));
    client = (*key)->id;
  }
  return app.tokens().refresh(refresh_token, scope, client,
                              [&](const session::RefreshToken& rt) { return current_subject(app, rt); });
}

}  // namespace tessera::api
