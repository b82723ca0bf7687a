// Avatars: the image type told from the bytes, and the change of a user's avatar (the image in the
// avatars table and avatar_url in the users row, in one transaction).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

// The strong ETag of a version: the version quoted.
std::string avatar_etag(std::string_view version);

struct Avatar {
  std::string bytes;
  std::string type;  // as sniff_image_type
  std::string etag;  // strong: the quoted version
};

// The avatar functions read and write up to 2 MiB rows: keep them off the I/O threads.

// Sets the user's avatar to `image`: 413 payload_too_large beyond kMaxAvatarBytes, 415
// unsupported_media_type unless it is a PNG, JPEG or WebP image, 404 user_not_found when the user is
// gone. The image, avatar_url, the user.updated event and the eviction of cached copies of the user
// commit together.
Result<User> change_avatar(store::Store& store, const User& user, std::string_view image, std::string_view public_url,
                           Timestamp now);
// The image of a user of any project (avatars are public); nullopt when there is none.
std::optional<Avatar> find_avatar(store::Store& store, std::string_view user_id);
// The ETag of that image without reading it (a conditional GET); nullopt when there is none.
std::optional<std::string> find_avatar_etag(store::Store& store, std::string_view user_id);
// Removes the image and clears avatar_url in one transaction; fine when there is no image.
Result<User> remove_avatar(store::Store& store, const User& user, Timestamp now);

}  // namespace tessera::identity
