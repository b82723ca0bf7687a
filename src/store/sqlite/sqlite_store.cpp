#include "store/sqlite/sqlite_store.hpp"

#include <filesystem>

#include "core/log.hpp"
#include "store/sqlite/sqlite_connection.hpp"
#include "store/sql/sql_repositories.hpp"

namespace tessera::store::sqlite {

namespace {
constexpr sql::Migration kMigrations[] = {
#include "sqlite_migrations.inc"
};
constexpr size_t kMaxIdleReaders = 16;
constexpr auto kCheckpointInterval = std::chrono::seconds(1);
constexpr int kAutoCheckpointPages = 100000;  // ~400 MiB
}  // namespace

struct SqliteStore::Slot {
  Connection conn;
  sql::SqlRepositories stores{conn};
  Slot(const std::string& path, bool create, const std::string& sync) : conn(path, create, sync) {}
};

SqliteStore::SqliteStore(const std::string& data_dir, std::string synchronous)
    : path_((std::filesystem::path(data_dir) / "tessera.db").string()), synchronous_(std::move(synchronous)) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) throw StoreFailure("cannot create data dir " + data_dir + ": " + ec.message());
  writer_ = std::make_unique<Slot>(path_, true, synchronous_);
  // A safety net only: the checkpointer keeps the WAL far below this many pages.
  writer_->conn.exec("PRAGMA wal_autocheckpoint=" + std::to_string(kAutoCheckpointPages));
  checkpointer_ = std::thread([this] { run_checkpoints(); });
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(checkpoint_mutex_);
    stopping_ = true;
  }
  checkpoint_wake_.notify_all();
  checkpointer_.join();
}

void SqliteStore::run_checkpoints() {
  std::unique_ptr<Connection> conn;
  std::unique_lock lock(checkpoint_mutex_);
  while (!checkpoint_wake_.wait_for(lock, kCheckpointInterval, [this] { return stopping_; })) {
    lock.unlock();
    try {
      if (!conn) conn = std::make_unique<Connection>(path_, false, synchronous_);
      conn->exec("PRAGMA wal_checkpoint(PASSIVE)");  // never blocks readers or the writer
    } catch (const std::exception& e) {
      log::warn("WAL checkpoint failed", {{"internal", e.what()}});
      conn.reset();
    }
    lock.lock();
  }
}

std::unique_ptr<SqliteStore::Slot> SqliteStore::open_slot() {
  return std::make_unique<Slot>(path_, false, synchronous_);
}

int SqliteStore::migrate() {
  std::lock_guard lock(writer_mutex_);
  Connection& c = writer_->conn;
  c.exec("BEGIN IMMEDIATE");
  try {
    c.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
    int applied = 0;
    for (const sql::Migration& m : kMigrations) {
      auto check = c.prepare("SELECT 1 FROM schema_migrations WHERE version = ?1");
      check.bind(1, std::string_view(m.name));
      if (check.step()) continue;
      c.exec(m.sql);
      auto mark = c.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, unixepoch())");
      mark.bind(1, std::string_view(m.name)).run();
      log::info("migration applied", {{"version", m.name}});
      ++applied;
    }
    c.exec("COMMIT");
    return applied;
  } catch (...) {
    c.exec("ROLLBACK");
    throw;
  }
}

std::unique_ptr<SqliteStore::Slot> SqliteStore::acquire_reader() {
  {
    std::lock_guard lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      auto slot = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return slot;
    }
  }
  return open_slot();
}

void SqliteStore::release_reader(std::unique_ptr<Slot> slot) {
  std::lock_guard lock(readers_mutex_);
  if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(slot));
}

void SqliteStore::transact(bool write, const std::function<bool(Repositories&)>& body) {
  if (!write) {
    auto slot = acquire_reader();
    body(slot->stores.repos);  // a failure drops the connection instead of returning it in an unknown state
    release_reader(std::move(slot));
    return;
  }
  bool wake_outbox = false;
  std::vector<Change> changes;
  {
    std::lock_guard lock(writer_mutex_);
    sql::SqlRepositories& stores = writer_->stores;
    Connection& c = writer_->conn;
    c.prepare("BEGIN IMMEDIATE").run();
    bool commit = false;
    try {
      commit = body(stores.repos);
    } catch (...) {
      stores.outbox.take_inserted();
      stores.changes.take();
      try {
        c.prepare("ROLLBACK").run();
      } catch (...) {
      }
      throw;
    }
    wake_outbox = stores.outbox.take_inserted() && commit;
    changes = stores.changes.take();
    if (commit) c.prepare("COMMIT").run();
    else c.prepare("ROLLBACK").run();
    if (!commit) changes.clear();
  }
  for (const Change& change : changes) caches_.deliver(change);
  if (wake_outbox && outbox_listener_) outbox_listener_();
}

}  // namespace tessera::store::sqlite
