// Avatars: the image type told from the bytes, one file per user under <data_dir>/avatars/, and the
// change of a user's avatar (the file, then avatar_url in the users row).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/bounded_cache.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "identity/user.hpp"

namespace tessera::store {
class Store;
}

namespace tessera::identity {

inline constexpr uint64_t kMaxAvatarBytes = 2u << 20;

// "image/png", "image/jpeg" or "image/webp" from the file signature; nullopt for anything else.
// Content-Type is never trusted: the bytes decide what the image is served as.
std::optional<std::string_view> sniff_image_type(std::string_view bytes);

// The version of an image: hex BLAKE2b-128 of its bytes. It is the ETag and the ?v= of avatar_url.
std::string avatar_version(std::string_view bytes);

// "<public_url>/v1/users/<id>/avatar?v=<version>"; a relative path when public_url is empty.
std::string avatar_url(std::string_view public_url, std::string_view user_id, std::string_view version);

struct Avatar {
  std::string bytes;
  std::string_view type;  // as sniff_image_type
  std::string etag;       // strong: the quoted version
};

// Files at <data_dir>/avatars/<last 2 hex digits of the id>/<id> (the last digits are random in a
// UUIDv7, the first ones are a timestamp). A file is replaced by writing a temporary file beside it,
// syncing and renaming it, so a crash leaves the old or the new image, never half of one. Versions are
// remembered per file (inode, mtime, size), so serving an unchanged file never hashes it again.
class AvatarStore {
 public:
  explicit AvatarStore(const std::filesystem::path& data_dir);

  // Replaces the user's image and returns its version. Blocking (fsync): keep off the I/O threads.
  // Throws std::invalid_argument for an id that is not a UUID, std::system_error when the disk fails.
  std::string save(std::string_view user_id, std::string_view bytes);
  // nullopt when the user has no image (or the id is not a UUID).
  std::optional<Avatar> load(std::string_view user_id);
  // Best effort (a failure is logged): false when nothing was removed.
  bool remove(std::string_view user_id);

  // The user's file; nullopt unless the id is a UUID, so no request can name a path outside the root.
  std::optional<std::filesystem::path> path_of(std::string_view user_id) const;

 private:
  struct Stamp {
    uint64_t inode = 0;
    int64_t mtime_ns = 0;
    uint64_t size = 0;
    std::string version;
  };
  std::filesystem::path root_;
  BoundedCache<Stamp> versions_;
};

// Sets the user's avatar to `image`: 413 payload_too_large beyond kMaxAvatarBytes, 415
// unsupported_media_type unless it is a PNG, JPEG or WebP image, 404 user_not_found when the user is
// gone. The file is written before the row, so avatar_url never names a missing image.
// Blocking (fsync): keep off the I/O threads.
Result<User> change_avatar(store::Store& store, AvatarStore& avatars, const User& user, std::string_view image,
                           std::string_view public_url, Timestamp now);
// The image of a user of any project (avatars are public); nullopt when there is none.
std::optional<Avatar> find_avatar(store::Store& store, AvatarStore& avatars, std::string_view user_id);
// Clears avatar_url, then removes the file (a crash in between leaves only an unreferenced file).
Result<User> remove_avatar(store::Store& store, AvatarStore& avatars, const User& user, Timestamp now);

}  // namespace tessera::identity
