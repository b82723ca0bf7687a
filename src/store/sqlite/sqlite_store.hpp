// The embedded backend: one SQLite database in WAL mode inside the data dir.
// Readers take a connection from a small pool and run concurrently; writers share one connection
// behind a mutex, so in-process writers queue in memory instead of spinning on SQLite's busy handler.
// WAL checkpoints (the only fsyncs with synchronous=NORMAL) run on a background thread every second,
// not inside whichever request happens to commit.
#pragma once

#include <memory>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace tessera::store::sqlite {

class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) `<data_dir>/tessera.db`.
  SqliteStore(const std::string& data_dir, std::string synchronous);
  ~SqliteStore() override;

  // Applies the numbered migrations not applied yet; returns how many ran.
  int migrate();

 protected:
  void transact(bool write, const std::function<bool(Repositories&)>& body) override;

 private:
  struct Slot;
  std::unique_ptr<Slot> open_slot();
  std::unique_ptr<Slot> acquire_reader();
  void release_reader(std::unique_ptr<Slot> slot);

  std::string path_;
  std::string synchronous_;
  std::mutex writer_mutex_;
  std::unique_ptr<Slot> writer_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Slot>> idle_readers_;

  void run_checkpoints();
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  bool stopping_ = false;
  std::thread checkpointer_;
};

}  // namespace tessera::store::sqlite
