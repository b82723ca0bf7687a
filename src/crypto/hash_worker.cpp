#include "crypto/hash_worker.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

extern char** environ;

namespace tessera::crypto {

namespace {

constexpr char kHash = 'h';
constexpr char kVerify = 'v';
constexpr int kChildFd = 3;
constexpr uint32_t kMaxFrame = 1 << 20;

thread_local HashWorker* t_current = nullptr;

bool write_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);  // a dead peer is an error, not SIGPIPE
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool read_exact(int fd, void* data, size_t n) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool write_string(int fd, std::string_view s) {
  uint32_t len = static_cast<uint32_t>(s.size());
  return write_all(fd, &len, sizeof len) && write_all(fd, s.data(), s.size());
}

bool read_string(int fd, std::string& out) {
  uint32_t len;
  if (!read_exact(fd, &len, sizeof len) || len > kMaxFrame) return false;
  out.resize(len);
  return read_exact(fd, out.data(), len);
}

}  // namespace

HashWorker* HashWorker::current() { return t_current; }
void HashWorker::set_current(HashWorker* worker) { t_current = worker; }

HashWorker::HashWorker(std::string executable, Argon2Params params, int nice)
    : executable_(std::move(executable)), params_(params), nice_(nice) {
  spawn();
}

HashWorker::~HashWorker() { stop(); }

void HashWorker::spawn() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
  std::string memory = std::to_string(params_.memory_kib), iterations = std::to_string(params_.iterations),
              nice = std::to_string(nice_);
  std::vector<char*> argv = {executable_.data(), const_cast<char*>("hash-worker"), const_cast<char*>("--memory-kib"),
                             memory.data(), const_cast<char*>("--iterations"), iterations.data(),
                             const_cast<char*>("--nice"), nice.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], kChildFd);  // the copy at fd 3 is not close-on-exec
  posix_spawn_file_actions_addclosefrom_np(&actions, kChildFd + 1);
  int rc = posix_spawn(&pid_, executable_.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    throw std::runtime_error("cannot start hash worker " + executable_ + ": " + std::strerror(rc));
  }
  fd_ = fds[0];
}

void HashWorker::stop() {
  if (fd_ >= 0) ::close(fd_);  // the child reads EOF and exits
  fd_ = -1;
  if (pid_ > 0) {
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
}

std::string HashWorker::call(char op, std::initializer_list<std::string_view> args) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool sent = write_all(fd_, &op, 1);
    for (auto a : args) sent = sent && write_string(fd_, a);
    std::string reply;
    if (sent && read_string(fd_, reply)) return reply;
    stop();  // the child died: start a new one and try once more
    spawn();
  }
  throw std::runtime_error("hash worker failed twice");
}

std::string HashWorker::hash(std::string_view password) { return call(kHash, {password}); }

VerifyOutcome HashWorker::verify(std::string_view password, std::string_view stored) {
  std::string reply = call(kVerify, {password, stored});
  return VerifyOutcome{reply.size() == 2 && reply[0] == '1', reply.size() == 2 && reply[1] == '1'};
}

int run_hash_worker(int fd, Argon2Params params) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() == 1) return 0;  // the parent is already gone
  PasswordHasher hasher(params);
  for (;;) {
    char op;
    if (!read_exact(fd, &op, 1)) return 0;  // parent closed the socket
    std::string password, stored;
    if (!read_string(fd, password)) return 1;
    std::string reply;
    if (op == kHash) {
      reply = hasher.hash(password);
    } else if (op == kVerify) {
      if (!read_string(fd, stored)) return 1;
      VerifyOutcome v = hasher.verify(password, stored);
      reply = {v.ok ? '1' : '0', v.needs_rehash ? '1' : '0'};
    } else {
      return 1;
    }
    sodium_memzero(password.data(), password.size());
    if (!write_string(fd, reply)) return 1;
  }
}

}  // namespace tessera::crypto
