// Avatars: image sniffing and versions; on a real SQLite store, the avatar store (store/sql, shared with
// PostgreSQL), the avatar changes, and the import of the files older versions kept in the data dir.
#include "identity/avatar.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/bounded_cache.hpp"
#include "core/uuid.hpp"
#include "crypto/random.hpp"
#include "events/event.hpp"
#include "identity/avatar_import.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

namespace tessera::identity {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;
using tessera::testing::TempDir;

const Timestamp kT0 = from_micros(1'795'000'000'000'000);
const std::string kPng = "\x89PNG\r\n\x1a\n"s + "png body";
const std::string kJpeg = "\xff\xd8\xff\xe0"s + "jpeg body";
const std::string kWebp = "RIFF\x10\0\0\0WEBPVP8 "s + "webp body";
const std::string kUserId = "01a21044-0000-7000-8000-0000000000ab";

TEST(AvatarSniff, RecognizesPngJpegWebp) {
  EXPECT_EQ(sniff_image_type(kPng), "image/png");
  EXPECT_EQ(sniff_image_type(kJpeg), "image/jpeg");
  EXPECT_EQ(sniff_image_type(kWebp), "image/webp");
  EXPECT_EQ(sniff_image_type("\x89PNG\r\n\x1a\n"s), "image/png");  // the signature alone
  EXPECT_EQ(sniff_image_type("\xff\xd8\xff"s), "image/jpeg");
  EXPECT_EQ(sniff_image_type("RIFF\0\0\0\0WEBP"s), "image/webp");
}

TEST(AvatarSniff, RefusesTruncatedAndOtherBytes) {
  for (const std::string& bytes : {""s, "\x89"s, "\x89PNG\r\n\x1a"s, "\xff\xd8"s, "RIFF"s, "RIFF\0\0\0\0WEB"s,
                                   "RIFF\0\0\0\0WAVE"s, "GIF89a......"s, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"s,
                                   "hello, world"s, "\0\0\0\0\0\0\0\0\0\0\0\0"s, " \x89PNG\r\n\x1a\n"s})
    EXPECT_EQ(sniff_image_type(bytes), std::nullopt) << bytes;
}

TEST(AvatarVersion, IsHexBlake2b128AndUrlAndEtagNameIt) {
  std::string v = avatar_version(kPng);
  EXPECT_EQ(v.size(), 32u);
  EXPECT_EQ(v.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(avatar_version(kPng), v);
  EXPECT_NE(avatar_version(kJpeg), v);
  EXPECT_EQ(avatar_etag("abc"), "\"abc\"");
  EXPECT_EQ(avatar_url("", kUserId, "abc"), "/v1/users/" + kUserId + "/avatar?v=abc");
  EXPECT_EQ(avatar_url("https://id.example", kUserId, "abc"), "https://id.example/v1/users/" + kUserId + "/avatar?v=abc");
  EXPECT_EQ(avatar_url("https://id.example/", kUserId, "abc"), "https://id.example/v1/users/" + kUserId + "/avatar?v=abc");
}

// A project, a webhook that wants user.updated (so each event is an outbox row), and a user, in a fresh
// SQLite database in dir_ (which is also the data dir of the import).
class AvatarTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { crypto::init(); }

  void SetUp() override {
    store_ = std::make_unique<store::sqlite::SqliteStore>(dir_.str(), "normal");
    store_->migrate();
    project_.id = make_uuid_v7(kT0);
    project_.alias = "main";
    project_.name = "Main";
    project_.created_at = kT0;
    if (!store_->write([&](store::Repositories& r) { return r.projects.insert(project_); })) throw std::runtime_error("project");
    events::Webhook hook;
    hook.id = make_uuid_v7(kT0);
    hook.project_id = project_.id;
    hook.url = "https://hooks.example/tessera";
    hook.events = {"user.updated"};
    hook.created_at = hook.updated_at = kT0;
    store_->write([&](store::Repositories& r) { r.webhooks.insert(hook, "salt"); });
    user_ = add_user("a@example.com");
  }

  User add_user(const std::string& email) {
    User u;
    u.id = make_uuid_v7(kT0);
    u.project_id = project_.id;
    u.email = email;
    u.created_at = u.updated_at = kT0;
    if (store_->write([&](store::Repositories& r) { return r.users.insert(u, std::nullopt); })) throw std::runtime_error("user");
    return u;
  }
  std::optional<StoredAvatar> stored(const std::string& user_id) {
    return store_->read([&](store::Repositories& r) { return r.avatars.find(user_id); });
  }
  std::optional<User> row(const std::string& user_id) {
    return store_->read([&](store::Repositories& r) { return r.users.find_any(user_id); });
  }
  // user.updated events recorded so far.
  uint64_t events() {
    return store_->read([](store::Repositories& r) { return r.outbox.count_pending(); });
  }

  TempDir dir_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  projects::Project project_;
  User user_;
  const Timestamp kLater = kT0 + std::chrono::seconds(5);
};

// ---- the store ------------------------------------------------------------------------------------------

TEST_F(AvatarTest, StorePutsFindsReplacesAndRemovesBytesExactly) {
  const std::string bytes = kPng + "\0\xff\0 binary"s;  // NULs and high bytes survive
  store_->write([&](store::Repositories& r) {
    EXPECT_EQ(r.avatars.find(user_.id), std::nullopt);
    EXPECT_EQ(r.avatars.find_version(user_.id), std::nullopt);
    EXPECT_FALSE(r.avatars.remove(user_.id));
    r.avatars.put(user_.id, {"image/png", "v1", bytes, kT0});
  });
  auto a = stored(user_.id);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->content_type, "image/png");
  EXPECT_EQ(a->version, "v1");
  EXPECT_EQ(a->bytes, bytes);
  EXPECT_EQ(a->updated_at, kT0);

  store_->write([&](store::Repositories& r) { r.avatars.put(user_.id, {"image/jpeg", "v2", kJpeg, kLater}); });
  a = stored(user_.id);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->content_type, "image/jpeg");
  EXPECT_EQ(a->bytes, kJpeg);
  EXPECT_EQ(a->updated_at, kLater);
  EXPECT_EQ(store_->read([&](store::Repositories& r) { return r.avatars.find_version(user_.id); }), "v2");

  EXPECT_TRUE(store_->write([&](store::Repositories& r) { return r.avatars.remove(user_.id); }));
  EXPECT_EQ(stored(user_.id), std::nullopt);
}

TEST_F(AvatarTest, StoreKeepsOneRowPerUserAndNoneForAnUnknownUser) {
  User other = add_user("b@example.com");
  store_->write([&](store::Repositories& r) {
    r.avatars.put(user_.id, {"image/png", "a", kPng, kT0});
    r.avatars.put(other.id, {"image/webp", "b", kWebp, kT0});
  });
  EXPECT_EQ(stored(user_.id)->bytes, kPng);
  EXPECT_EQ(stored(other.id)->bytes, kWebp);
  EXPECT_THROW(store_->write([&](store::Repositories& r) { r.avatars.put(kUserId, {"image/png", "c", kPng, kT0}); }),
               store::StoreFailure)
      << "the row references its user";
}

TEST_F(AvatarTest, DeletingTheUserDeletesTheImage) {
  User other = add_user("b@example.com");
  store_->write([&](store::Repositories& r) {
    r.avatars.put(user_.id, {"image/png", "a", kPng, kT0});
    r.avatars.put(other.id, {"image/png", "b", kPng, kT0});
  });
  ASSERT_TRUE(store_->write([&](store::Repositories& r) { return r.users.remove(project_.id, user_.id); }));
  EXPECT_EQ(stored(user_.id), std::nullopt);
  EXPECT_TRUE(stored(other.id));
}

// ---- the changes ----------------------------------------------------------------------------------------

TEST_F(AvatarTest, ChangeWritesTheImageAndTheUrlAndDropsCachedCopies) {
  BoundedCache<User> cache(10);
  store_->caches().follow(store::Topic::users, cache);
  cache.put(user_.id, std::make_shared<const User>(user_));

  auto updated = change_avatar(*store_, user_, kPng, "https://id.example", kLater);
  ASSERT_TRUE(updated) << updated.error().code;
  std::string version = avatar_version(kPng);
  EXPECT_EQ(updated->avatar_url, "https://id.example/v1/users/" + user_.id + "/avatar?v=" + version);
  EXPECT_EQ(updated->updated_at, kLater);
  EXPECT_EQ(row(user_.id)->avatar_url, updated->avatar_url);
  EXPECT_EQ(cache.get(user_.id), nullptr) << "every node's cached user is dropped";
  EXPECT_EQ(events(), 1u);
  auto a = stored(user_.id);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->content_type, "image/png");
  EXPECT_EQ(a->version, version);
  EXPECT_EQ(a->updated_at, kLater);

  auto found = find_avatar(*store_, user_.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->bytes, kPng);
  EXPECT_EQ(found->type, "image/png");
  EXPECT_EQ(found->etag, "\"" + version + "\"");
  EXPECT_EQ(find_avatar_etag(*store_, user_.id), found->etag);
}

TEST_F(AvatarTest, TheSameImageAgainChangesNothing) {
  ASSERT_TRUE(change_avatar(*store_, user_, kWebp, "", kLater));
  auto again = change_avatar(*store_, user_, kWebp, "", kLater + std::chrono::seconds(1));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->updated_at, kLater) << "the user is unchanged";
  EXPECT_EQ(stored(user_.id)->updated_at, kLater) << "the row is not rewritten";
  EXPECT_EQ(events(), 1u) << "no second event";
}

TEST_F(AvatarTest, RefusesWhatIsNotAnImageOrTooLarge) {
  auto text = change_avatar(*store_, user_, "just text", "", kLater);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().status, 415);
  EXPECT_EQ(text.error().code, "unsupported_media_type");
  EXPECT_EQ(change_avatar(*store_, user_, "", "", kLater).error().status, 415);
  std::string big = kPng + std::string(kMaxAvatarBytes, 'x');
  auto too_big = change_avatar(*store_, user_, big, "", kLater);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, "payload_too_large");
  EXPECT_EQ(stored(user_.id), std::nullopt);
  EXPECT_EQ(events(), 0u);
  std::string exact = kPng + std::string(kMaxAvatarBytes - kPng.size(), 'x');
  ASSERT_TRUE(change_avatar(*store_, user_, exact, "", kLater));
  EXPECT_EQ(find_avatar(*store_, user_.id)->bytes, exact);
}

TEST_F(AvatarTest, RemoveClearsTheUrlAndTheImage) {
  ASSERT_TRUE(change_avatar(*store_, user_, kJpeg, "", kLater));
  auto removed = remove_avatar(*store_, user_, kLater + std::chrono::seconds(1));
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->avatar_url, std::nullopt);
  EXPECT_EQ(row(user_.id)->avatar_url, std::nullopt);
  EXPECT_EQ(stored(user_.id), std::nullopt);
  EXPECT_EQ(find_avatar(*store_, user_.id), std::nullopt);
  EXPECT_EQ(find_avatar_etag(*store_, user_.id), std::nullopt);
  EXPECT_EQ(events(), 2u);
  EXPECT_TRUE(remove_avatar(*store_, user_, kLater)) << "removing twice is fine";
  EXPECT_EQ(events(), 2u) << "without an avatar, nothing changes";
}

TEST_F(AvatarTest, NothingIsFoundForAnIdThatIsNotAUuid) {
  EXPECT_EQ(find_avatar(*store_, "not-a-uuid"), std::nullopt);
  EXPECT_EQ(find_avatar_etag(*store_, "../../etc/passwd"), std::nullopt);
}

TEST_F(AvatarTest, AGoneUserIs404AndLeavesNoRow) {
  ASSERT_TRUE(store_->write([&](store::Repositories& r) { return r.users.remove(user_.project_id, user_.id); }));
  auto gone = change_avatar(*store_, user_, kPng, "", kLater);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, "user_not_found");
  EXPECT_EQ(stored(user_.id), std::nullopt);
  EXPECT_EQ(remove_avatar(*store_, user_, kLater).error().code, "user_not_found");
}

// ---- the import of older versions' files ----------------------------------------------------------------

class AvatarImportTest : public AvatarTest {
 protected:
  fs::path file_of(const std::string& user_id) { return dir_.path() / "avatars" / user_id.substr(34) / user_id; }
  fs::path write_file(const fs::path& path, const std::string& bytes) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  // As an older version left a user with an avatar: avatar_url names the image, which is only a file.
  fs::path old_avatar(const User& user, const std::string& bytes) {
    store_->write([&](store::Repositories& r) {
      r.users.set_avatar(user.id, avatar_url("", user.id, avatar_version(bytes)), kT0);
    });
    return write_file(file_of(user.id), bytes);
  }
};

TEST_F(AvatarImportTest, NoAvatarsDirectoryIsNothingToDo) {
  auto done = import_avatar_files(*store_, dir_.path(), kLater);
  EXPECT_EQ(done.imported + done.discarded + done.skipped, 0u);
  EXPECT_FALSE(fs::exists(dir_.path() / "avatars"));
}

TEST_F(AvatarImportTest, ImportsImagesOfUsersWhoHaveThemThenDeletesTheFilesAndDirectories) {
  User other = add_user("b@example.com");
  fs::path a = old_avatar(user_, kPng);
  fs::path b = old_avatar(other, kJpeg);
  auto done = import_avatar_files(*store_, dir_.path(), kLater);
  EXPECT_EQ(done.imported, 2u);
  EXPECT_EQ(done.discarded + done.skipped, 0u);
  EXPECT_FALSE(fs::exists(dir_.path() / "avatars")) << "files and empty directories are removed";

  auto found = find_avatar(*store_, user_.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->bytes, kPng);
  EXPECT_EQ(found->type, "image/png");
  EXPECT_EQ(found->etag, avatar_etag(avatar_version(kPng))) << "the version avatar_url already names";
  EXPECT_EQ(stored(user_.id)->updated_at, kLater);
  EXPECT_EQ(find_avatar(*store_, other.id)->type, "image/jpeg");
  EXPECT_EQ(events(), 0u) << "the users are unchanged: no event";
}

TEST_F(AvatarImportTest, DeletesWithoutImportWhatNoUserWasServed) {
  User removed = add_user("b@example.com");
  User has_row = add_user("c@example.com");
  write_file(file_of(removed.id), kPng);  // avatar_url is null: the avatar was removed
  write_file(file_of(kUserId), kPng);     // no such user
  old_avatar(has_row, kPng);
  ASSERT_TRUE(change_avatar(*store_, has_row, kWebp, "", kT0));  // already in the table
  write_file(file_of(user_.id).string() + ".tmp-0123456789abcdef", kPng);  // a write a crash interrupted
  auto done = import_avatar_files(*store_, dir_.path(), kLater);
  EXPECT_EQ(done.imported, 0u);
  EXPECT_EQ(done.discarded, 4u);
  EXPECT_EQ(done.skipped, 0u);
  EXPECT_FALSE(fs::exists(dir_.path() / "avatars"));
  EXPECT_EQ(stored(removed.id), std::nullopt);
  EXPECT_EQ(stored(has_row.id)->bytes, kWebp) << "the row wins over the file";
  EXPECT_EQ(stored(user_.id), std::nullopt);
}

TEST_F(AvatarImportTest, LeavesWhatIsNotAnAvatarImageInPlace) {
  fs::path html = write_file(file_of(user_.id), "<html>");
  store_->write([&](store::Repositories& r) { r.users.set_avatar(user_.id, "/v1/users/x/avatar?v=0", kT0); });
  fs::path big = old_avatar(add_user("b@example.com"), kPng + std::string(kMaxAvatarBytes, 'x'));
  fs::path stray = write_file(dir_.path() / "avatars" / "ab" / "notes.txt", "hello");
  fs::path misplaced = write_file(dir_.path() / "avatars" / "00" / kUserId, kPng);  // not in its shard
  fs::path loose = write_file(dir_.path() / "avatars" / "README", "hello");
  auto done = import_avatar_files(*store_, dir_.path(), kLater);
  EXPECT_EQ(done.imported + done.discarded, 0u);
  EXPECT_EQ(done.skipped, 5u);
  for (const auto& path : {html, big, stray, misplaced, loose}) EXPECT_TRUE(fs::exists(path)) << path;
  EXPECT_EQ(stored(user_.id), std::nullopt);
}

TEST_F(AvatarImportTest, ASecondRunFindsNothing) {
  old_avatar(user_, kPng);
  EXPECT_EQ(import_avatar_files(*store_, dir_.path(), kLater).imported, 1u);
  auto again = import_avatar_files(*store_, dir_.path(), kLater);
  EXPECT_EQ(again.imported + again.discarded + again.skipped, 0u);
  EXPECT_EQ(find_avatar(*store_, user_.id)->bytes, kPng);
}

}  // namespace
}  // namespace tessera::identity
