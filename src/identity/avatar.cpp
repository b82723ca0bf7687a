#include "identity/avatar.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <stdexcept>
#include <system_error>

#include "core/log.hpp"
#include "core/uuid.hpp"
#include "crypto/random.hpp"
#include "events/outbox.hpp"
#include "store/store.hpp"

namespace tessera::identity {

namespace fs = std::filesystem;

namespace {

constexpr size_t kVersionCacheSize = 10'000;

[[noreturn]] void throw_errno(const char* what, const fs::path& path) {
  throw std::system_error(errno, std::generic_category(), std::string(what) + " " + path.string());
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

void write_all(int fd, std::string_view bytes, const fs::path& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("write", path);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// A rename or a new entry is durable only once its directory is synced.
void sync_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) throw_errno("sync", dir);
}

int64_t mtime_ns(const struct stat& st) { return int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec; }

Error user_gone() { return Error::not_found("user_not_found", "No user has this id in the project."); }

// Avatar changes are rare: taking them one at a time keeps the files and the rows in the same order.
std::mutex change_mutex;

Result<User> write_avatar_url(store::Store& store, const User& user, const std::optional<std::string>& url,
                              Timestamp now) {
  return store.write([&](store::Repositories& r) -> Result<User> {
    auto current = r.users.find(user.project_id, user.id);
    if (!current) return fail(user_gone());
    if (current->avatar_url == url) return std::move(*current);  // nothing changes: no event
    r.users.set_avatar(user.id, url, now);
    User updated = r.users.find(user.project_id, user.id).value();
    events::record(r, now, {"user.updated", updated.project_id, {{"user", to_json(updated)}}});
    return updated;
  });
}

}  // namespace

std::optional<std::string_view> sniff_image_type(std::string_view b) {
  using namespace std::string_view_literals;
  if (b.starts_with("\x89PNG\r\n\x1a\n"sv)) return "image/png";
  if (b.starts_with("\xff\xd8\xff"sv)) return "image/jpeg";
  if (b.size() >= 12 && b.starts_with("RIFF"sv) && b.substr(8, 4) == "WEBP"sv) return "image/webp";
  return std::nullopt;
}

std::string avatar_version(std::string_view bytes) {
  unsigned char out[16];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), nullptr, 0);
  return crypto::hex_encode(std::string_view(reinterpret_cast<const char*>(out), sizeof out));
}

std::string avatar_url(std::string_view public_url, std::string_view user_id, std::string_view version) {
  while (public_url.ends_with('/')) public_url.remove_suffix(1);
  return std::string(public_url) + "/v1/users/" + std::string(user_id) + "/avatar?v=" + std::string(version);
}

AvatarStore::AvatarStore(const fs::path& data_dir) : root_(data_dir / "avatars"), versions_(kVersionCacheSize) {}

std::optional<fs::path> AvatarStore::path_of(std::string_view user_id) const {
  if (!is_uuid(user_id)) return std::nullopt;
  return root_ / user_id.substr(34) / user_id;
}

std::string AvatarStore::save(std::string_view user_id, std::string_view bytes) {
  auto path = path_of(user_id);
  if (!path) throw std::invalid_argument("not a user id: " + std::string(user_id));
  const fs::path dir = path->parent_path();
  if (fs::create_directories(dir)) {  // make the new directories themselves durable
    sync_dir(root_);
    sync_dir(root_.parent_path());
  }
  // A name of its own per writer; a crash may leave one behind, never in place of an image.
  fs::path tmp = *path;
  tmp += ".tmp-";
  tmp += crypto::hex_encode(crypto::random_bytes(8));
  struct stat st {};
  try {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) throw_errno("create", tmp);
    write_all(fd.get(), bytes, tmp);
    if (::fsync(fd.get()) != 0 || ::fstat(fd.get(), &st) != 0) throw_errno("sync", tmp);
    fd.close();
    if (::rename(tmp.c_str(), path->c_str()) != 0) throw_errno("rename", tmp);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  sync_dir(dir);
  // rename keeps the inode and mtime, so this stamp matches the file that now holds the image.
  Stamp stamp{static_cast<uint64_t>(st.st_ino), mtime_ns(st), static_cast<uint64_t>(st.st_size), avatar_version(bytes)};
  versions_.put(user_id, std::make_shared<const Stamp>(stamp));
  return stamp.version;
}

std::optional<Avatar> AvatarStore::load(std::string_view user_id) {
  auto path = path_of(user_id);
  if (!path) return std::nullopt;
  Fd fd(::open(path->c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("open", *path);
  }
  // Files are replaced, never rewritten: what this descriptor reads matches its stat.
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno("stat", *path);
  Avatar avatar;
  avatar.bytes.resize(static_cast<size_t>(st.st_size));
  for (size_t done = 0; done < avatar.bytes.size();) {
    ssize_t n = ::pread(fd.get(), avatar.bytes.data() + done, avatar.bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("read", *path);
    if (n == 0) throw std::runtime_error("avatar file shrank while read: " + path->string());
    done += static_cast<size_t>(n);
  }
  auto type = sniff_image_type(avatar.bytes);
  if (!type) return std::nullopt;  // only sniffed images are saved; anything else is not ours to serve
  avatar.type = *type;
  auto stamp = versions_.get(user_id);
  if (!stamp || stamp->inode != static_cast<uint64_t>(st.st_ino) || stamp->mtime_ns != mtime_ns(st) ||
      stamp->size != avatar.bytes.size()) {
    stamp = std::make_shared<const Stamp>(Stamp{static_cast<uint64_t>(st.st_ino), mtime_ns(st), avatar.bytes.size(),
                                                avatar_version(avatar.bytes)});
    versions_.put(user_id, stamp);
  }
  avatar.etag = "\"" + stamp->version + "\"";
  return avatar;
}

bool AvatarStore::remove(std::string_view user_id) {
  auto path = path_of(user_id);
  if (!path) return false;
  versions_.erase(user_id);
  // Not synced: a removal undone by a crash leaves a file no avatar_url names.
  std::error_code ec;
  bool removed = fs::remove(*path, ec);
  if (ec) log::warn("cannot remove an avatar file", {{"path", path->string()}, {"internal", ec.message()}});
  return removed;
}

Result<User> change_avatar(store::Store& store, AvatarStore& avatars, const User& user, std::string_view image,
                           std::string_view public_url, Timestamp now) {
  if (image.size() > kMaxAvatarBytes)
    return fail(Error::make(413, "payload_too_large", "An avatar is at most 2 MiB."));
  if (!sniff_image_type(image))
    return fail(Error::make(415, "unsupported_media_type", "An avatar must be a PNG, JPEG or WebP image."));
  std::lock_guard lock(change_mutex);
  std::string version = avatars.save(user.id, image);
  auto updated = write_avatar_url(store, user, avatar_url(public_url, user.id, version), now);
  if (!updated) avatars.remove(user.id);  // the user was deleted meanwhile: leave no orphan file
  return updated;
}

std::optional<Avatar> find_avatar(store::Store& store, AvatarStore& avatars, std::string_view user_id) {
  if (!is_uuid(user_id)) return std::nullopt;
  // The row decides: a file left by a crash during a removal is not served.
  auto user = store.read([&](store::Repositories& r) { return r.users.find_any(user_id); });
  if (!user || !user->avatar_url) return std::nullopt;
  return avatars.load(user_id);
}

Result<User> remove_avatar(store::Store& store, AvatarStore& avatars, const User& user, Timestamp now) {
  std::lock_guard lock(change_mutex);
  auto updated = write_avatar_url(store, user, std::nullopt, now);
  if (updated) avatars.remove(user.id);
  return updated;
}

}  // namespace tessera::identity
