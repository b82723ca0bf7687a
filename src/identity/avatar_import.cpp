#include "identity/avatar_import.hpp"

#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "core/log.hpp"
#include "core/uuid.hpp"
#include "identity/avatar.hpp"
#include "store/store.hpp"

namespace tessera::identity {

namespace fs = std::filesystem;

namespace {

enum class Outcome { imported, discarded, skipped };

// The entries of a directory, listed before any is removed.
std::vector<fs::directory_entry> entries_of(const fs::path& dir) {
  std::vector<fs::directory_entry> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) out.push_back(*it);
  if (ec) log::warn("cannot list an avatar directory", {{"path", dir.string()}, {"internal", ec.message()}});
  return out;
}

bool is_regular_file(const fs::directory_entry& entry) {
  std::error_code ec;
  return entry.is_regular_file(ec) && !entry.is_symlink(ec);
}

std::optional<std::string> read_image(const fs::path& path) {
  std::error_code ec;
  uintmax_t size = fs::file_size(path, ec);
  if (ec || size > kMaxAvatarBytes) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::string bytes(static_cast<size_t>(size), '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) return std::nullopt;
  if (in.peek() != std::ifstream::traits_type::eof()) return std::nullopt;  // grew while read
  return bytes;
}

void remove_file(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) log::warn("cannot remove an avatar file", {{"path", path.string()}, {"internal", ec.message()}});
}

// Removes `dir` when it is empty (a directory still holding something fails quietly).
void remove_if_empty(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_empty(dir, ec) && !ec) fs::remove(dir, ec);
}

Outcome import_file(store::Store& store, const fs::path& path, const std::string& user_id, Timestamp now) {
  auto bytes = read_image(path);
  if (!bytes) {
    log::warn("avatar file not imported: unreadable or over 2 MiB", {{"path", path.string()}});
    return Outcome::skipped;
  }
  auto type = sniff_image_type(*bytes);
  if (!type) {
    log::warn("avatar file not imported: not a PNG, JPEG or WebP image", {{"path", path.string()}});
    return Outcome::skipped;
  }
  StoredAvatar avatar{std::string(*type), avatar_version(*bytes), std::move(*bytes), now};
  bool imported = store.write([&](store::Repositories& r) {
    // The old server served a file only while its user's row named an avatar.
    auto user = r.users.find_any(user_id);
    if (!user || !user->avatar_url || r.avatars.find_version(user_id)) return false;
    r.avatars.put(user_id, avatar);
    return true;
  });
  remove_file(path);  // once committed: a crash before this imports nothing twice (the row is there)
  return imported ? Outcome::imported : Outcome::discarded;
}

// A file of <data_dir>/avatars/<2 hex digits>/: an image, a temporary file, or something else.
Outcome import_entry(store::Store& store, const fs::directory_entry& entry, const std::string& shard, Timestamp now) {
  const std::string name = entry.path().filename().string();
  if (is_regular_file(entry) && name.size() >= 36 && is_uuid(std::string_view(name).substr(0, 36)) &&
      name.substr(34, 2) == shard) {
    if (name.size() == 36) return import_file(store, entry.path(), name, now);
    if (name.substr(36).starts_with(".tmp-")) {  // a write the old server never finished
      remove_file(entry.path());
      return Outcome::discarded;
    }
  }
  log::warn("avatar file not imported: not an avatar", {{"path", entry.path().string()}});
  return Outcome::skipped;
}

}  // namespace

AvatarImport import_avatar_files(store::Store& store, const fs::path& data_dir, Timestamp now) {
  AvatarImport done;
  const fs::path root = data_dir / "avatars";
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return done;
  for (const auto& dir : entries_of(root)) {
    std::string shard = dir.path().filename().string();
    if (!dir.is_directory(ec)) {
      log::warn("avatar file not imported: not an avatar", {{"path", dir.path().string()}});
      ++done.skipped;
      continue;
    }
    for (const auto& entry : entries_of(dir.path())) {
      switch (import_entry(store, entry, shard, now)) {
        case Outcome::imported: ++done.imported; break;
        case Outcome::discarded: ++done.discarded; break;
        case Outcome::skipped: ++done.skipped; break;
      }
    }
    remove_if_empty(dir.path());
  }
  remove_if_empty(root);
  return done;
}

}  // namespace tessera::identity
