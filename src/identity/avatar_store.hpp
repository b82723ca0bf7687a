// Users' avatar images, kept in the database so that every node serves what any node received.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace tessera::identity {

struct StoredAvatar {
  std::string content_type;  // as sniff_image_type told it from the bytes
  std::string version;       // avatar_version of the bytes
  std::string bytes;
  Timestamp updated_at;
};

class AvatarStore {
 public:
  virtual ~AvatarStore() = default;
  // Sets (inserts or replaces) the user's image. The user must exist.
  virtual void put(std::string_view user_id, const StoredAvatar& avatar) = 0;
  virtual std::optional<StoredAvatar> find(std::string_view user_id) = 0;
  // The version alone, without reading the bytes (conditional GETs, unchanged uploads).
  virtual std::optional<std::string> find_version(std::string_view user_id) = 0;
  // False when the user had no image. Deleting a user deletes their image too (ON DELETE CASCADE).
  virtual bool remove(std::string_view user_id) = 0;
};

}  // namespace tessera::identity
