// Password hashing in helper processes.
//
// Argon2id in one address space loses ~15% of its parallel throughput (measured: 143 vs 167 hashes/s
// on 2 cores) to the kernel's per-process memory-map lock, because libsodium maps and unmaps its
// 19 MiB for every hash. So each hashing thread of the server hands its work to a child process of
// its own (`tessera hash-worker`), over a socket pair, one request at a time. The child inherits
// nothing but that socket, runs niced, and dies with its parent.
#pragma once

#include <sys/types.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "crypto/password_hasher.hpp"

namespace tessera::crypto {

class HashWorker {
 public:
  HashWorker(std::string executable, Argon2Params params, int nice);
  ~HashWorker();
  HashWorker(const HashWorker&) = delete;
  HashWorker& operator=(const HashWorker&) = delete;

  std::string hash(std::string_view password);
  VerifyOutcome verify(std::string_view password, std::string_view stored);

  // The worker serving the calling thread, if any: PasswordHasher delegates to it.
  static HashWorker* current();
  static void set_current(HashWorker* worker);

 private:
  std::string call(char op, std::initializer_list<std::string_view> args);
  void spawn();
  void stop();

  std::string executable_;
  Argon2Params params_;
  int nice_;
  int fd_ = -1;
  pid_t pid_ = -1;
};

// The child's side: serves requests on `fd` until it closes. Returns the process exit code.
int run_hash_worker(int fd, Argon2Params params);

}  // namespace tessera::crypto
