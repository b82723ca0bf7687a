// Avatars: image sniffing, the file store (paths, atomic replacement, versions) in a temp dir, and
// the avatar changes on a real SQLite store.
#include "identity/avatar.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/uuid.hpp"
#include "crypto/random.hpp"
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

size_t files_in(const fs::path& dir) {
  size_t n = 0;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) ++n;
  return n;
}

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

TEST(AvatarVersion, IsHexBlake2b128AndUrlNamesIt) {
  std::string v = avatar_version(kPng);
  EXPECT_EQ(v.size(), 32u);
  EXPECT_EQ(v.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(avatar_version(kPng), v);
  EXPECT_NE(avatar_version(kJpeg), v);
  EXPECT_EQ(avatar_url("", kUserId, "abc"), "/v1/users/" + kUserId + "/avatar?v=abc");
  EXPECT_EQ(avatar_url("https://id.example", kUserId, "abc"), "https://id.example/v1/users/" + kUserId + "/avatar?v=abc");
  EXPECT_EQ(avatar_url("https://id.example/", kUserId, "abc"), "https://id.example/v1/users/" + kUserId + "/avatar?v=abc");
}

TEST(AvatarStore, PathsAreOnlyForUuidsAndStayUnderTheRoot) {
  TempDir dir;
  AvatarStore avatars(dir.path());
  EXPECT_EQ(avatars.path_of(kUserId), dir.path() / "avatars" / "ab" / kUserId);
  for (std::string_view bad : {"", "..", "../../etc/passwd", "ab/../../x", "01A21044-0000-7000-8000-0000000000AB",
                               "01a21044-0000-7000-8000-0000000000ab/", "01a21044-0000-7000-8000-0000000000a",
                               "01a21044/0000-7000-8000-0000000000ab", "01a21044-0000-7000-8000-00000000.\\ab"}) {
    EXPECT_EQ(avatars.path_of(bad), std::nullopt) << bad;
    EXPECT_EQ(avatars.load(bad), std::nullopt) << bad;
    EXPECT_FALSE(avatars.remove(bad)) << bad;
  }
  EXPECT_THROW(avatars.save("../escape", kPng), std::invalid_argument);
  EXPECT_FALSE(fs::exists(dir.path() / "avatars"));
}

TEST(AvatarStore, SavesLoadsReplacesAndRemoves) {
  TempDir dir;
  AvatarStore avatars(dir.path());
  EXPECT_EQ(avatars.load(kUserId), std::nullopt);

  std::string v1 = avatars.save(kUserId, kPng);
  EXPECT_EQ(v1, avatar_version(kPng));
  auto a = avatars.load(kUserId);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->bytes, kPng);
  EXPECT_EQ(a->type, "image/png");
  EXPECT_EQ(a->etag, "\"" + v1 + "\"");

  std::string v2 = avatars.save(kUserId, kWebp);
  EXPECT_NE(v2, v1);
  a = avatars.load(kUserId);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->bytes, kWebp);
  EXPECT_EQ(a->type, "image/webp");
  EXPECT_EQ(a->etag, "\"" + v2 + "\"");
  EXPECT_EQ(files_in(dir.path() / "avatars"), 1u) << "no temporary file is left behind";

  EXPECT_TRUE(avatars.remove(kUserId));
  EXPECT_EQ(avatars.load(kUserId), std::nullopt);
  EXPECT_FALSE(avatars.remove(kUserId));
  EXPECT_EQ(files_in(dir.path() / "avatars"), 0u);
}

TEST(AvatarStore, AnotherInstanceOnTheSameDirSeesTheFilesWithTheSameVersion) {
  TempDir dir;
  std::string v = AvatarStore(dir.path()).save(kUserId, kJpeg);
  AvatarStore restarted(dir.path());  // an empty version cache, as after a restart
  auto a = restarted.load(kUserId);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->etag, "\"" + v + "\"");
  EXPECT_EQ(a->type, "image/jpeg");
}

TEST(AvatarStore, AFileReplacedBehindItsBackGetsANewVersion) {
  TempDir dir;
  AvatarStore avatars(dir.path());
  avatars.save(kUserId, kPng);
  ASSERT_TRUE(avatars.load(kUserId));  // the version is remembered
  // Replaced as save() does it (a new inode), by another writer.
  fs::path path = *avatars.path_of(kUserId);
  std::ofstream(path.string() + ".other", std::ios::binary) << kJpeg;
  fs::rename(path.string() + ".other", path);
  auto a = avatars.load(kUserId);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->bytes, kJpeg);
  EXPECT_EQ(a->etag, "\"" + avatar_version(kJpeg) + "\"");
}

TEST(AvatarStore, AFileThatIsNotAnImageIsNotServed) {
  TempDir dir;
  AvatarStore avatars(dir.path());
  avatars.save(kUserId, kPng);
  std::ofstream(*avatars.path_of(kUserId), std::ios::binary | std::ios::trunc) << "<html>";
  EXPECT_EQ(avatars.load(kUserId), std::nullopt);
}

class AvatarServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { crypto::init(); }

  void SetUp() override {
    store_ = std::make_unique<store::sqlite::SqliteStore>(dir_.str(), "normal");
    store_->migrate();
    projects::Project project;
    project.id = make_uuid_v7(kT0);
    project.alias = "main";
    project.name = "Main";
    project.created_at = kT0;
    if (!store_->write([&](store::Repositories& r) { return r.projects.insert(project); })) throw std::runtime_error("project");
    user_.id = make_uuid_v7(kT0);
    user_.project_id = project.id;
    user_.email = "a@example.com";
    user_.created_at = user_.updated_at = kT0;
    if (store_->write([&](store::Repositories& r) { return r.users.insert(user_, std::nullopt); }))
      throw std::runtime_error("user");
  }

  TempDir dir_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  User user_;
  AvatarStore avatars_{dir_.path()};
  const Timestamp kLater = kT0 + std::chrono::seconds(5);
};

TEST_F(AvatarServiceTest, ChangeWritesTheFileAndTheUrl) {
  auto updated = change_avatar(*store_, avatars_, user_, kPng, "https://id.example", kLater);
  ASSERT_TRUE(updated) << updated.error().code;
  std::string version = avatar_version(kPng);
  EXPECT_EQ(updated->avatar_url, "https://id.example/v1/users/" + user_.id + "/avatar?v=" + version);
  EXPECT_EQ(updated->updated_at, kLater);
  auto stored = store_->read([&](store::Repositories& r) { return r.users.find_any(user_.id); });
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->avatar_url, updated->avatar_url);
  auto found = find_avatar(*store_, avatars_, user_.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->bytes, kPng);
  EXPECT_EQ(found->etag, "\"" + version + "\"");
}

TEST_F(AvatarServiceTest, RefusesWhatIsNotAnImageOrTooLarge) {
  auto text = change_avatar(*store_, avatars_, user_, "just text", "", kLater);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().status, 415);
  EXPECT_EQ(text.error().code, "unsupported_media_type");
  EXPECT_EQ(change_avatar(*store_, avatars_, user_, "", "", kLater).error().status, 415);
  std::string big = kPng + std::string(kMaxAvatarBytes, 'x');
  auto too_big = change_avatar(*store_, avatars_, user_, big, "", kLater);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, "payload_too_large");
  std::string exact = kPng + std::string(kMaxAvatarBytes - kPng.size(), 'x');
  EXPECT_TRUE(change_avatar(*store_, avatars_, user_, exact, "", kLater));
}

TEST_F(AvatarServiceTest, RemoveClearsTheUrlThenTheFile) {
  ASSERT_TRUE(change_avatar(*store_, avatars_, user_, kJpeg, "", kLater));
  auto removed = remove_avatar(*store_, avatars_, user_, kLater + std::chrono::seconds(1));
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->avatar_url, std::nullopt);
  EXPECT_EQ(find_avatar(*store_, avatars_, user_.id), std::nullopt);
  EXPECT_FALSE(fs::exists(*avatars_.path_of(user_.id)));
  EXPECT_TRUE(remove_avatar(*store_, avatars_, user_, kLater)) << "removing twice is fine";
}

TEST_F(AvatarServiceTest, AFileWithoutItsRowIsNotServed) {
  avatars_.save(user_.id, kPng);  // as a crash between the row and the file removal leaves it
  EXPECT_EQ(find_avatar(*store_, avatars_, user_.id), std::nullopt);
  EXPECT_EQ(find_avatar(*store_, avatars_, "not-a-uuid"), std::nullopt);
}

TEST_F(AvatarServiceTest, AGoneUserIs404AndLeavesNoFile) {
  ASSERT_TRUE(store_->write([&](store::Repositories& r) { return r.users.remove(user_.project_id, user_.id); }));
  auto gone = change_avatar(*store_, avatars_, user_, kPng, "", kLater);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, "user_not_found");
  EXPECT_FALSE(fs::exists(*avatars_.path_of(user_.id)));
  EXPECT_EQ(remove_avatar(*store_, avatars_, user_, kLater).error().code, "user_not_found");
}

}  // namespace
}  // namespace tessera::identity
