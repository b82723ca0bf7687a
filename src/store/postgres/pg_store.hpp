// The multi-node backend: one PostgreSQL database shared by every Tessera node.
//
// - A bounded pool of connections; a caller waits for a free one (up to a few seconds), never opens more.
// - Writes run SERIALIZABLE, so every transaction behaves as if it ran alone, as on SQLite's single
//   writer; one that loses a conflict (SQLSTATE 40001/40P01) is rolled back and run again, a few times.
//   Reads run in autocommit, each statement on its own snapshot.
// - What a write changed that caches may hold is sent with NOTIFY inside the transaction, so it reaches
//   the other nodes exactly when it commits; a listener connection per node delivers it to the local
//   caches. When that connection drops, every cache is emptied (a notification may have been missed).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.hpp"

namespace tessera::store::postgres {

class PgStore final : public Store {
 public:
  PgStore(std::string url, unsigned pool_size);
  ~PgStore() override;

  // Applies the numbered migrations not applied yet, under an advisory lock so that nodes starting
  // together apply each one once; returns how many this call applied.
  int migrate();
  void listen_for_changes() override;
  bool blocking() const override { return true; }
  bool single_node() const override { return false; }

 protected:
  void transact(bool write, const std::function<bool(Repositories&)>& body) override;

 private:
  struct Slot;
  std::unique_ptr<Slot> acquire();
  void release(std::unique_ptr<Slot> slot, bool reusable);
  void run_listener();

  std::string url_;
  unsigned pool_size_;
  std::string node_id_;  // tells this node's own notifications apart

  std::mutex pool_mutex_;
  std::condition_variable pool_available_;
  std::vector<std::unique_ptr<Slot>> idle_;
  unsigned open_ = 0;

  std::atomic<bool> stopping_{false};
  int wake_fd_ = -1;  // an eventfd that interrupts the listener's wait
  std::thread listener_;
};

}  // namespace tessera::store::postgres
