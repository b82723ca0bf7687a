// The storage facade: domain services run their reads and writes through it, against the store
// interfaces declared beside each domain. Backends (store/sqlite, store/postgres) implement it over the
// SQL they share (store/sql).
//
// Expected outcomes (not found, a unique identifier taken) are return values of the store interfaces;
// a failure of the storage itself throws StoreFailure, which ends the request as a 500.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "core/would_block.hpp"
#include "core/error.hpp"
#include "store/changes.hpp"
#include "access/role_store.hpp"
#include "contexts/context_store.hpp"
#include "events/event_store.hpp"
#include "external/flow_store.hpp"
#include "external/identity_store.hpp"
#include "external/provider_store.hpp"
#include "identity/avatar_store.hpp"
#include "identity/one_time_token_store.hpp"
#include "identity/rate_limit_store.hpp"
#include "identity/user_store.hpp"
#include "licenses/license_store.hpp"
#include "projects/project_store.hpp"
#include "session/credential_store.hpp"
#include "session/session_store.hpp"

namespace tessera::store {

struct StoreFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The stores of one transaction.
struct Repositories {
  projects::ProjectStore& projects;
  identity::UserStore& users;
  session::SessionStore& sessions;
  access::RoleStore& roles;
  session::ApiKeyStore& api_keys;
  session::PersonalTokenStore& personal_tokens;
  session::RefreshTokenStore& refresh_tokens;
  session::SigningKeyStore& signing_keys;
  session::RevokedTokenStore& revoked_tokens;
  identity::OneTimeTokenStore& one_time_tokens;
  events::WebhookStore& webhooks;
  events::OutboxStore& outbox;
  external::ProviderStore& providers;
  external::IdentityStore& identities;
  external::FlowStore& flows;
  licenses::LicenseStore& licenses;
  contexts::ContextStore& contexts;
  identity::RateLimitStore& rate_limits;
  identity::AvatarStore& avatars;
  // What this transaction changed that caches may hold (see store/changes.hpp).
  ChangeLog& changes;
};

namespace detail {
template <class T>
struct is_expected : std::false_type {};
template <class T, class E>
struct is_expected<std::expected<T, E>> : std::true_type {};
}  // namespace detail

class Store {
 public:
  virtual ~Store() = default;

  // Runs fn(Repositories&) outside a write transaction; for reads (fn may run again after a lost connection).
  template <class F>
  auto read(F&& fn) {
    return run(false, std::forward<F>(fn));
  }
  // Runs fn(Repositories&) in one transaction. It commits unless fn throws or returns an error
  // (a std::expected without a value), so a failed step never leaves half a change behind.
  // fn may run more than once (PostgreSQL runs a transaction that lost a conflict again): it must not
  // change what it captured in a way a second run would see, nor act outside the store (mail, HTTP:
  // record them in the outbox instead).
  template <class F>
  auto write(F&& fn) {
    return run(true, std::forward<F>(fn));
  }

  // True when the storage answers (for /readyz).
  bool ping();

  // Called after each commit that added outbox rows, so delivery threads start at once.
  void on_outbox_commit(std::function<void()> listener) { outbox_listener_ = std::move(listener); }

  // The caches that committed changes are delivered to. Subscribe while wiring, before serving.
  CacheBus& caches() { return caches_; }
  // Starts receiving other nodes' changes (a no-op for a single-node backend).
  virtual void listen_for_changes() {}
  // True when store calls wait on the network: they must then run off the I/O threads.
  virtual bool blocking() const { return false; }
  // True when no other process serves the same database (the embedded backend).
  virtual bool single_node() const { return true; }

 protected:
  // Calls body once; commits a write when body returns true.
  virtual void transact(bool write, const std::function<bool(Repositories&)>& body) = 0;
  std::function<void()> outbox_listener_;
  CacheBus caches_;

 private:
  template <class F>
  auto run(bool write, F&& fn) {
    if (blocking()) check_may_block();
    using R = std::invoke_result_t<F, Repositories&>;
    if constexpr (std::is_void_v<R>) {
      transact(write, [&](Repositories& r) {
        fn(r);
        return true;
      });
    } else {
      std::optional<R> out;
      transact(write, [&](Repositories& r) {
        out.emplace(fn(r));
        if constexpr (detail::is_expected<R>::value) return out->has_value();
        return true;
      });
      return std::move(*out);
    }
  }
};

inline bool Store::ping() {
  try {
    return read([](Repositories& r) {
      r.projects.list();
      return true;
    });
  } catch (const StoreFailure&) {
    return false;
  }
}

}  // namespace tessera::store
