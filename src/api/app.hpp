// The composition root: configuration, storage, services, pools and the router, wired once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "core/blocking_pool.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "crypto/password_hasher.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "access/role_service.hpp"
#include "events/dispatcher.hpp"
#include "events/webhook_service.hpp"
#include "external/external_login.hpp"
#include "external/external_token.hpp"
#include "external/oauth_flow.hpp"
#include "external/provider_client.hpp"
#include "external/provider_service.hpp"
#include "crypto/server_key.hpp"
#include "core/http_client.hpp"
#include "identity/email_token_service.hpp"
#include "identity/user_admin.hpp"
#include "identity/user_service.hpp"
#include "licenses/license_service.hpp"
#include "contexts/context_service.hpp"
#include "contexts/key_login.hpp"
#include "projects/project_service.hpp"
#include "session/api_key_service.hpp"
#include "session/key_ring.hpp"
#include "session/personal_token_service.hpp"
#include "session/session_service.hpp"
#include "session/token_service.hpp"
#include "store/store.hpp"

namespace tessera::api {

class App {
 public:
  App(Config config, std::unique_ptr<store::Store> store, const Clock& clock);
  ~App();

  // Starts the background work (event delivery, upkeep) once the server listens on `bound_address`.
  void start(const std::string& bound_address);

  const Config& config() const { return config_; }
  const Clock& clock() const { return clock_; }
  store::Store& store() { return *store_; }
  projects::ProjectService& projects() { return projects_; }
  session::SessionService& sessions() { return sessions_; }
  identity::UserService& users() { return users_; }
  identity::UserAdmin& user_admin() { return user_admin_; }
  access::RoleService& roles() { return roles_; }
  session::ApiKeyService& api_keys() { return api_keys_; }
  session::PersonalTokenService& personal_tokens() { return personal_tokens_; }
  session::KeyRing& key_ring() { return key_ring_; }
  session::TokenService& tokens() { return tokens_; }
  identity::EmailTokenService& email_tokens() { return email_tokens_; }
  events::WebhookService& webhooks() { return webhooks_; }
  external::ProviderService& providers() { return providers_; }
  external::OAuthFlows& oauth_flows() { return oauth_flows_; }
  external::ExternalTokens& external_tokens() { return external_tokens_; }
  external::ExternalLogin& external_login() { return external_login_; }
  licenses::LicenseService& licenses() { return licenses_; }
  contexts::ContextService& contexts() { return contexts_; }
  contexts::KeyLogin& key_login() { return key_login_; }

  // The [providers.*] of the config file; throws (stopping the start-up) when one is invalid.
  void load_config_providers();
  http::Metrics& metrics() { return *metrics_; }
  const http::Router& router() const { return router_; }
  // Cookies carry Secure when the server is reached over TLS.
  bool secure_cookies() const { return config_.server.public_url.starts_with("https://"); }

  // Runs fn (which hashes passwords) on the bounded hashing pool; 503 overloaded when it is full.
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F>> hashing(F fn) {
    return run_on(hash_pool_, std::move(fn), "Too many password checks are in progress; retry shortly.");
  }

  // Runs fn (a query that may scan many rows: filtered lists, bulk changes) on the bounded query
  // pool, so a slow query never stalls the I/O threads; 503 overloaded when the pool is full.
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F>> querying(F fn) {
    return run_on(query_pool_, std::move(fn), "Too many list queries are in progress; retry shortly.");
  }

  // Runs fn (calls to identity providers) on the bounded outbound pool, so a slow provider never
  // stalls the I/O threads; 503 overloaded when the pool is full.
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F>> calling(F fn) {
    return run_on(outbound_pool_, std::move(fn), "Too many calls to identity providers are in progress; retry shortly.");
  }

  // Where request handlers run when the store blocks (PostgreSQL); null: on the I/O threads.
  BlockingPool* handler_pool() { return handler_pool_.get(); }

  std::atomic<uint64_t>* logins_ok = nullptr;
  std::atomic<uint64_t>* logins_failed = nullptr;

 private:
  // fn's result, run on `pool`; 503 overloaded (saying `busy`) when the pool's queue is full.
  template <class F>
  static boost::asio::awaitable<std::invoke_result_t<F>> run_on(BlockingPool& pool, F fn, const char* busy) {
    auto result = co_await pool.run(std::move(fn));
    if (!result) co_return fail(Error::unavailable("overloaded", busy, 1));
    co_return std::move(*result);
  }

  void run_janitor();
  // Moves the avatar files of <data_dir>/avatars (from before avatars were rows) into the database.
  void import_avatar_files();
  // Each hashing thread hashes through a helper process of its own (see crypto/hash_worker.hpp).
  std::shared_ptr<void> start_hash_worker();

  Config config_;
  const Clock& clock_;
  std::unique_ptr<store::Store> store_;
  crypto::PasswordHasher hasher_;
  BlockingPool hash_pool_;
  BlockingPool query_pool_;
  std::unique_ptr<BlockingPool> handler_pool_;
  projects::ProjectService projects_;
  session::SessionService sessions_;
  identity::UserService users_;
  identity::UserAdmin user_admin_;
  access::RoleService roles_;
  session::ApiKeyService api_keys_;
  session::PersonalTokenService personal_tokens_;
  session::KeyRing key_ring_;
  session::TokenService tokens_;
  identity::EmailTokenService email_tokens_;
  events::WebhookService webhooks_;
  crypto::ServerKey server_key_;
  HttpClient provider_http_;
  BlockingPool outbound_pool_;
  external::ProviderService providers_;
  external::ProviderClient provider_client_;
  external::OAuthFlows oauth_flows_;
  external::ExternalTokens external_tokens_;
  external::ExternalLogin external_login_;
  licenses::LicenseService licenses_;
  contexts::ContextService contexts_;
  contexts::KeyLogin key_login_;
  events::Dispatcher dispatcher_;
  http::Router router_;
  std::unique_ptr<http::Metrics> metrics_;

  std::mutex janitor_mutex_;
  std::condition_variable janitor_wake_;
  bool janitor_stop_ = false;
  std::thread janitor_;
};

}  // namespace tessera::api
