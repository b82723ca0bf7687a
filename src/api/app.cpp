#include "api/app.hpp"

#include "core/node_id.hpp"

#include "api/routes.hpp"
#include "core/log.hpp"
#include "crypto/hash_worker.hpp"
#include "identity/avatar_import.hpp"

#include <filesystem>

namespace tessera::api {

namespace {
unsigned or_cores(unsigned n) { return n ? n : std::max(1u, std::thread::hardware_concurrency()); }
constexpr auto kSweepInterval = std::chrono::minutes(10);
constexpr auto kJanitorTick = std::chrono::minutes(1);

std::string token_issuer(const Config& c) {
  if (!c.token.issuer.empty()) return c.token.issuer;
  if (!c.server.public_url.empty()) return c.server.public_url;
  return "tessera";
}
// Hashing threads run at a lower CPU priority, so that session checks on the I/O threads keep a
// low latency while logins saturate the cores.
constexpr int kHashingNice = 10;
constexpr unsigned kQueryQueueLimit = 64;
// Requests waiting for a handler thread when the store blocks (PostgreSQL); beyond it, 503 overloaded.
constexpr unsigned kHandlerQueueLimit = 4096;
constexpr unsigned kOutboundQueueLimit = 32;
constexpr size_t kProviderAnswerLimit = 1 << 20;
constexpr auto kLoginCodeTtl = std::chrono::minutes(2);

crypto::ServerKey load_server_key(const Config& c) {
  std::string file = c.server.secret_key_file;
  if (file.empty()) file = (std::filesystem::path(c.store.data_dir) / "secret.key").string();
  auto key = crypto::ServerKey::load(c.server.secret_key, file);
  if (!key) throw std::runtime_error(key.error().message);
  return std::move(*key);
}
}  // namespace

App::App(Config config, std::unique_ptr<store::Store> store, const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      store_(std::move(store)),
      hasher_(crypto::Argon2Params{config_.password.memory_kib, config_.password.iterations}),
      hash_pool_(or_cores(config_.password.workers), config_.password.queue_limit, kHashingNice,
                 [this] { return start_hash_worker(); }),
      query_pool_(or_cores(0), kQueryQueueLimit),
      handler_pool_(store_->blocking() ? std::make_unique<BlockingPool>(config_.store.pool_size, kHandlerQueueLimit)
                                       : nullptr),
      projects_(*store_, clock_),
      sessions_(*store_, clock_, config_.session),
      users_(*store_, clock_, hasher_, sessions_, config_.session.cache_size),
      user_admin_(*store_, clock_, hasher_, users_, sessions_),
      roles_(*store_, clock_, config_.session.cache_size),
      api_keys_(*store_, clock_, config_.session.cache_size),
      personal_tokens_(*store_, clock_, config_.token.personal_token_max_ttl, config_.session.cache_size),
      key_ring_(*store_, clock_, std::max(config_.token.access_ttl, config_.licenses.activation_token_ttl)),
      tokens_(*store_, clock_, config_.token, token_issuer(config_), key_ring_, config_.session.cache_size),
      email_tokens_(*store_, clock_, hasher_, config_, projects_, users_),
      webhooks_(*store_, clock_),
      server_key_(load_server_key(config_)),
      provider_http_(config_.external.http_timeout, config_.external.allow_private, "Tessera/" TESSERA_VERSION,
                     kProviderAnswerLimit),
      outbound_pool_(config_.external.workers, kOutboundQueueLimit),
      providers_(*store_, clock_, server_key_, config_.external.allow_private),
      provider_client_(provider_http_, clock_, config_.external.jwks_cache_ttl, config_.external.jwks_refresh_interval),
      oauth_flows_(*store_, clock_, server_key_, provider_client_, providers_,
                   {config_.external.flow_ttl, config_.external.clock_skew, config_.server.public_url}),
      external_tokens_(provider_client_, providers_, clock_, config_.external.clock_skew),
      external_login_(*store_, clock_, users_, kLoginCodeTtl, config_.session.cache_size),
      licenses_(*store_, clock_, server_key_, key_ring_, token_issuer(config_), config_.licenses.activation_token_ttl),
      contexts_(*store_, clock_),
      key_login_(*store_, clock_, token_issuer(config_)),
      dispatcher_(*store_, clock_, config_, projects_, load_node_id(config_.store.data_dir)) {
  sessions_.set_project_lookup([this](const std::string& id) { return projects_.find(id); });

  register_operations_routes(router_, *this);
  register_auth_routes(router_, *this);
  register_me_routes(router_, *this);
  register_token_routes(router_, *this);
  register_api_key_routes(router_, *this);
  register_role_routes(router_, *this);
  register_users_routes(router_, *this);
  register_avatar_routes(router_, *this);
  register_account_routes(router_, *this);
  register_webhook_routes(router_, *this);
  register_project_routes(router_, *this);
  register_rpc_routes(router_, *this);
  register_provider_routes(router_, *this);
  register_external_auth_routes(router_, *this);
  register_license_routes(router_, *this);
  register_context_routes(router_, *this);

  std::vector<std::string> names;
  for (auto& r : router_.routes()) names.push_back(std::string(boost::beast::http::to_string(r.method)) + " " + r.pattern);
  metrics_ = std::make_unique<http::Metrics>(std::move(names));
  logins_ok = &metrics_->counter("tessera_logins_total", "Successful password logins.");
  logins_failed = &metrics_->counter("tessera_login_failures_total", "Refused password logins.");
  metrics_->gauge("tessera_hash_queue_depth", "Password hashing jobs waiting or running.",
                  [this] { return static_cast<double>(hash_pool_.depth()); });
  metrics_->gauge("tessera_query_queue_depth", "List and bulk queries waiting or running.",
                  [this] { return static_cast<double>(query_pool_.depth()); });
  metrics_->gauge("tessera_outbox_pending", "Webhook, mail and task deliveries waiting (including retries).", [this] {
    return static_cast<double>(store_->read([](store::Repositories& r) { return r.outbox.count_pending(); }));
  });
  metrics_->gauge("tessera_sessions_active", "Sessions neither expired nor revoked.",
                  [this] { return static_cast<double>(sessions_.count_active()); });

  dispatcher_.on_task(std::string(identity::kPasswordResetTask),
                      [this](store::Repositories& r, const std::string& project_id, const boost::json::object& input) {
                        email_tokens_.issue_password_reset(r, project_id, input);
                      });
  store_->on_outbox_commit([this] { dispatcher_.wake(); });
  import_avatar_files();
}

void App::load_config_providers() {
  auto ok = providers_.load_config(config_.providers, [this](const std::string& name) {
    auto project = projects_.find(name);
    return project ? project->id : std::string();
  });
  if (!ok) throw std::runtime_error(ok.error().message);
}

void App::start(const std::string& bound_address) {
  config_.server.listen = bound_address;  // before any background thread reads it (mail links)
  store_->listen_for_changes();
  dispatcher_.start();
  janitor_ = std::thread([this] { run_janitor(); });
}

App::~App() {
  {
    std::lock_guard lock(janitor_mutex_);
    janitor_stop_ = true;
  }
  janitor_wake_.notify_all();
  if (janitor_.joinable()) janitor_.join();
  dispatcher_.stop();
  store_->on_outbox_commit(nullptr);
}

// Avatars were files in the data dir before they moved to the database: move any left there, before
// serving, so that no image goes missing for a moment.
void App::import_avatar_files() {
  auto done = identity::import_avatar_files(*store_, config_.store.data_dir, clock_.now());
  if (done.imported || done.discarded || done.skipped)
    log::info("avatar files imported", {{"from", (std::filesystem::path(config_.store.data_dir) / "avatars").string()}},
              {{"count", static_cast<long long>(done.imported)},
               {"discarded", static_cast<long long>(done.discarded)},
               {"skipped", static_cast<long long>(done.skipped)}});
}

std::shared_ptr<void> App::start_hash_worker() {
  try {
    auto worker = std::make_shared<crypto::HashWorker>(std::filesystem::read_symlink("/proc/self/exe").string(),
                                                       hasher_.params(), kHashingNice);
    crypto::HashWorker::set_current(worker.get());
    return worker;
  } catch (const std::exception& e) {
    log::warn("hashing in-process: cannot start a hash worker", {{"internal", e.what()}});
    return nullptr;
  }
}

// Background upkeep: reload the signing keys every minute (rotation by the CLI or another node) and
// delete expired sessions and revocation entries every ten minutes.
void App::run_janitor() {
  std::unique_lock lock(janitor_mutex_);
  auto last_sweep = std::chrono::steady_clock::now() - kSweepInterval;
  while (!janitor_stop_) {
    lock.unlock();
    try {
      key_ring_.reload();
      if (std::chrono::steady_clock::now() - last_sweep >= kSweepInterval) {
        last_sweep = std::chrono::steady_clock::now();
        if (uint64_t n = sessions_.remove_expired())
          log::info("expired sessions removed", {}, {{"count", static_cast<long long>(n)}});
        tokens_.sweep();
        dispatcher_.sweep();
        email_tokens_.remove_expired();
        store_->write([this](store::Repositories& r) {
          r.flows.remove_expired(clock_.now());
          r.contexts.remove_expired_challenges(clock_.now());
        });
      }
    } catch (const std::exception& e) {
      log::error("janitor failed", {{"internal", e.what()}});
    }
    lock.lock();
    janitor_wake_.wait_for(lock, kJanitorTick, [this] { return janitor_stop_; });
  }
}

}  // namespace tessera::api
