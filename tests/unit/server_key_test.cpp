// crypto/server_key: the server secret key. Sealing is checked against the XChaCha20-Poly1305 test vector
// of draft-irtf-cfrg-xchacha (A.3.1) and derive() against BLAKE2b computed by Python's hashlib, so the
// layout (nonce || ciphertext || tag) and the keying are pinned by independent implementations.
#include "crypto/server_key.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "crypto/random.hpp"
#include "support/temp_dir.hpp"

namespace tessera::crypto {
namespace {

namespace fs = std::filesystem;
using tessera::testing::TempDir;

std::string bytes_from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

std::string sequence(unsigned char first, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(first + i));
  return out;
}

// 0x00 .. 0x1f, and the same in standard base64.
const std::string kKeyBytes = sequence(0, 32);
constexpr std::string_view kKeyBase64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

class ServerKeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init(); }
};

TEST_F(ServerKeyTest, SealThenOpen) {
  ServerKey key = ServerKey::from_bytes(random_bytes(32));
  for (std::string plaintext : {std::string("client-secret-123"), std::string(), std::string(5000, 'x'), std::string("\0\1\2", 3)}) {
    std::string sealed = key.seal(plaintext, "provider:p1");
    EXPECT_EQ(sealed.size(), 24 + plaintext.size() + 16);
    EXPECT_EQ(sealed.find("client-secret-123"), std::string::npos);
    EXPECT_EQ(key.open(sealed, "provider:p1"), plaintext);
  }
}

TEST_F(ServerKeyTest, OpensTheDraftXChaChaTestVector) {
  // draft-irtf-cfrg-xchacha-03, A.3.1: key 80..9f, nonce 40..57.
  ServerKey key = ServerKey::from_bytes(sequence(0x80, 32));
  std::string aad = bytes_from_hex("50515253c0c1c2c3c4c5c6c7");
  std::string plaintext =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
  std::string sealed = sequence(0x40, 24) + bytes_from_hex(
                                                "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39"
                                                "ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
                                                "21f9664c97637da9768812f615c68b13b52e"
                                                "c0875924c1c7987947deafd8780acf49");
  EXPECT_EQ(key.open(sealed, aad), plaintext);
  EXPECT_EQ(key.open(sealed, ""), std::nullopt);
}

TEST_F(ServerKeyTest, TheContextIsAuthenticated) {
  ServerKey key = ServerKey::from_bytes(random_bytes(32));
  std::string sealed = key.seal("s3cret", "provider:p1");
  EXPECT_EQ(key.open(sealed, "provider:p2"), std::nullopt);
  EXPECT_EQ(key.open(sealed, ""), std::nullopt);
  EXPECT_EQ(key.open(sealed, "provider:p1 "), std::nullopt);
  EXPECT_EQ(key.open(sealed, "provider:p1"), "s3cret");
}

TEST_F(ServerKeyTest, AnotherKeyCannotOpen) {
  ServerKey key = ServerKey::from_bytes(random_bytes(32));
  ServerKey other = ServerKey::from_bytes(random_bytes(32));
  EXPECT_EQ(other.open(key.seal("s3cret", "c"), "c"), std::nullopt);
}

TEST_F(ServerKeyTest, EveryTamperedByteIsDetected) {
  ServerKey key = ServerKey::from_bytes(random_bytes(32));
  std::string sealed = key.seal("s3cret", "ctx");
  for (size_t i = 0; i < sealed.size(); ++i) {  // nonce, ciphertext and tag
    std::string tampered = sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    EXPECT_EQ(key.open(tampered, "ctx"), std::nullopt) << "byte " << i;
  }
  EXPECT_EQ(key.open(sealed.substr(0, sealed.size() - 1), "ctx"), std::nullopt);
  EXPECT_EQ(key.open(sealed + "x", "ctx"), std::nullopt);
  EXPECT_EQ(key.open(sealed.substr(0, 39), "ctx"), std::nullopt);  // shorter than nonce + tag
  EXPECT_EQ(key.open("", "ctx"), std::nullopt);
}

TEST_F(ServerKeyTest, EverySealHasItsOwnNonce) {
  ServerKey key = ServerKey::from_bytes(random_bytes(32));
  std::set<std::string> nonces, sealed;
  for (int i = 0; i < 100; ++i) {
    std::string s = key.seal("same secret", "same context");
    nonces.insert(s.substr(0, 24));
    sealed.insert(s);
    EXPECT_EQ(key.open(s, "same context"), "same secret");
  }
  EXPECT_EQ(nonces.size(), 100u);
  EXPECT_EQ(sealed.size(), 100u);
}

TEST_F(ServerKeyTest, DeriveMatchesKeyedBlake2b) {
  // Python: sub = blake2b(b"tessera.oauth.nonce.v1", key=bytes(range(32)), digest_size=32).digest();
  //         blake2b(b"some-state", key=sub, digest_size=32).hexdigest()
  ServerKey key = ServerKey::from_bytes(kKeyBytes);
  EXPECT_EQ(hex_encode(key.derive("tessera.oauth.nonce.v1", "some-state")),
            "414a00389531398bba0809f6d1e8a0d750d34b4a1b2c7675bd97d9475324deaa");
}

TEST_F(ServerKeyTest, DeriveIsStableAndSeparatedByPurposeInputAndKey) {
  std::string bytes = random_bytes(32);
  ServerKey key = ServerKey::from_bytes(bytes);
  std::string a = key.derive("tessera.oauth.pkce.v1", "state-1");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a, key.derive("tessera.oauth.pkce.v1", "state-1"));
  EXPECT_EQ(a, ServerKey::from_bytes(bytes).derive("tessera.oauth.pkce.v1", "state-1"));
  EXPECT_NE(a, key.derive("tessera.oauth.nonce.v1", "state-1"));
  EXPECT_NE(a, key.derive("tessera.oauth.pkce.v1", "state-2"));
  EXPECT_NE(a, ServerKey::from_bytes(random_bytes(32)).derive("tessera.oauth.pkce.v1", "state-1"));
  // Moving bytes between purpose and input changes the result.
  EXPECT_NE(key.derive("ab", "c"), key.derive("a", "bc"));
  EXPECT_NE(key.derive("", "x"), key.derive("x", ""));
}

TEST_F(ServerKeyTest, LoadCreatesAMissingFileWithANewKey) {
  TempDir dir;
  fs::path file = dir.path() / "secret.key";
  auto key = ServerKey::load("", file.string());
  ASSERT_TRUE(key) << key.error().message;
  ASSERT_TRUE(fs::exists(file));

  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  std::string text = read_file(file);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.size(), 44u + 1);  // 32 bytes in padded base64, and a newline
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);

  // Read back, it is the same key: what one load sealed, the next opens.
  auto again = ServerKey::load("", file.string());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->open(key->seal("s", "c"), "c"), "s");
  EXPECT_EQ(again->derive("p", "i"), key->derive("p", "i"));
  EXPECT_EQ(read_file(file), text);  // not rewritten
}

TEST_F(ServerKeyTest, EachNewFileHasItsOwnKey) {
  TempDir dir;
  auto a = ServerKey::load("", (dir.path() / "a.key").string());
  auto b = ServerKey::load("", (dir.path() / "b.key").string());
  ASSERT_TRUE(a && b);
  EXPECT_NE(read_file(dir.path() / "a.key"), read_file(dir.path() / "b.key"));
  EXPECT_NE(a->derive("p", "i"), b->derive("p", "i"));
}

TEST_F(ServerKeyTest, LoadReadsAGivenFile) {
  TempDir dir;
  fs::path file = dir.path() / "secret.key";
  write_file(file, std::string(kKeyBase64) + "\n");
  auto key = ServerKey::load("", file.string());
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->derive("p", "i"), ServerKey::from_bytes(kKeyBytes).derive("p", "i"));

  write_file(file, std::string(kKeyBase64));  // no newline
  auto bare = ServerKey::load("", file.string());
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->derive("p", "i"), key->derive("p", "i"));

  write_file(file, std::string(kKeyBase64) + "\r\n");
  EXPECT_TRUE(ServerKey::load("", file.string()));

  // Base64 is read leniently (either alphabet, padding optional), as everywhere clients send it.
  write_file(file, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
  EXPECT_TRUE(ServerKey::load("", file.string()));
}

TEST_F(ServerKeyTest, LoadRefusesAFileThatHoldsNoKey) {
  TempDir dir;
  fs::path file = dir.path() / "secret.key";
  for (std::string bad : {std::string(), std::string("not base64 at all!"), std::string("AAECAwQFBgcICQoLDA0ODw=="),  // 16 bytes
                          std::string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"),                           // 33 bytes
                          std::string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=x")}) {
    write_file(file, bad);
    auto key = ServerKey::load("", file.string());
    ASSERT_FALSE(key) << bad;
    EXPECT_EQ(key.error().code, "invalid_config") << bad;
    EXPECT_NE(key.error().message.find(file.string()), std::string::npos) << key.error().message;
    EXPECT_EQ(read_file(file), bad);  // left as it was
  }
}

TEST_F(ServerKeyTest, LoadFailsWhenTheFileCannotBeCreated) {
  TempDir dir;
  write_file(dir.path() / "a-file", "x");  // a missing directory is created, but not one inside a file
  std::string file = (dir.path() / "a-file" / "secret.key").string();
  auto key = ServerKey::load("", file);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, "invalid_config");
  EXPECT_NE(key.error().message.find(file), std::string::npos) << key.error().message;
}

TEST_F(ServerKeyTest, AnEnvironmentKeyTakesPrecedence) {
  TempDir dir;
  fs::path file = dir.path() / "secret.key";
  auto from_file = ServerKey::load("", file.string());
  ASSERT_TRUE(from_file);
  auto from_env = ServerKey::load(std::string(kKeyBase64), file.string());
  ASSERT_TRUE(from_env) << from_env.error().message;
  EXPECT_EQ(from_env->derive("p", "i"), ServerKey::from_bytes(kKeyBytes).derive("p", "i"));
  EXPECT_NE(from_env->derive("p", "i"), from_file->derive("p", "i"));
}

TEST_F(ServerKeyTest, AnEnvironmentKeyCreatesNoFile) {
  TempDir dir;
  fs::path file = dir.path() / "secret.key";
  ASSERT_TRUE(ServerKey::load(std::string(kKeyBase64), file.string()));
  EXPECT_FALSE(fs::exists(file));
  EXPECT_TRUE(ServerKey::load(std::string(kKeyBase64) + "\n", file.string()));
}

TEST_F(ServerKeyTest, AnInvalidEnvironmentKeyIsAnError) {
  TempDir dir;
  fs::path file = dir.path() / "secret.key";
  write_file(file, std::string(kKeyBase64) + "\n");  // a valid file does not rescue it
  for (std::string bad : {std::string("not base64!"), std::string("AAECAwQFBgcICQoLDA0ODw=="),
                          std::string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"),
                          std::string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8_")}) {  // "_" is not in standard base64
    auto key = ServerKey::load(bad, file.string());
    ASSERT_FALSE(key) << bad;
    EXPECT_EQ(key.error().code, "invalid_config");
    EXPECT_NE(key.error().message.find("TESSERA_SERVER_SECRET_KEY"), std::string::npos) << key.error().message;
  }
}

}  // namespace
}  // namespace tessera::crypto
