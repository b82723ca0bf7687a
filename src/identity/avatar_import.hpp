// The move of avatars from files into the database. Before migration 0011 a node kept each image in
// <data_dir>/avatars/<last 2 hex digits of the user id>/<user id>; at start-up the server moves what it
// finds there into the avatars table, so an upgraded deployment keeps its images and ends with no files.
#pragma once

#include <cstdint>
#include <filesystem>

#include "core/clock.hpp"

namespace tessera::store {
class Store;
}

namespace tessera::identity {

struct AvatarImport {
  uint64_t imported = 0;   // now rows of the avatars table; the files are deleted
  uint64_t discarded = 0;  // files no user would be served: deleted (see import_avatar_files)
  uint64_t skipped = 0;    // unreadable files, or not images: left in place (and logged)
};

// Imports each image file whose user still exists, has an avatar_url and has no row yet (the type
// sniffed again from the bytes, the version computed from them), then deletes it. Files the old server
// no longer served are deleted without import: a user deleted, an avatar removed (avatar_url is null),
// an image already imported, a temporary file of a write a crash interrupted. Unreadable files and files
// that are not images stay where they are. Empty directories are removed, then <data_dir>/avatars itself
// when empty. Safe to run on every start and on several nodes at once (each file is one transaction).
// Blocking: reads files and writes rows. Throws store::StoreFailure when the database fails.
AvatarImport import_avatar_files(store::Store& store, const std::filesystem::path& data_dir, Timestamp now);

}  // namespace tessera::identity
