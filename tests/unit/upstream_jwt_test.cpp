// crypto/upstream_jwt: verification of ID tokens signed by other issuers. Keys are generated here with
// OpenSSL, published as JWKS JSON and used to sign tokens with small EVP helpers of this file, so the
// verifier is checked against an independent signer; the RFC 7515 and RFC 8037 example tokens check it
// against the outside world.
#include "crypto/upstream_jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "crypto/random.hpp"

namespace tessera::crypto {
namespace {

namespace json = boost::json;
using PkeyPtr = std::shared_ptr<EVP_PKEY>;

PkeyPtr own(EVP_PKEY* pkey) {
  if (pkey == nullptr) throw std::runtime_error("test key generation failed");
  return PkeyPtr(pkey, &EVP_PKEY_free);
}

// Generated once per process: RSA key generation takes a while.
const PkeyPtr& rsa() { static PkeyPtr k = own(EVP_RSA_gen(2048)); return k; }
const PkeyPtr& rsa_other() { static PkeyPtr k = own(EVP_RSA_gen(2048)); return k; }
const PkeyPtr& rsa_1024() { static PkeyPtr k = own(EVP_RSA_gen(1024)); return k; }
const PkeyPtr& p256() { static PkeyPtr k = own(EVP_EC_gen("P-256")); return k; }
const PkeyPtr& p256_other() { static PkeyPtr k = own(EVP_EC_gen("P-256")); return k; }
const PkeyPtr& p384() { static PkeyPtr k = own(EVP_EC_gen("P-384")); return k; }
const PkeyPtr& ed25519() { static PkeyPtr k = own(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); return k; }
const PkeyPtr& ed25519_other() { static PkeyPtr k = own(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); return k; }

std::string b64(std::string_view bytes) { return base64url_encode(bytes); }

std::string bn_param(EVP_PKEY* pkey, const char* name, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) throw std::runtime_error("no such key parameter");
  std::string out(pad_to > 0 ? pad_to : BN_num_bytes(bn), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

int ec_coordinate_bytes(EVP_PKEY* pkey) { return EVP_PKEY_get_bits(pkey) == 384 ? 48 : 32; }

// The public JWK of a generated key, as an issuer publishes it.
json::object jwk_of(EVP_PKEY* pkey, std::string_view kid) {
  json::object jwk;
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    jwk = {{"kty", "RSA"},
           {"n", b64(bn_param(pkey, OSSL_PKEY_PARAM_RSA_N))},
           {"e", b64(bn_param(pkey, OSSL_PKEY_PARAM_RSA_E))}};
  } else if (EVP_PKEY_is_a(pkey, "EC")) {
    int size = ec_coordinate_bytes(pkey);
    jwk = {{"kty", "EC"},
           {"crv", size == 48 ? "P-384" : "P-256"},
           {"x", b64(bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, size))},
           {"y", b64(bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, size))}};
  } else {
    std::string x(32, '\0');
    size_t len = x.size();
    EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(x.data()), &len);
    jwk = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", b64(x)}};
  }
  if (!kid.empty()) jwk["kid"] = kid;
  return jwk;
}

json::value jwks(std::initializer_list<json::object> keys) {
  json::array array;
  for (const auto& key : keys) array.push_back(key);
  return json::object{{"keys", std::move(array)}};
}

UpstreamKeySet key_set(const json::value& doc) {
  auto set = UpstreamKeySet::parse(doc);
  if (!set) throw std::runtime_error("test JWKS refused: " + set.error().internal);
  return *set;
}

// Every usable test key under its own kid.
UpstreamKeySet all_keys() {
  return key_set(jwks({jwk_of(rsa().get(), "rsa1"), jwk_of(p256().get(), "ec1"), jwk_of(p384().get(), "ec384"),
                       jwk_of(ed25519().get(), "ed1")}));
}

// A JWS signature made with plain EVP; ECDSA's DER turned into the JOSE R || S form.
std::string sign(std::string_view alg, EVP_PKEY* pkey, std::string_view input) {
  const EVP_MD* md = alg == "EdDSA" ? nullptr : alg == "ES384" ? EVP_sha384() : EVP_sha256();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, pkey) != 1) throw std::runtime_error("sign init failed");
  if (alg == "PS256" && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1))
    throw std::runtime_error("PSS setup failed");
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size()) != 1) throw std::runtime_error("sign failed");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size()) != 1)
    throw std::runtime_error("sign failed");
  sig.resize(len);
  if (alg != "ES256" && alg != "ES384") return sig;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> ecdsa(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)),
                                                             &ECDSA_SIG_free);
  int half = ec_coordinate_bytes(pkey);
  std::string raw(2 * half, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa.get()), out, half);
  BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa.get()), out + half, half);
  return raw;
}

std::string token_from(const json::object& header, std::string_view payload_json, std::string_view alg,
                       EVP_PKEY* pkey) {
  std::string input = b64(json::serialize(header)) + "." + b64(payload_json);
  return input + "." + b64(sign(alg, pkey, input));
}

const std::string kClaims = R"({"iss":"https://accounts.example","sub":"alice","aud":"app","exp":1800000000})";

std::string token(std::string_view alg, EVP_PKEY* pkey, std::string_view kid) {
  json::object header{{"alg", alg}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = kid;
  return token_from(header, kClaims, alg, pkey);
}

std::string hs256_token(std::string_view kid, std::string_view secret) {
  std::string input = b64(json::serialize(json::object{{"alg", "HS256"}, {"kid", kid}})) + "." + b64(kClaims);
  unsigned char mac[32];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  return input + "." + b64(std::string_view(reinterpret_cast<char*>(mac), mac_len));
}

std::string public_pem(EVP_PKEY* pkey) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PUBKEY(bio.get(), pkey);
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio.get(), &mem);
  return std::string(mem->data, mem->length);
}

// The internal reason of a refusal, after checking the refusal's public shape.
std::string refusal(const UpstreamKeySet& set, std::string_view token) {
  auto claims = set.verify(token);
  if (claims) return "<verified>";
  EXPECT_EQ(claims.error().code, "invalid_external_token");
  EXPECT_EQ(claims.error().status, 401);
  EXPECT_EQ(claims.error().message, "The token could not be verified.");
  return claims.error().internal;
}

std::string segment(const std::string& token, int index) {
  size_t a = token.find('.'), b = token.find('.', a + 1);
  if (index == 0) return token.substr(0, a);
  if (index == 1) return token.substr(a + 1, b - a - 1);
  return token.substr(b + 1);
}

class UpstreamJwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init(); }
};

TEST_F(UpstreamJwtTest, VerifiesEveryAcceptedAlgorithm) {
  UpstreamKeySet set = all_keys();
  EXPECT_EQ(set.size(), 4u);
  struct Case {
    std::string alg;
    EVP_PKEY* key;
    std::string kid;
  } cases[] = {{"RS256", rsa().get(), "rsa1"}, {"PS256", rsa().get(), "rsa1"}, {"ES256", p256().get(), "ec1"},
               {"ES384", p384().get(), "ec384"}, {"EdDSA", ed25519().get(), "ed1"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.alg);
    auto claims = set.verify(token(c.alg, c.key, c.kid));
    ASSERT_TRUE(claims.has_value()) << claims.error().internal;
    EXPECT_EQ(claims->at("sub"), "alice");
    EXPECT_EQ(claims->at("exp"), 1800000000);
  }
}

TEST_F(UpstreamJwtTest, RsaPaddingIsTheOneTheAlgNames) {
  UpstreamKeySet set = all_keys();
  // A PKCS#1 v1.5 signature presented as PS256, and a PSS one as RS256, each over its own header.
  json::object ps_header{{"alg", "PS256"}, {"kid", "rsa1"}};
  json::object rs_header{{"alg", "RS256"}, {"kid", "rsa1"}};
  EXPECT_EQ(refusal(set, token_from(ps_header, kClaims, "RS256", rsa().get())), "bad signature");
  EXPECT_EQ(refusal(set, token_from(rs_header, kClaims, "PS256", rsa().get())), "bad signature");
  EXPECT_TRUE(set.verify(token_from(ps_header, kClaims, "PS256", rsa().get())).has_value());
}

TEST_F(UpstreamJwtTest, SignatureOfAnotherKeyIsRefused) {
  UpstreamKeySet set = all_keys();
  EXPECT_EQ(refusal(set, token("RS256", rsa_other().get(), "rsa1")), "bad signature");
  EXPECT_EQ(refusal(set, token("ES256", p256_other().get(), "ec1")), "bad signature");
  EXPECT_EQ(refusal(set, token("EdDSA", ed25519_other().get(), "ed1")), "bad signature");
}

TEST_F(UpstreamJwtTest, TamperedPayloadIsRefused) {
  UpstreamKeySet set = all_keys();
  std::string forged_payload = b64(R"({"iss":"https://accounts.example","sub":"admin","aud":"app","exp":1800000000})");
  for (auto [alg, key, kid] : {std::tuple{"RS256", rsa().get(), "rsa1"}, std::tuple{"ES256", p256().get(), "ec1"},
                               std::tuple{"EdDSA", ed25519().get(), "ed1"}}) {
    std::string t = token(alg, key, kid);
    EXPECT_EQ(refusal(set, segment(t, 0) + "." + forged_payload + "." + segment(t, 2)), "bad signature") << alg;
  }
}

TEST_F(UpstreamJwtTest, FlippedSignatureBitIsRefused) {
  UpstreamKeySet set = all_keys();
  for (auto [alg, key, kid] : {std::tuple{"PS256", rsa().get(), "rsa1"}, std::tuple{"ES384", p384().get(), "ec384"},
                               std::tuple{"EdDSA", ed25519().get(), "ed1"}}) {
    json::object header{{"alg", alg}, {"kid", kid}};
    std::string input = b64(json::serialize(header)) + "." + b64(kClaims);
    std::string sig = sign(alg, key, input);
    sig[sig.size() / 2] ^= 0x01;
    EXPECT_EQ(refusal(set, input + "." + b64(sig)), "bad signature") << alg;
  }
}

TEST_F(UpstreamJwtTest, AlgMustFitTheKeyType) {
  UpstreamKeySet set = all_keys();
  // Signed "correctly" in the sense that each signature matches the key of its kind; only the pairing is wrong.
  EXPECT_EQ(refusal(set, token("RS256", rsa().get(), "ec1")), "alg RS256 does not fit key ec1");
  EXPECT_EQ(refusal(set, token("ES256", p384().get(), "ec384")), "alg ES256 does not fit key ec384");
  EXPECT_EQ(refusal(set, token("ES384", p256().get(), "ec1")), "alg ES384 does not fit key ec1");
  EXPECT_EQ(refusal(set, token("EdDSA", ed25519().get(), "rsa1")), "alg EdDSA does not fit key rsa1");
  EXPECT_EQ(refusal(set, token("PS256", rsa().get(), "ed1")), "alg PS256 does not fit key ed1");
}

TEST_F(UpstreamJwtTest, AlgMustEqualTheJwkAlgWhenItNamesOne) {
  json::object jwk = jwk_of(rsa().get(), "rsa1");
  jwk["alg"] = "PS256";
  UpstreamKeySet set = key_set(jwks({jwk}));
  EXPECT_EQ(refusal(set, token("RS256", rsa().get(), "rsa1")), "alg RS256 does not fit key rsa1");
  EXPECT_TRUE(set.verify(token("PS256", rsa().get(), "rsa1")).has_value());
}

TEST_F(UpstreamJwtTest, NoneAndHmacAreRefusedBeforeAnyKey) {
  UpstreamKeySet set = all_keys();
  std::string none = b64(R"({"alg":"none","kid":"rsa1"})") + "." + b64(kClaims) + ".";
  EXPECT_EQ(refusal(set, none), "alg none not accepted");
  EXPECT_EQ(refusal(set, hs256_token("rsa1", "secret")), "alg HS256 not accepted");
  // The classic confusion: HMAC keyed with the issuer's public key, which anyone can fetch.
  EXPECT_EQ(refusal(set, hs256_token("rsa1", public_pem(rsa().get()))), "alg HS256 not accepted");
  EXPECT_EQ(refusal(set, hs256_token("rsa1", bn_param(rsa().get(), OSSL_PKEY_PARAM_RSA_N))), "alg HS256 not accepted");
  EXPECT_EQ(refusal(set, token_from({{"alg", "rs256"}, {"kid", "rsa1"}}, kClaims, "RS256", rsa().get())),
            "alg rs256 not accepted");
  EXPECT_EQ(refusal(set, token_from({{"alg", "RS512"}, {"kid", "rsa1"}}, kClaims, "RS256", rsa().get())),
            "alg RS512 not accepted");
  EXPECT_EQ(refusal(set, token_from({{"kid", "rsa1"}}, kClaims, "RS256", rsa().get())), "no alg");
  EXPECT_EQ(refusal(set, token_from({{"alg", 256}, {"kid", "rsa1"}}, kClaims, "RS256", rsa().get())), "no alg");
}

TEST_F(UpstreamJwtTest, UnknownKidIsRefused) {
  UpstreamKeySet set = all_keys();
  EXPECT_EQ(refusal(set, token("RS256", rsa().get(), "rotated-2031")), "unknown kid rotated-2031");
  EXPECT_FALSE(set.has_kid("rotated-2031"));
  EXPECT_TRUE(set.has_kid("rsa1"));
  std::string long_kid(5000, 'k');
  EXPECT_EQ(refusal(set, token("RS256", rsa().get(), long_kid)), "unknown kid " + long_kid.substr(0, 64) + "...");
  EXPECT_EQ(refusal(set, token_from({{"alg", "RS256"}, {"kid", 7}}, kClaims, "RS256", rsa().get())),
            "kid is not a string");
}

TEST_F(UpstreamJwtTest, NoKidNeedsExactlyOneKeyForTheAlg) {
  UpstreamKeySet mixed = key_set(jwks({jwk_of(rsa().get(), ""), jwk_of(p256().get(), "ec1")}));
  EXPECT_TRUE(mixed.verify(token("RS256", rsa().get(), "")).has_value());
  EXPECT_TRUE(mixed.verify(token("ES256", p256().get(), "")).has_value());
  EXPECT_EQ(refusal(mixed, token("EdDSA", ed25519().get(), "")), "no kid and no key for alg EdDSA");

  UpstreamKeySet two_ec = key_set(jwks({jwk_of(p256().get(), "ec1"), jwk_of(p256_other().get(), "ec2")}));
  EXPECT_EQ(refusal(two_ec, token("ES256", p256().get(), "")), "2 keys for alg ES256 and no kid");
  EXPECT_TRUE(two_ec.verify(token("ES256", p256_other().get(), "ec2")).has_value());
}

TEST_F(UpstreamJwtTest, AKidNamingTwoKeysForTheAlgIsRefused) {
  UpstreamKeySet set = key_set(jwks({jwk_of(p256().get(), "same"), jwk_of(p256_other().get(), "same"),
                                     jwk_of(rsa().get(), "same")}));
  EXPECT_EQ(refusal(set, token("ES256", p256().get(), "same")), "2 keys for alg ES256 under kid same");
  EXPECT_TRUE(set.verify(token("RS256", rsa().get(), "same")).has_value());  // one RSA key under that kid
}

TEST_F(UpstreamJwtTest, EncryptionKeysAreSkipped) {
  json::object enc = jwk_of(rsa_other().get(), "enc1");
  enc["use"] = "enc";
  json::object sig = jwk_of(rsa().get(), "sig1");
  sig["use"] = "sig";
  json::object odd_use = jwk_of(p256().get(), "odd");
  odd_use["use"] = json::array{"sig"};
  UpstreamKeySet set = key_set(jwks({enc, sig, odd_use}));
  EXPECT_EQ(set.size(), 1u);
  EXPECT_FALSE(set.has_kid("enc1"));
  EXPECT_EQ(refusal(set, token("RS256", rsa_other().get(), "enc1")), "unknown kid enc1");
  EXPECT_TRUE(set.verify(token("RS256", rsa().get(), "sig1")).has_value());
}

TEST_F(UpstreamJwtTest, OtherKeyTypesAndCurvesAreSkipped) {
  auto set = UpstreamKeySet::parse(jwks({
      {{"kty", "oct"}, {"kid", "hmac"}, {"k", b64(std::string(32, '\x07'))}},
      {{"kty", "EC"}, {"crv", "P-521"}, {"kid", "p521"}, {"x", "AA"}, {"y", "AA"}},
      {{"kty", "OKP"}, {"crv", "X25519"}, {"kid", "x25519"}, {"x", b64(std::string(32, '\x09'))}},
      {{"kty", "OKP"}, {"crv", "Ed448"}, {"kid", "ed448"}, {"x", b64(std::string(57, '\x09'))}},
      {{"kid", "no-kty"}},
      jwk_of(ed25519().get(), "ed1"),
  }));
  ASSERT_TRUE(set.has_value());
  EXPECT_EQ(set->size(), 1u);
  EXPECT_TRUE(set->has_kid("ed1"));
  EXPECT_FALSE(set->has_kid("hmac"));
  // Not an object at all: skipped like any other unusable entry.
  json::value doc = jwks({jwk_of(ed25519().get(), "ed1")});
  doc.as_object()["keys"].as_array().push_back(json::string("junk"));
  doc.as_object()["keys"].as_array().push_back(nullptr);
  EXPECT_EQ(key_set(doc).size(), 1u);
}

TEST_F(UpstreamJwtTest, SmallRsaModulusIsSkipped) {
  UpstreamKeySet set = key_set(jwks({jwk_of(rsa_1024().get(), "weak"), jwk_of(rsa().get(), "rsa1")}));
  EXPECT_EQ(set.size(), 1u);
  EXPECT_FALSE(set.has_kid("weak"));
  EXPECT_EQ(refusal(set, token("RS256", rsa_1024().get(), "weak")), "unknown kid weak");
}

TEST_F(UpstreamJwtTest, MalformedMembersSkipTheKey) {
  auto with = [](json::object jwk, std::string_view name, json::value v) {
    jwk[name] = std::move(v);
    return jwk;
  };
  json::object ec = jwk_of(p256().get(), "ec1");
  json::object rsa_jwk = jwk_of(rsa().get(), "rsa1");
  std::string y;
  base64url_decode(ec.at("y").as_string(), y);
  y[31] ^= 0x01;  // no longer on the curve
  const json::object bad[] = {
      with(ec, "x", json::string(b64(std::string(31, '\x01')))),  // a trimmed coordinate
      with(ec, "y", json::string(b64(y))),
      with(ec, "x", "not base64url!"),
      with(ec, "x", "AAAA="),  // padded
      with(ec, "crv", "P-384"),  // 32-byte coordinates on the wrong curve
      with(ec, "kid", 12),
      with(ec, "alg", "ES384"),  // an alg this key can never verify
      with(ec, "alg", json::array{"ES256"}),
      with(ec, "use", nullptr),
      with(rsa_jwk, "n", "***"),
      with(rsa_jwk, "e", ""),
      with(rsa_jwk, "e", "AAE"),                      // e = 1
      with(rsa_jwk, "e", json::string(b64(std::string(9, '\x01')))),  // e of 72 bits
      with(rsa_jwk, "alg", "RS512"),
      with(rsa_jwk, "alg", "RSA-OAEP"),
      with(jwk_of(ed25519().get(), "ed1"), "x", json::string(b64(std::string(31, '\x01')))),
  };
  for (const auto& jwk : bad) {
    auto set = UpstreamKeySet::parse(jwks({jwk}));
    ASSERT_TRUE(set.has_value());
    EXPECT_EQ(set->size(), 0u) << json::serialize(jwk);
  }
}

TEST_F(UpstreamJwtTest, PrivateMembersAreIgnored) {
  json::object jwk = jwk_of(rsa().get(), "rsa1");
  jwk["d"] = "not even base64url!";
  jwk["p"] = 3;
  jwk["alg"] = "RS256";
  jwk["use"] = "sig";
  jwk["key_ops"] = json::array{"verify"};
  jwk["x5c"] = json::array{"MIIC..."};
  UpstreamKeySet set = key_set(jwks({jwk}));
  EXPECT_TRUE(set.verify(token("RS256", rsa().get(), "rsa1")).has_value());
}

TEST_F(UpstreamJwtTest, RsaModulusWithLeadingZeroIsAccepted) {
  json::object jwk = jwk_of(rsa().get(), "rsa1");
  jwk["n"] = b64(std::string(1, '\0') + bn_param(rsa().get(), OSSL_PKEY_PARAM_RSA_N));
  EXPECT_TRUE(key_set(jwks({jwk})).verify(token("RS256", rsa().get(), "rsa1")).has_value());
}

TEST_F(UpstreamJwtTest, CritIsRefused) {
  UpstreamKeySet set = all_keys();
  json::object header{{"alg", "ES256"}, {"kid", "ec1"}, {"crit", json::array{"exp"}}, {"exp", 1}};
  EXPECT_EQ(refusal(set, token_from(header, kClaims, "ES256", p256().get())), "crit header present");
}

TEST_F(UpstreamJwtTest, MalformedTokensAreRefused) {
  UpstreamKeySet set = all_keys();
  std::string good = token("ES256", p256().get(), "ec1");
  std::string h = segment(good, 0), p = segment(good, 1), s = segment(good, 2);
  EXPECT_EQ(refusal(set, ""), "not three dot-separated segments");
  EXPECT_EQ(refusal(set, h + "." + p), "not three dot-separated segments");
  EXPECT_EQ(refusal(set, good + "." + s), "not three dot-separated segments");
  EXPECT_EQ(refusal(set, good + "."), "not three dot-separated segments");
  EXPECT_EQ(refusal(set, "!!." + p + "." + s), "header is not base64url");
  EXPECT_EQ(refusal(set, h + "=." + p + "." + s), "header is not base64url");
  EXPECT_EQ(refusal(set, h + "." + p + "." + s + "="), "signature is not base64url");
  EXPECT_EQ(refusal(set, h + "." + p + "*." + s), "payload is not base64url");
  EXPECT_EQ(refusal(set, h + "." + p + "." + s + " "), "signature is not base64url");
  EXPECT_EQ(refusal(set, b64(R"(["alg","ES256"])") + "." + p + "." + s), "header is not a JSON object");
  EXPECT_EQ(refusal(set, b64(R"({"alg":"ES256","kid":"ec1"} {})") + "." + p + "." + s), "header is not a JSON object");
  EXPECT_EQ(refusal(set, b64(R"({"alg":"ES256","kid":"ec1")") + "." + p + "." + s), "header is not a JSON object");
  EXPECT_EQ(refusal(set, std::string(16 * 1024 + 1, 'a')), "token longer than 16384");

  // Properly signed, but the payload is not one JSON object.
  json::object header{{"alg", "ES256"}, {"kid", "ec1"}};
  for (std::string_view payload : {"[1,2]", "\"alice\"", "", "{\"sub\":\"alice\"}garbage", "{\"sub\":\"alice\"}\n{}"}) {
    EXPECT_EQ(refusal(set, token_from(header, payload, "ES256", p256().get())), "payload is not a JSON object")
        << payload;
  }

  // ECDSA signatures are R || S, not DER.
  std::string input = h + "." + p;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char der[80];
  size_t der_len = sizeof der;
  ASSERT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, p256().get()), 1);
  ASSERT_EQ(EVP_DigestSign(ctx.get(), der, &der_len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()),
            1);
  std::string der_token = input + "." + b64(std::string_view(reinterpret_cast<char*>(der), der_len));
  EXPECT_EQ(refusal(set, der_token).substr(0, 14), "signature has ");
  EXPECT_EQ(refusal(set, input + "." + b64(std::string(64, '\0'))), "bad signature");
  EXPECT_EQ(refusal(set, input + "."), "signature has 0 bytes, ES256 needs 64");
}

TEST_F(UpstreamJwtTest, ParseRefusesWhatIsNotAKeySet) {
  for (std::string_view text : {"null", "[]", "\"keys\"", "{}", R"({"keys":{}})", R"({"keys":null})",
                                R"({"Keys":[]})", R"({"keys":"[]"})"}) {
    auto set = UpstreamKeySet::parse(json::parse(text));
    ASSERT_FALSE(set.has_value()) << text;
    EXPECT_EQ(set.error().code, "invalid_jwks");
    EXPECT_EQ(set.error().status, 502);
    EXPECT_FALSE(set.error().internal.empty());
  }
  auto empty = UpstreamKeySet::parse(json::parse(R"({"keys":[]})"));
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->size(), 0u);
  EXPECT_EQ(refusal(*empty, token("ES256", p256().get(), "")), "no kid and no key for alg ES256");
}

// The token is the provider's, not a bearer credential of ours: a plain 401, without a Bearer challenge.
TEST_F(UpstreamJwtTest, RefusalIsInvalidExternalToken) {
  auto claims = all_keys().verify("x.y.z");
  ASSERT_FALSE(claims.has_value());
  EXPECT_EQ(claims.error().status, 401);
  EXPECT_EQ(claims.error().code, "invalid_external_token");
  EXPECT_EQ(claims.error().www_authenticate, "");
}

TEST_F(UpstreamJwtTest, JwsKidReadsTheHeaderWithoutVerifying) {
  EXPECT_EQ(jws_kid(token("RS256", rsa_other().get(), "new-key")), "new-key");
  EXPECT_EQ(jws_kid(b64(R"({"alg":"none","kid":"k"})") + ".e30."), "k");
  EXPECT_EQ(jws_kid(token("RS256", rsa().get(), "")), std::nullopt);
  EXPECT_EQ(jws_kid(b64(R"({"alg":"RS256","kid":5})") + ".e30.sig"), std::nullopt);
  EXPECT_EQ(jws_kid(b64(R"({"kid":"k"}x)") + ".e30.sig"), std::nullopt);
  EXPECT_EQ(jws_kid(b64(R"({"kid":"k"})") + ".e30"), std::nullopt);
  EXPECT_EQ(jws_kid("%%%.e30.sig"), std::nullopt);
  EXPECT_EQ(jws_kid(""), std::nullopt);
  EXPECT_EQ(jws_kid(b64(R"({"kid":"k"})") + ".e30." + std::string(16 * 1024, 'a')), std::nullopt);
}

TEST_F(UpstreamJwtTest, VerifiesOnManyThreadsAtOnce) {
  const UpstreamKeySet set = all_keys();
  const std::string tokens[] = {token("RS256", rsa().get(), "rsa1"), token("PS256", rsa().get(), "rsa1"),
                                token("ES256", p256().get(), "ec1"), token("ES384", p384().get(), "ec384"),
                                token("EdDSA", ed25519().get(), "ed1")};
  const std::string forged = token("ES256", p256_other().get(), "ec1");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        if (!set.verify(tokens[(t + i) % std::size(tokens)]).has_value()) ++wrong;
        if (set.verify(forged).has_value()) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

// RFC 7515 appendix A.2: the RS256 example, its JWK and its token as printed in the RFC.
TEST_F(UpstreamJwtTest, Rfc7515Rs256Example) {
  const char* jwk = R"({"kty":"RSA",
    "n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
    "e":"AQAB"})";
  const std::string token =
      "eyJhbGciOiJSUzI1NiJ9"
      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
      ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CU"
      "Ar7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--"
      "xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_"
      "IoypGlUPQGe77Rw";
  UpstreamKeySet set = key_set(json::parse(std::string(R"({"keys":[)") + jwk + "]}"));
  auto claims = set.verify(token);
  ASSERT_TRUE(claims.has_value()) << claims.error().internal;
  EXPECT_EQ(claims->at("iss"), "joe");
  EXPECT_EQ(claims->at("exp"), 1300819380);
  EXPECT_EQ(claims->at("http://example.com/is_root"), true);
  EXPECT_EQ(refusal(set, token.substr(0, token.size() - 1) + "A"), "bad signature");
}

// RFC 7515 appendix A.3: the ES256 example (R || S signature).
TEST_F(UpstreamJwtTest, Rfc7515Es256Example) {
  UpstreamKeySet set = key_set(json::parse(R"({"keys":[{"kty":"EC","crv":"P-256",
    "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})"));
  const std::string token =
      "eyJhbGciOiJFUzI1NiJ9"
      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
      ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
  auto claims = set.verify(token);
  ASSERT_TRUE(claims.has_value()) << claims.error().internal;
  EXPECT_EQ(claims->at("iss"), "joe");
}

// RFC 8037 appendix A.4/A.5: EdDSA over "Example of Ed25519 signing". That payload is text, not a JSON
// object, so the token must pass the signature check and then be refused for its payload.
TEST_F(UpstreamJwtTest, Rfc8037Ed25519Example) {
  UpstreamKeySet set = key_set(json::parse(
      R"({"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]})"));
  const std::string input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
  const std::string signature =
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
  EXPECT_EQ(refusal(set, input + "." + signature), "payload is not a JSON object");
  std::string flipped = signature;
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(refusal(set, input + "." + flipped), "bad signature");
}

}  // namespace
}  // namespace tessera::crypto
