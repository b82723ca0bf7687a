// crypto/jwt: ES256 signing and verification, the algorithm pinned against header tricks, JWK import and
// export, and the registered-claim checks. Signatures are cross-checked with OpenSSL's plain DER API and
// test-made tokens, so a bug shared by sign() and verify() cannot hide.
#include "crypto/jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "crypto/random.hpp"

namespace tessera::crypto {
namespace {

namespace json = boost::json;
using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

constexpr int64_t kNow = 1'800'000'000;

// A fixed P-256 key in the older SEC 1 form ("openssl ecparam -genkey"), with its coordinates as computed
// by Python's `cryptography`.
constexpr std::string_view kSec1Pem =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIPpVw26RpLch+RUBusYMlRw+YsiyQCyfDB3eUnVSwxcOoAoGCCqGSM49\n"
    "AwEHoUQDQgAENlW2B+xBRoVWMT8xNcj67huE3lQTi+favy2IAhKtmi370zE6Itfl\n"
    "yZHUjzQMKKtXLspFOovThKxhwwkH3dpe+w==\n"
    "-----END EC PRIVATE KEY-----\n";
constexpr std::string_view kSec1X = "NlW2B-xBRoVWMT8xNcj67huE3lQTi-favy2IAhKtmi0";
constexpr std::string_view kSec1Y = "-9MxOiLX5cmR1I80DCirVy7KRTqL04SsYcMJB93aXvs";

struct Parts {
  std::string header, payload, signature;  // still encoded
};

Parts split(const std::string& token) {
  size_t a = token.find('.'), b = token.find('.', a + 1);
  return {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

std::string decode(std::string_view b64) {
  std::string out;
  if (!base64url_decode(b64, out)) throw std::runtime_error("not base64url");
  return out;
}

std::string b64(std::string_view bytes) { return base64url_encode(bytes); }

std::string pem_of(EVP_PKEY* pkey, bool public_only) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (public_only) PEM_write_bio_PUBKEY(bio.get(), pkey);
  else PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr);
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio.get(), &mem);
  return std::string(mem->data, mem->length);
}

PkeyPtr load_private(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                &BIO_free);
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
}

// DER written by hand, not by OpenSSL: an INTEGER is minimal big-endian with a 0x00 before a high bit.
std::string der_integer(std::string_view be) {
  size_t skip = 0;
  while (skip + 1 < be.size() && be[skip] == '\0') ++skip;
  std::string bytes(be.substr(skip));
  if (static_cast<unsigned char>(bytes[0]) & 0x80) bytes.insert(bytes.begin(), '\0');
  return std::string{'\x02', static_cast<char>(bytes.size())} + bytes;
}

std::string der_signature(std::string_view raw) {
  std::string body = der_integer(raw.substr(0, 32)) + der_integer(raw.substr(32, 32));
  return std::string{'\x30', static_cast<char>(body.size())} + body;
}

// Verifies with EVP_PKEY_verify over a SHA-256 digest: no EVP_DigestVerify, no ECDSA_SIG conversion.
bool independently_verifies(EVP_PKEY* pkey, const std::string& token) {
  std::string input = token.substr(0, token.rfind('.'));
  std::string der = der_signature(decode(split(token).signature));
  unsigned char digest[32];
  unsigned int digest_len = 0;
  EVP_Digest(input.data(), input.size(), digest, &digest_len, EVP_sha256(), nullptr);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(pkey, nullptr),
                                                                 &EVP_PKEY_CTX_free);
  return EVP_PKEY_verify_init(ctx.get()) == 1 &&
         EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(der.data()), der.size(), digest,
                         digest_len) == 1;
}

// An ES256 signature made in the test, so tokens with any header or payload can be built.
std::string es256_sign(EVP_PKEY* pkey, std::string_view input) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char der[80];
  size_t der_len = sizeof der;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey) != 1 ||
      EVP_DigestSign(ctx.get(), der, &der_len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1)
    throw std::runtime_error("test signing failed");
  const unsigned char* p = der;
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)),
                                                           &ECDSA_SIG_free);
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  return raw;
}

std::string es256_token(EVP_PKEY* pkey, std::string_view header_json, std::string_view payload_json) {
  std::string input = b64(header_json) + "." + b64(payload_json);
  return input + "." + b64(es256_sign(pkey, input));
}

json::object claims() {
  return {{"sub", "user-1"}, {"iss", "https://auth.example"}, {"aud", "api"}, {"exp", kNow + 300}, {"n", 42}};
}

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init(); }
  void SetUp() override { verifier_.add(key_); }

  SigningKey key_ = SigningKey::generate("k1");
  JwtVerifier verifier_;
  PkeyPtr pkey_ = load_private(key_.private_key_pem());
};

void expect_rejected(const JwtVerifier& verifier, const std::string& token, std::string_view why) {
  auto result = verifier.verify(token);
  ASSERT_FALSE(result.has_value()) << why << ": " << token;
  EXPECT_EQ(result.error().code, "invalid_token") << why;
  EXPECT_EQ(result.error().status, 401) << why;
  EXPECT_EQ(result.error().www_authenticate, "Bearer error=\"invalid_token\"") << why;
  EXPECT_FALSE(result.error().internal.empty()) << why;
}

TEST_F(JwtTest, SignedClaimsVerify) {
  std::string token = key_.sign(claims());
  auto verified = verifier_.verify(token);
  ASSERT_TRUE(verified.has_value()) << verified.error().internal;
  EXPECT_EQ(*verified, claims());

  Parts parts = split(token);
  EXPECT_EQ(json::parse(decode(parts.header)), (json::object{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", "k1"}}));
  EXPECT_EQ(parts.signature.size(), 86u);  // 64 bytes, unpadded
  EXPECT_EQ(token.find('='), std::string::npos);
}

TEST_F(JwtTest, EcdsaSignaturesDifferEachTimeAndAllVerify) {
  std::string a = key_.sign(claims()), b = key_.sign(claims());
  EXPECT_NE(a, b);
  EXPECT_TRUE(verifier_.verify(a).has_value());
  EXPECT_TRUE(verifier_.verify(b).has_value());
}

TEST_F(JwtTest, SignatureVerifiesThroughAnIndependentPath) {
  for (int i = 0; i < 20; ++i) {  // some R or S have a high bit or a leading zero byte
    std::string token = key_.sign({{"i", i}});
    EXPECT_TRUE(independently_verifies(pkey_.get(), token)) << token;
  }
  std::string token = key_.sign(claims());
  std::string other = SigningKey::generate("k1").sign(claims());
  EXPECT_FALSE(independently_verifies(pkey_.get(), other));
  Parts parts = split(token);
  EXPECT_FALSE(independently_verifies(pkey_.get(), parts.header + "." + b64("{}") + "." + parts.signature));
}

TEST_F(JwtTest, TokensSignedOutsideVerify) {
  std::string token = es256_token(pkey_.get(), R"({"alg":"ES256","kid":"k1"})", R"({"sub":"x"})");
  auto verified = verifier_.verify(token);
  ASSERT_TRUE(verified.has_value()) << verified.error().internal;
  EXPECT_EQ(*verified, (json::object{{"sub", "x"}}));
}

TEST_F(JwtTest, PublicJwkHasExactlyTheJwksFields) {
  json::object jwk = key_.public_jwk();
  EXPECT_EQ(jwk.size(), 7u);
  EXPECT_EQ(jwk.at("kty"), "EC");
  EXPECT_EQ(jwk.at("crv"), "P-256");
  EXPECT_EQ(jwk.at("kid"), "k1");
  EXPECT_EQ(jwk.at("use"), "sig");
  EXPECT_EQ(jwk.at("alg"), "ES256");
  ASSERT_EQ(jwk.at("x").as_string().size(), 43u);
  ASSERT_EQ(jwk.at("y").as_string().size(), 43u);
  EXPECT_FALSE(jwk.contains("d"));

  // The coordinates are the tail of the DER SubjectPublicKeyInfo: 0x04 || X || Y.
  unsigned char* spki = nullptr;
  int len = i2d_PUBKEY(pkey_.get(), &spki);
  ASSERT_GT(len, 65);
  std::string point(reinterpret_cast<char*>(spki) + len - 64, 64);
  OPENSSL_free(spki);
  EXPECT_EQ(decode(jwk.at("x").as_string()), point.substr(0, 32));
  EXPECT_EQ(decode(jwk.at("y").as_string()), point.substr(32));
}

TEST_F(JwtTest, TamperedPayloadHeaderOrSignatureFails) {
  std::string token = key_.sign(claims());
  Parts p = split(token);
  json::object more = claims();
  more["sub"] = "admin";
  expect_rejected(verifier_, p.header + "." + b64(json::serialize(more)) + "." + p.signature, "payload swapped");
  expect_rejected(verifier_, b64(R"({"alg":"ES256","typ":"at+jwt","kid":"k1"})") + "." + p.payload + "." + p.signature,
                  "header swapped");
  std::string raw = decode(p.signature);
  for (size_t i : {0u, 31u, 32u, 63u}) {
    std::string flipped = raw;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    expect_rejected(verifier_, p.header + "." + p.payload + "." + b64(flipped), "signature bit flipped");
  }
  std::string swapped = raw.substr(32) + raw.substr(0, 32);
  expect_rejected(verifier_, p.header + "." + p.payload + "." + b64(swapped), "R and S swapped");
  expect_rejected(verifier_, p.header + "." + p.payload + "." + b64(raw.substr(0, 63)), "63-byte signature");
  expect_rejected(verifier_, p.header + "." + p.payload + "." + b64(raw + "x"), "65-byte signature");
  expect_rejected(verifier_, p.header + "." + p.payload + "." + b64(der_signature(raw)), "DER signature");
  expect_rejected(verifier_, p.header + "." + p.payload + "." + std::string(86, 'A'), "zero signature");
  expect_rejected(verifier_, p.header + "." + p.payload + "." + p.signature + "=", "padded signature");
}

TEST_F(JwtTest, MalformedTokensFail) {
  std::string token = key_.sign(claims());
  Parts p = split(token);
  for (const std::string& bad : {std::string(""), std::string("."), std::string(".."), std::string("abc"),
                                 p.header + "." + p.payload, token + ".", token + "." + p.signature,
                                 "." + p.payload + "." + p.signature, p.header + ".." + p.signature,
                                 p.header + "." + p.payload + ".", "*" + token, token + " ",
                                 std::string(20000, 'a') + token})
    expect_rejected(verifier_, bad, "malformed");
}

TEST_F(JwtTest, OnlyTheExactAlgorithmEs256IsAccepted) {
  std::string payload = json::serialize(claims());
  std::string signature = split(key_.sign(claims())).signature;
  for (std::string_view header : {R"({"alg":"none","typ":"JWT","kid":"k1"})", R"({"alg":"None","kid":"k1"})",
                                  R"({"alg":"NONE","kid":"k1"})", R"({"alg":"es256","kid":"k1"})",
                                  R"({"alg":"ES256 ","kid":"k1"})", R"({"alg":"ES384","kid":"k1"})",
                                  R"({"alg":"EdDSA","kid":"k1"})", R"({"alg":["ES256"],"kid":"k1"})",
                                  R"({"alg":null,"kid":"k1"})", R"({"typ":"JWT","kid":"k1"})"}) {
    std::string input = b64(header) + "." + b64(payload);
    expect_rejected(verifier_, input + ".", header);
    expect_rejected(verifier_, input + "." + signature, header);
    // Even correctly ES256-signed: a token that claims another algorithm is not trusted.
    expect_rejected(verifier_, input + "." + b64(es256_sign(pkey_.get(), input)), header);
  }
}

// The classic confusion attack: HS256 keyed with the verifier's public key, which is public.
TEST_F(JwtTest, Hs256KeyedWithThePublicKeyFails) {
  std::string input = b64(R"({"alg":"HS256","typ":"JWT","kid":"k1"})") + "." + b64(json::serialize(claims()));
  unsigned char* spki = nullptr;
  int spki_len = i2d_PUBKEY(pkey_.get(), &spki);
  std::string spki_der(reinterpret_cast<char*>(spki), spki_len);
  OPENSSL_free(spki);
  for (const std::string& secret : {pem_of(pkey_.get(), true), spki_der, json::serialize(key_.public_jwk())}) {
    unsigned char mac[32];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
    std::string sig(reinterpret_cast<char*>(mac), mac_len);
    expect_rejected(verifier_, input + "." + b64(sig), "HS256, 32-byte MAC");
    expect_rejected(verifier_, input + "." + b64(sig + sig), "HS256, MAC padded to 64 bytes");
  }
}

TEST_F(JwtTest, Rs256Fails) {
  PkeyPtr rsa(EVP_RSA_gen(2048), &EVP_PKEY_free);
  ASSERT_TRUE(rsa);
  std::string input = b64(R"({"alg":"RS256","typ":"JWT","kid":"k1"})") + "." + b64(json::serialize(claims()));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::string sig(256, '\0');
  size_t sig_len = sig.size();
  ASSERT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, rsa.get()), 1);
  ASSERT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  expect_rejected(verifier_, input + "." + b64(sig.substr(0, sig_len)), "RS256");
}

TEST_F(JwtTest, KidMustNameAKnownKey) {
  std::string payload = json::serialize(claims());
  for (std::string_view header : {R"({"alg":"ES256"})", R"({"alg":"ES256","kid":"k2"})", R"({"alg":"ES256","kid":""})",
                                  R"({"alg":"ES256","kid":1})", R"({"alg":"ES256","kid":["k1"]})"})
    expect_rejected(verifier_, es256_token(pkey_.get(), header, payload), header);
  // Same kid, another key: the signature decides.
  expect_rejected(verifier_, SigningKey::generate("k1").sign(claims()), "impostor key with our kid");
}

TEST_F(JwtTest, HeaderAndPayloadMustBeJsonObjects) {
  std::string payload = json::serialize(claims());
  expect_rejected(verifier_, es256_token(pkey_.get(), R"({"alg":"ES256","kid":"k1","crit":["exp"]})", payload),
                  "unknown critical extension");
  expect_rejected(verifier_, es256_token(pkey_.get(), R"({"alg":"ES256","kid":"k1"} x)", payload), "trailing junk");
  for (std::string_view bad : {"[1,2]", "\"sub\"", "42", "null", "", "{\"sub\":", "not json"})
    expect_rejected(verifier_, es256_token(pkey_.get(), R"({"alg":"ES256","kid":"k1"})", bad), bad);
}

TEST_F(JwtTest, KeyRoundTripsThroughPem) {
  std::string pem = key_.private_key_pem();
  EXPECT_TRUE(pem.starts_with("-----BEGIN PRIVATE KEY-----\n")) << pem;  // PKCS#8
  auto restored = SigningKey::from_pem("k1", pem);
  ASSERT_TRUE(restored.has_value());
  EXPECT_EQ(restored->kid(), "k1");
  EXPECT_EQ(restored->public_jwk(), key_.public_jwk());
  EXPECT_TRUE(verifier_.verify(restored->sign(claims())).has_value());
}

TEST_F(JwtTest, Sec1PemLoads) {
  auto key = SigningKey::from_pem("fixed", kSec1Pem);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->public_jwk().at("x").as_string(), kSec1X);
  EXPECT_EQ(key->public_jwk().at("y").as_string(), kSec1Y);
  JwtVerifier verifier;
  verifier.add(*key);
  EXPECT_TRUE(verifier.verify(key->sign(claims())).has_value());
}

TEST_F(JwtTest, FromPemRefusesWhatIsNotAP256PrivateKey) {
  PkeyPtr p384(EVP_EC_gen("P-384"), &EVP_PKEY_free);
  PkeyPtr rsa(EVP_RSA_gen(1024), &EVP_PKEY_free);
  PkeyPtr ed25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), &EVP_PKEY_free);
  std::string encrypted;
  {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    char pass[] = "secret";
    PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), EVP_aes_256_cbc(), nullptr, 0, nullptr, pass);
    BUF_MEM* mem = nullptr;
    BIO_get_mem_ptr(bio.get(), &mem);
    encrypted.assign(mem->data, mem->length);
  }
  ASSERT_NE(encrypted.find("ENCRYPTED"), std::string::npos);
  std::string pem = key_.private_key_pem();
  for (const std::string& bad :
       {std::string(), std::string("not a pem"), pem_of(p384.get(), false), pem_of(rsa.get(), false),
        pem_of(ed25519.get(), false), pem_of(pkey_.get(), true), encrypted, pem.substr(0, pem.size() / 2)})
    EXPECT_FALSE(SigningKey::from_pem("k", bad).has_value()) << bad;
}

TEST_F(JwtTest, PublishedJwkVerifies) {
  JwtVerifier from_jwks;
  ASSERT_TRUE(from_jwks.add_jwk(key_.public_jwk()).has_value());
  EXPECT_TRUE(from_jwks.verify(key_.sign(claims())).has_value());
  // Minimal JWK: alg and use are optional.
  json::object minimal = key_.public_jwk();
  minimal.erase("alg");
  minimal.erase("use");
  JwtVerifier from_minimal;
  ASSERT_TRUE(from_minimal.add_jwk(minimal).has_value());
  EXPECT_TRUE(from_minimal.verify(key_.sign(claims())).has_value());
}

TEST_F(JwtTest, AddJwkRefusesOtherKeys) {
  auto with = [&](std::string_view field, json::value value) {
    json::object jwk = key_.public_jwk();
    jwk[field] = std::move(value);
    return jwk;
  };
  auto without = [&](std::string_view field) {
    json::object jwk = key_.public_jwk();
    jwk.erase(field);
    return jwk;
  };
  std::string x = decode(key_.public_jwk().at("x").as_string());
  std::string one(32, '\0');
  one[31] = 1;
  for (const json::object& bad :
       {with("kty", "RSA"), with("crv", "P-384"), with("crv", "secp256k1"), with("alg", "RS256"),
        with("alg", "HS256"), with("use", "enc"), without("kid"), with("kid", ""), with("kid", 7), without("x"),
        without("y"), with("x", json::string(b64(x.substr(1)))), with("x", json::string(b64(x + "\x01"))),
        with("x", "not base64url!"), with("x", 12), with("x", json::string(b64(one))),  // x or y = 1: off the curve
        with("y", json::string(b64(one))), without("kty"), without("crv")}) {
    JwtVerifier verifier;
    auto added = verifier.add_jwk(bad);
    ASSERT_FALSE(added.has_value()) << json::serialize(bad);
    EXPECT_EQ(added.error().code, "invalid_jwk");
    EXPECT_TRUE(verifier.empty());
  }
}

TEST_F(JwtTest, SeveralKeysVerifyTogether) {
  SigningKey next = SigningKey::generate("k2");
  verifier_.add(next);
  EXPECT_TRUE(verifier_.verify(key_.sign(claims())).has_value());
  EXPECT_TRUE(verifier_.verify(next.sign(claims())).has_value());
  // A kid names one key: k1's token under k2's name fails.
  Parts p = split(key_.sign(claims()));
  expect_rejected(verifier_, b64(R"({"alg":"ES256","typ":"JWT","kid":"k2"})") + "." + p.payload + "." + p.signature,
                  "kid switched");
}

TEST_F(JwtTest, ConcurrentSigningAndVerifying) {
  SigningKey shared = key_;  // copies share one key
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto v = verifier_.verify(shared.sign({{"t", t}, {"i", i}}));
        if (!v || v->at("i").as_int64() != i) ++failures[t];
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

// ---- registered claims ----

Result<void> check(const json::object& c, int64_t leeway = 0) {
  return check_registered_claims(c, kNow, "https://auth.example", "api", leeway);
}

json::object changed(std::string_view field, json::value value) {
  json::object c = claims();
  c[field] = std::move(value);
  return c;
}

json::object removed(std::string_view field) {
  json::object c = claims();
  c.erase(field);
  return c;
}

void expect_claims_rejected(const Result<void>& r, std::string_view why) {
  ASSERT_FALSE(r.has_value()) << why;
  EXPECT_EQ(r.error().code, "invalid_token") << why;
  EXPECT_EQ(r.error().status, 401) << why;
}

TEST(JwtClaims, ValidClaimsPass) {
  EXPECT_TRUE(check(claims()).has_value());
  EXPECT_TRUE(check(changed("nbf", kNow - 10)).has_value());
  EXPECT_TRUE(check(changed("nbf", kNow)).has_value());
  EXPECT_TRUE(check(changed("exp", kNow + 1)).has_value());
  EXPECT_TRUE(check(changed("exp", kNow + 0.5)).has_value());  // NumericDate may be fractional
  EXPECT_TRUE(check(changed("aud", json::array{"other", "api"})).has_value());
}

TEST(JwtClaims, ExpiryIsRequiredAndStrict) {
  expect_claims_rejected(check(removed("exp")), "no exp");
  expect_claims_rejected(check(changed("exp", kNow)), "exp == now");
  expect_claims_rejected(check(changed("exp", kNow - 1)), "expired");
  expect_claims_rejected(check(changed("exp", json::string(std::to_string(kNow + 300)))), "exp as a string");
  expect_claims_rejected(check(changed("exp", nullptr)), "exp null");
  auto expired = check(changed("exp", kNow - 1));
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos) << expired.error().message;
}

TEST(JwtClaims, LeewayAppliesToExpAndNbf) {
  EXPECT_TRUE(check(changed("exp", kNow - 5), 10).has_value());
  expect_claims_rejected(check(changed("exp", kNow - 10), 10), "expired beyond leeway");
  EXPECT_TRUE(check(changed("nbf", kNow + 5), 10).has_value());
  expect_claims_rejected(check(changed("nbf", kNow + 11), 10), "not yet valid beyond leeway");
}

TEST(JwtClaims, NotBeforeMustHavePassed) {
  expect_claims_rejected(check(changed("nbf", kNow + 1)), "nbf in the future");
  expect_claims_rejected(check(changed("nbf", "yesterday")), "nbf as a string");
}

TEST(JwtClaims, IssuerMustMatch) {
  expect_claims_rejected(check(removed("iss")), "no iss");
  expect_claims_rejected(check(changed("iss", "https://evil.example")), "other iss");
  expect_claims_rejected(check(changed("iss", "https://auth.example/")), "iss with a slash");
  expect_claims_rejected(check(changed("iss", json::array{"https://auth.example"})), "iss as an array");
}

TEST(JwtClaims, AudienceMustMatchOrBeListed) {
  expect_claims_rejected(check(removed("aud")), "no aud");
  expect_claims_rejected(check(changed("aud", "apis")), "other aud");
  expect_claims_rejected(check(changed("aud", json::array{"other"})), "aud list without us");
  expect_claims_rejected(check(changed("aud", json::array{})), "empty aud list");
  expect_claims_rejected(check(changed("aud", json::array{json::array{"api"}})), "nested aud");
  expect_claims_rejected(check(changed("aud", 1)), "aud as a number");
}

}  // namespace
}  // namespace tessera::crypto
