#include "store/postgres/pg_store.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <random>

#include "core/log.hpp"
#include "crypto/random.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_notifications.hpp"
#include "store/sql/sql_repositories.hpp"

namespace tessera::store::postgres {

namespace {

constexpr sql::Migration kMigrations[] = {
#include "postgres_migrations.inc"
};

constexpr const char* kChannel = "tessera_changes";
constexpr int kMaxAttempts = 8;                              // runs of one write that lost conflicts
constexpr auto kAcquireTimeout = std::chrono::seconds(10);   // waiting for a pooled connection
constexpr int64_t kMigrationLock = 0x7465737365726101;       // pg_advisory_lock key: "tessera" + 1

}  // namespace

struct PgStore::Slot {
  PgConnection conn;
  sql::SqlRepositories stores{conn};
  explicit Slot(const std::string& url) : conn(url) {}
};

PgStore::PgStore(std::string url, unsigned pool_size)
    : url_(std::move(url)), pool_size_(std::max(1u, pool_size)), node_id_(crypto::hex_encode(crypto::random_bytes(8))) {
  release(acquire(), true);  // fail at start-up, not at the first request, when the database is unreachable
}

PgStore::~PgStore() {
  stopping_ = true;
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }
  if (listener_.joinable()) listener_.join();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

std::unique_ptr<PgStore::Slot> PgStore::acquire() {
  std::unique_lock lock(pool_mutex_);
  auto ready = [this] { return !idle_.empty() || open_ < pool_size_; };
  if (!pool_available_.wait_for(lock, kAcquireTimeout, ready))
    throw StoreFailure("postgres: no connection of the pool became free within 10 s");
  if (!idle_.empty()) {
    auto slot = std::move(idle_.back());
    idle_.pop_back();
    return slot;
  }
  ++open_;
  lock.unlock();
  try {
    return std::make_unique<Slot>(url_);
  } catch (...) {
    lock.lock();
    --open_;
    pool_available_.notify_one();
    throw;
  }
}

void PgStore::release(std::unique_ptr<Slot> slot, bool reusable) {
  reusable = reusable && !slot->conn.broken() && !slot->conn.in_transaction();
  std::lock_guard lock(pool_mutex_);
  if (reusable) idle_.push_back(std::move(slot));
  else --open_;
  pool_available_.notify_one();
}

int PgStore::migrate() {
  auto slot = acquire();
  PgConnection& c = slot->conn;
  int applied = 0;
  try {
    c.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLock) + ")");
    c.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)");
    for (const sql::Migration& m : kMigrations) {
      auto check = c.prepare_once("SELECT 1 FROM schema_migrations WHERE version = ?1");
      check.bind(1, std::string_view(m.name));
      if (check.step()) continue;
      c.exec("BEGIN");
      try {
        c.exec(m.sql);
        auto mark = c.prepare_once(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, (extract(epoch FROM now()) * 1000000)::bigint)");
        mark.bind(1, std::string_view(m.name)).run();
        c.exec("COMMIT");
      } catch (...) {
        c.exec("ROLLBACK");
        throw;
      }
      log::info("migration applied", {{"version", m.name}});
      ++applied;
    }
    c.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLock) + ")");
  } catch (...) {
    release(std::move(slot), false);  // closing the connection also frees the advisory lock
    throw;
  }
  release(std::move(slot), true);
  return applied;
}

void PgStore::transact(bool write, const std::function<bool(Repositories&)>& body) {
  std::minstd_rand jitter(std::random_device{}());
  for (int attempt = 1;; ++attempt) {
    auto slot = acquire();
    PgConnection& c = slot->conn;
    sql::SqlRepositories& stores = slot->stores;
    bool commit_sent = false;
    try {
      if (!write) {
        body(stores.repos);
        stores.changes.take();
        release(std::move(slot), true);
        return;
      }
      c.exec("BEGIN ISOLATION LEVEL SERIALIZABLE");
      bool commit = body(stores.repos);
      bool wake_outbox = stores.outbox.take_inserted() && commit;
      std::vector<Change> changes = stores.changes.take();
      if (commit) {
        if (!changes.empty())  // delivered to the listeners when (and only if) the commit succeeds
          c.prepare("SELECT pg_notify('tessera_changes', ?1)").bind(1, encode_changes(node_id_, changes)).run();
        commit_sent = true;
        c.exec("COMMIT");
      } else {
        c.exec("ROLLBACK");
        changes.clear();
      }
      release(std::move(slot), true);
      for (const Change& change : changes) caches_.deliver(change);
      if (wake_outbox && outbox_listener_) outbox_listener_();
      return;
    } catch (const StoreFailure& e) {
      stores.outbox.take_inserted();
      stores.changes.take();
      bool lost = dynamic_cast<const ConnectionLost*>(&e) != nullptr;
      if (!lost && c.in_transaction()) {
        try {
          c.exec("ROLLBACK");
        } catch (...) {
        }
      }
      release(std::move(slot), !lost);
      // A conflict, or a connection that broke before COMMIT left: nothing was applied, run it again.
      bool retry = dynamic_cast<const SerializationFailure*>(&e) != nullptr || (lost && !commit_sent);
      if (!retry || attempt >= kMaxAttempts) throw;
      std::this_thread::sleep_for(std::chrono::microseconds(jitter() % (500u << std::min(attempt, 6))));
    } catch (...) {
      stores.outbox.take_inserted();
      stores.changes.take();
      if (c.in_transaction()) {
        try {
          c.exec("ROLLBACK");
        } catch (...) {
        }
      }
      release(std::move(slot), true);
      throw;
    }
  }
}

void PgStore::listen_for_changes() {
  if (listener_.joinable()) return;
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw StoreFailure("eventfd failed");
  listener_ = std::thread([this] { run_listener(); });
}

// One connection that LISTENs; notifications from other nodes go to this node's caches. While it is
// down, nothing is known about other nodes' changes: every cache is emptied when it drops and again
// when it is back.
void PgStore::run_listener() {
  std::unique_ptr<PgConnection> conn;
  bool announced_loss = false;
  while (!stopping_) {
    if (!conn) {
      try {
        conn = std::make_unique<PgConnection>(url_);
        conn->exec(std::string("LISTEN ") + kChannel);
        caches_.deliver_everything();
        if (announced_loss) log::info("change notifications resumed");
        announced_loss = false;
      } catch (const std::exception& e) {
        conn.reset();
        if (!announced_loss) log::warn("change notifications lost; retrying", {{"internal", e.what()}});
        announced_loss = true;
        caches_.deliver_everything();
        pollfd wake{wake_fd_, POLLIN, 0};
        ::poll(&wake, 1, 500);
        continue;
      }
    }
    pollfd fds[2] = {{PQsocket(conn->handle()), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    ::poll(fds, 2, 1000);
    if (stopping_) break;
    if (PQconsumeInput(conn->handle()) == 0 || conn->broken()) {
      log::warn("change notifications lost; reconnecting", {{"internal", PQerrorMessage(conn->handle())}});
      announced_loss = true;
      caches_.deliver_everything();
      conn.reset();
      continue;
    }
    while (PGnotify* n = PQnotifies(conn->handle())) {
      for (const Change& change : decode_changes(n->extra, node_id_)) caches_.deliver(change);
      PQfreemem(n);
    }
  }
}

}  // namespace tessera::store::postgres
