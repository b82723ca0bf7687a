// crypto/legacy_hashes: imported bcrypt and passlib PBKDF2-SHA256 hashes against published vectors and
// hashes made here, the import gate, and PasswordHasher's re-hash decision for both.
#include "crypto/legacy_hashes.hpp"

#include <crypt.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "crypto/password_hasher.hpp"
#include "crypto/random.hpp"

namespace tessera::crypto {
namespace {

struct Vector {
  std::string password;
  std::string hash;
};

// crypt_blowfish's (and OpenBSD's) published test vectors, re-checked with Python's crypt.
const std::vector<Vector> kBcryptVectors = {
    {"U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
    {"U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK"},
    {"U*U*U", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a"},
    {"", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy"},
    {"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are ignored",
     "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"},
    // $2b$ and $2y$ only differ from $2a$ for passwords of 256 bytes or more.
    {"U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
    {"U*U", "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
};

// passlib's own test vectors (test_handlers_pbkdf2.py), re-checked with hashlib.pbkdf2_hmac, and one
// computed here with hashlib (salt "tessera-salt-16b", 1000 rounds).
const std::vector<Vector> kPbkdf2Vectors = {
    {"password", "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ"},
    {"\u0399\u03c9\u03b1\u03bd\u03bd\u03b7\u03c2",
     "$pbkdf2-sha256$1212$3SABFJGDtyhrQMVt1uABPw$WyaUoqCLgvz97s523nF4iuOqZNbp5Nt8do/cuaa7AiI"},
    {"p\u00e4ssw\u00f6rd", "$pbkdf2-sha256$1000$dGVzc2VyYS1zYWx0LTE2Yg$gy8MljS65fx/pGxbPWL1WPn3J9Gy9EjtySz7uwOyWy4"},
};

// The reference Argon2 implementation's README example (p=4, which libsodium verifies too).
constexpr std::string_view kArgon2iReference =
    "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";

std::string bcrypt_hash(std::string_view password, std::string_view prefix = "$2b$") {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn(std::string(prefix).c_str(), 4, nullptr, 0, setting, sizeof setting) == nullptr)
    throw std::runtime_error("crypt_gensalt_rn failed");
  crypt_data data{};
  const char* out = crypt_r(std::string(password).c_str(), setting, &data);
  if (out == nullptr || out[0] == '*') throw std::runtime_error("crypt_r failed");
  return out;
}

// passlib's format built here with OpenSSL, to vary rounds and salt.
std::string pbkdf2_hash(std::string_view password, std::string_view salt, int rounds) {
  unsigned char dk[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), rounds,
                    EVP_sha256(), sizeof dk, dk);
  auto ab64 = [](std::string_view bytes) {
    std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL_NO_PADDING), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    out.pop_back();
    for (char& c : out)
      if (c == '+') c = '.';
    return out;
  };
  return "$pbkdf2-sha256$" + std::to_string(rounds) + "$" + ab64(salt) + "$" +
         ab64(std::string_view(reinterpret_cast<char*>(dk), sizeof dk));
}

class LegacyHashesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init(); }
};

TEST_F(LegacyHashesTest, PublishedBcryptVectorsVerify) {
  for (const auto& v : kBcryptVectors) {
    EXPECT_TRUE(bcrypt_verify(v.password, v.hash)) << v.hash;
    EXPECT_FALSE(bcrypt_verify("x" + v.password, v.hash)) << v.hash;  // a suffix may fall past byte 72
    EXPECT_TRUE(importable_password_hash(v.hash)) << v.hash;
  }
  EXPECT_FALSE(bcrypt_verify("U*u", kBcryptVectors[0].hash));
  EXPECT_FALSE(bcrypt_verify("", kBcryptVectors[0].hash));
}

TEST_F(LegacyHashesTest, BcryptReadsOnlyTheFirst72Bytes) {
  const Vector& v = kBcryptVectors[4];
  EXPECT_TRUE(bcrypt_verify(v.password.substr(0, 72) + " and anything else", v.hash));
  EXPECT_FALSE(bcrypt_verify(v.password.substr(0, 71), v.hash));
  std::string long_password(100, 'p');
  std::string hash = bcrypt_hash(long_password);
  EXPECT_TRUE(bcrypt_verify(long_password, hash));
  EXPECT_TRUE(bcrypt_verify(std::string(72, 'p'), hash));
  EXPECT_FALSE(bcrypt_verify(std::string(71, 'p'), hash));
}

TEST_F(LegacyHashesTest, GeneratedBcryptHashesVerify) {
  for (std::string password : {"correct horse battery staple", "p\u00e4ssw\u00f6rd \U0001F600", "", " "}) {
    std::string hash = bcrypt_hash(password);
    ASSERT_TRUE(hash.starts_with("$2b$04$")) << hash;
    EXPECT_TRUE(importable_password_hash(hash)) << hash;
    EXPECT_TRUE(bcrypt_verify(password, hash)) << hash;
    EXPECT_FALSE(bcrypt_verify(password + "!", hash)) << hash;
    // $2y$ (PHP's name) is the same algorithm as $2b$.
    std::string as_2y = "$2y$" + hash.substr(4);
    EXPECT_TRUE(bcrypt_verify(password, as_2y)) << as_2y;
    EXPECT_FALSE(bcrypt_verify(password + "!", as_2y)) << as_2y;
  }
  std::string hash_2y = bcrypt_hash("from php", "$2y$");
  EXPECT_TRUE(bcrypt_verify("from php", hash_2y)) << hash_2y;
  EXPECT_TRUE(bcrypt_verify("from php", "$2b$" + hash_2y.substr(4)));
}

TEST_F(LegacyHashesTest, BcryptRefusesPasswordsWithNulAndOverCryptsLimit) {
  std::string hash = bcrypt_hash("abc");
  EXPECT_TRUE(bcrypt_verify("abc", hash));
  EXPECT_FALSE(bcrypt_verify(std::string("abc\0def", 7), hash));  // crypt would read "abc"
  EXPECT_FALSE(bcrypt_verify(std::string("abc\0", 4), hash));
  std::string at_limit(511, 'a');
  std::string hash_at_limit = bcrypt_hash(at_limit);
  EXPECT_TRUE(bcrypt_verify(at_limit, hash_at_limit));
  EXPECT_FALSE(bcrypt_verify(at_limit + "a", hash_at_limit));  // libxcrypt: 512 bytes or more
}

TEST_F(LegacyHashesTest, MalformedBcryptNeverVerifiesOrImports) {
  const std::string good = kBcryptVectors[0].hash;  // "U*U"
  std::vector<std::string> bad = {
      "",
      "$2b$",
      good.substr(0, 59),
      good + "W",
      "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",  // crypt_blowfish's bug-compatible mode
      "$2$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
      "$2a$5$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
      "$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
      "$2a$32$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
      "$2a$0x$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
      "$2a$05xCCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
      "$2a$05$CCCCCCCCCCCCCCCCCCCCC+E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",  // '+' is not bcrypt's alphabet
      "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe=",
      "$2a$05$CCCCCCCCCCCCCCCCCCCCC/E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",  // salt's spare bits set
      "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeX",  // hash's spare bits set
      std::string("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe\0", 60),
  };
  for (const auto& hash : bad) {
    EXPECT_FALSE(bcrypt_verify("U*U", hash)) << hash;
    EXPECT_FALSE(importable_password_hash(hash)) << hash;
  }
}

TEST_F(LegacyHashesTest, Pbkdf2VectorsVerify) {
  for (const auto& v : kPbkdf2Vectors) {
    EXPECT_TRUE(pbkdf2_sha256_verify(v.password, v.hash)) << v.hash;
    EXPECT_FALSE(pbkdf2_sha256_verify(v.password + "x", v.hash)) << v.hash;
    EXPECT_FALSE(pbkdf2_sha256_verify("", v.hash)) << v.hash;
    EXPECT_TRUE(importable_password_hash(v.hash)) << v.hash;
  }
  EXPECT_FALSE(pbkdf2_sha256_verify("Password", kPbkdf2Vectors[0].hash));
}

TEST_F(LegacyHashesTest, Pbkdf2HashesMadeHereVerify) {
  for (auto [password, salt, rounds] : std::vector<std::tuple<std::string, std::string, int>>{
           {"hunter2", "0123456789abcdef", 1},
           {"", "salt", 2000},
           {std::string("nul\0inside", 10), std::string(64, '\xfb'), 29000},  // '.' and '/' in the salt
       }) {
    std::string hash = pbkdf2_hash(password, salt, rounds);
    EXPECT_TRUE(importable_password_hash(hash)) << hash;
    EXPECT_TRUE(pbkdf2_sha256_verify(password, hash)) << hash;
    EXPECT_FALSE(pbkdf2_sha256_verify(password + "x", hash)) << hash;
  }
  EXPECT_FALSE(pbkdf2_sha256_verify("nul", pbkdf2_hash(std::string("nul\0inside", 10), "salt", 10)));
  // passlib allows an empty salt.
  EXPECT_TRUE(pbkdf2_sha256_verify("x", pbkdf2_hash("x", "", 10)));
}

TEST_F(LegacyHashesTest, MalformedPbkdf2NeverVerifiesOrImports) {
  const std::string chk = "hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ";
  const std::string salt = "4vjV83LKPjQzk31VI4E0Vw";
  std::vector<std::string> bad = {
      "",
      "$pbkdf2-sha256$",
      "$pbkdf2-sha256$1212$" + salt,
      "$pbkdf2-sha256$1212$" + salt + "$",
      "$pbkdf2-sha256$1212$" + salt + "$" + chk + "$",
      "$pbkdf2-sha256$1212$" + salt + "$" + chk + "$extra",
      "$pbkdf2-sha256$$" + salt + "$" + chk,
      "$pbkdf2-sha256$0$" + salt + "$" + chk,
      "$pbkdf2-sha256$01212$" + salt + "$" + chk,  // zero-padded rounds
      "$pbkdf2-sha256$-1$" + salt + "$" + chk,
      "$pbkdf2-sha256$+1212$" + salt + "$" + chk,
      "$pbkdf2-sha256$1212x$" + salt + "$" + chk,
      "$pbkdf2-sha256$10000001$" + salt + "$" + chk,
      "$pbkdf2-sha256$4294967297$" + salt + "$" + chk,
      "$pbkdf2-sha256$99999999999999999999$" + salt + "$" + chk,
      "$pbkdf2-sha256$1212$" + salt + "$" + chk.substr(0, 42),  // 31 bytes
      "$pbkdf2-sha256$1212$" + salt + "$" + chk + "AA",
      "$pbkdf2-sha256$1212$" + salt + "$" + chk + "=",
      "$pbkdf2-sha256$1212$" + salt + "==$" + chk,
      "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0V$" + chk,  // length 1 mod 4
      "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vx$" + chk,  // spare bits set
      "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0V-$" + chk,
      "$pbkdf2-sha256$1212$" + salt + "$" + "hsYF68OiOUPdDZ1Fg+fJPeq1h/gXXY7acBp9/6c.tmQ",  // '+' for '.'
      "$pbkdf2-sha256$1212$" + std::string(1400, 'A') + "$" + chk,  // salt over 1024 bytes
      "$pbkdf2-sha512$1212$" + salt + "$" + chk,
      "$pbkdf2$1212$" + salt + "$" + chk,
      "pbkdf2_sha256$1212$" + salt + "$" + chk,  // Django's format is another one
      "$pbkdf2-sha256$1212$" + salt + "$" + chk + std::string("\0", 1),
  };
  for (const auto& hash : bad) {
    EXPECT_FALSE(pbkdf2_sha256_verify("password", hash)) << hash;
    EXPECT_FALSE(importable_password_hash(hash)) << hash;
  }
  // Import caps the cost (a slow hash would tie up a hashing worker at the next login).
  EXPECT_TRUE(importable_password_hash("$pbkdf2-sha256$1$" + salt + "$" + chk));
  EXPECT_TRUE(importable_password_hash("$pbkdf2-sha256$2000000$" + salt + "$" + chk));
  EXPECT_FALSE(importable_password_hash("$pbkdf2-sha256$2000001$" + salt + "$" + chk));
}

TEST_F(LegacyHashesTest, ImportCapsBcryptAndArgon2Costs) {
  const std::string bcrypt_tail = "$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
  EXPECT_TRUE(importable_password_hash("$2b$15" + bcrypt_tail));
  EXPECT_FALSE(importable_password_hash("$2b$16" + bcrypt_tail));
  const std::string argon_tail = "$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaA";
  EXPECT_TRUE(importable_password_hash("$argon2id$v=19$m=262144,t=16,p=1" + argon_tail));
  EXPECT_FALSE(importable_password_hash("$argon2id$v=19$m=262145,t=2,p=1" + argon_tail));
  EXPECT_FALSE(importable_password_hash("$argon2id$v=19$m=19456,t=17,p=1" + argon_tail));
}

TEST_F(LegacyHashesTest, ImportableArgon2) {
  PasswordHasher hasher({8192, 1});
  EXPECT_TRUE(importable_password_hash(hasher.hash("x")));
  EXPECT_TRUE(importable_password_hash(kArgon2iReference));
  EXPECT_TRUE(importable_password_hash("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"));
  for (std::string_view bad : {
           "$argon2d$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
           "$argon2i$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",  // v=16, implied
           "$argon2i$v=16$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
           "$argon2i$v=19$t=2,m=65536,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
           "$argon2i$v=19$m=65536,t=0,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
           "$argon2i$v=19$m=65536,t=2,p=0$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
           "$argon2i$v=19$m=31,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",  // m < 8p
           "$argon2i$v=19$m=065536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
           "$argon2i$v=19$m=65536,t=2,p=4,x=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
           "$argon2i$v=19$m=65536,t=2$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
           "$argon2i$v=19$m=4294967296,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
           "$argon2i$v=19$m=65536,t=2,p=4$c2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",  // 4-byte salt
           "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub",            // 12-byte hash
           "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ=$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
           "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub-b-dWRWJTmaaJObG",
           "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG$",
           "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ",
           "$argon2id$garbage",
           "$argon2i$",
       })
    EXPECT_FALSE(importable_password_hash(bad)) << bad;
}

TEST_F(LegacyHashesTest, OtherFormatsAreNotImportable) {
  for (std::string_view bad : {"", "password123", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",  // md5-crypt
                               "$5$rounds=5000$usesomesillystri$KqJWpanXZHKq2BOB43TSaYhEWsQ1Lr5QNyPCDH/Tp.6",
                               "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxq",
                               "{SSHA}abcdefghijklmnopqrstuvwxyz", "5f4dcc3b5aa765d61d8327deb882cf99"})
    EXPECT_FALSE(importable_password_hash(bad)) << bad;
}

// ---- PasswordHasher dispatch ----

TEST_F(LegacyHashesTest, PasswordHasherVerifiesImportedHashesAndAsksForRehash) {
  PasswordHasher hasher({8192, 1});
  std::vector<Vector> imported = {kBcryptVectors[0], kBcryptVectors[5], kBcryptVectors[6], kPbkdf2Vectors[0],
                                  kPbkdf2Vectors[2], {"generated", bcrypt_hash("generated")},
                                  {"password", std::string(kArgon2iReference)}};
  for (const auto& v : imported) {
    VerifyOutcome ok = hasher.verify(v.password, v.hash);
    EXPECT_TRUE(ok.ok) << v.hash;
    EXPECT_TRUE(ok.needs_rehash) << v.hash;
    VerifyOutcome wrong = hasher.verify(v.password + "x", v.hash);
    EXPECT_FALSE(wrong.ok) << v.hash;
    EXPECT_FALSE(wrong.needs_rehash) << v.hash;
  }
  // The re-hash is Argon2id and verifies as current.
  std::string fresh = hasher.hash("generated");
  VerifyOutcome current = hasher.verify("generated", fresh);
  EXPECT_TRUE(current.ok);
  EXPECT_FALSE(current.needs_rehash);
}

TEST_F(LegacyHashesTest, PasswordHasherRefusesMalformedLegacyHashes) {
  PasswordHasher hasher({8192, 1});
  for (std::string_view bad : {"$2b$05$short", "$2y$", "$pbkdf2-sha256$0$$", "$pbkdf2-sha256$garbage"}) {
    VerifyOutcome outcome = hasher.verify("password", bad);
    EXPECT_FALSE(outcome.ok) << bad;
    EXPECT_FALSE(outcome.needs_rehash) << bad;
  }
}

}  // namespace
}  // namespace tessera::crypto
