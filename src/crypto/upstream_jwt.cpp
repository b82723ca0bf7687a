#include "crypto/upstream_jwt.hpp"
#include "crypto/jwt.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <boost/json/parse.hpp>

#include <algorithm>
#include <stdexcept>

#include "crypto/random.hpp"

namespace tessera::crypto {

namespace json = boost::json;

enum class KeyType { kRsa, kP256, kP384, kEd25519 };

struct UpstreamKeySet::Key {
  std::shared_ptr<EVP_PKEY> pkey;
  KeyType type = KeyType::kRsa;
  std::optional<std::string> kid;
  std::optional<std::string> alg;  // the JWK's "alg": when present, the only one this key verifies
};

namespace {

using Key = UpstreamKeySet::Key;

constexpr size_t kMaxTokenChars = 16 * 1024;  // bounds the work an unauthenticated caller causes
constexpr int kMinRsaBits = 2048;             // below: forgeable in practice (RFC 7518 3.3 asks for 2048)
constexpr int kMaxRsaBits = 8192;             // above: verification gets slow enough to be a lever
constexpr size_t kMaxRsaExponentBytes = 8;    // a huge e makes each verification expensive
constexpr size_t kEd25519Bytes = 32;
constexpr size_t kMaxReasonValueChars = 64;  // header values are the attacker's and go to the log

struct Free {
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, Free>;

// Fetched once: EVP_sha256() per call makes OpenSSL 3 look the algorithm up again each time (see jwt.cpp).
const EVP_MD* fetch_md(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr) throw std::runtime_error(std::string("OpenSSL has no ") + name);
  return md;
}
const EVP_MD* sha256() {
  static const EVP_MD* md = fetch_md("SHA256");
  return md;
}
const EVP_MD* sha384() {
  static const EVP_MD* md = fetch_md("SHA384");
  return md;
}

struct Alg {
  std::string_view name;
  KeyType key;
  const EVP_MD* (*md)();  // nullptr for EdDSA, which hashes internally
  bool pss;
};

// The whole list of what an upstream token may use (RFC 7518 3.1, RFC 8037 3.1).
constexpr Alg kAlgs[] = {
    {"RS256", KeyType::kRsa, &sha256, false}, {"PS256", KeyType::kRsa, &sha256, true},
    {"ES256", KeyType::kP256, &sha256, false}, {"ES384", KeyType::kP384, &sha384, false},
    {"EdDSA", KeyType::kEd25519, nullptr, false},
};

const Alg* find_alg(std::string_view name) {
  auto it = std::find_if(std::begin(kAlgs), std::end(kAlgs), [&](const Alg& a) { return a.name == name; });
  return it == std::end(kAlgs) ? nullptr : &*it;
}

bool can_verify(const Key& key, const Alg& alg) { return key.type == alg.key && (!key.alg || *key.alg == alg.name); }

size_t coordinate_bytes(KeyType type) { return type == KeyType::kP384 ? 48 : 32; }

const json::string* string_member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? &v->get_string() : nullptr;
}

std::optional<std::string> base64url_member(const json::object& o, std::string_view name) {
  const json::string* text = string_member(o, name);
  std::string out;
  if (text == nullptr || !base64url_decode(*text, out)) return std::nullopt;
  return out;
}

std::optional<json::object> parse_object(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);  // whole text: trailing bytes are an error
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::string shown(std::string_view value) {
  if (value.size() <= kMaxReasonValueChars) return std::string(value);
  return std::string(value.substr(0, kMaxReasonValueChars)) + "...";
}

std::unexpected<Error> refused(std::string reason) {
  Error e = Error::make(401, "invalid_external_token", "The token could not be verified.");
  e.internal = std::move(reason);
  return fail(std::move(e));
}

std::shared_ptr<EVP_PKEY> from_params(const char* type, OSSL_PARAM_BLD* bld) {
  Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return nullptr;
  return std::shared_ptr<EVP_PKEY>(pkey, &EVP_PKEY_free);
}

std::shared_ptr<EVP_PKEY> rsa_key(const json::object& jwk) {
  auto n = base64url_member(jwk, "n");
  auto e = base64url_member(jwk, "e");
  if (!n || !e || e->empty() || e->size() > kMaxRsaExponentBytes) return nullptr;
  auto bignum = [](const std::string& bytes) {
    return Owned<BIGNUM>(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                                   static_cast<int>(bytes.size()), nullptr));
  };
  Owned<BIGNUM> bn_n = bignum(*n), bn_e = bignum(*e);
  if (!bn_n || !bn_e) return nullptr;
  // Leading zero bytes in n (some issuers send them) do not count: the size is the number's.
  int bits = BN_num_bits(bn_n.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits || !BN_is_odd(bn_n.get()) || !BN_is_odd(bn_e.get()) ||
      BN_is_one(bn_e.get()))
    return nullptr;
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
    return nullptr;
  return from_params("RSA", bld.get());
}

std::shared_ptr<EVP_PKEY> ec_key(const json::object& jwk, KeyType type) {
  const size_t size = coordinate_bytes(type);
  auto x = base64url_member(jwk, "x");
  auto y = base64url_member(jwk, "y");
  // RFC 7518 6.2.1.2: coordinates are full-length, never trimmed.
  if (!x || !y || x->size() != size || y->size() != size) return nullptr;
  std::string point = "\x04" + *x + *y;  // SEC 1 uncompressed point
  char group_p256[] = "prime256v1";
  char group_p384[] = "secp384r1";
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                      type == KeyType::kP384 ? group_p384 : group_p256, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
    return nullptr;
  return from_params("EC", bld.get());  // refuses a point that is not on the curve (tested)
}

std::shared_ptr<EVP_PKEY> ed25519_key(const json::object& jwk) {
  auto x = base64url_member(jwk, "x");
  if (!x || x->size() != kEd25519Bytes) return nullptr;
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                               reinterpret_cast<const unsigned char*>(x->data()), x->size());
  return pkey == nullptr ? nullptr : std::shared_ptr<EVP_PKEY>(pkey, &EVP_PKEY_free);
}

// nullptr for anything this set cannot use: an issuer's JWKS often carries encryption keys or key types
// we do not verify with, and one odd key must not lock out the others.
std::shared_ptr<const Key> parse_key(const json::value& value) {
  if (!value.is_object()) return nullptr;
  const json::object& jwk = value.get_object();
  if (const json::value* use = jwk.if_contains("use"); use && !(use->is_string() && use->get_string() == "sig"))
    return nullptr;
  auto key = std::make_shared<Key>();
  if (const json::value* kid = jwk.if_contains("kid")) {
    if (!kid->is_string()) return nullptr;
    key->kid = std::string(kid->get_string());
  }
  if (const json::value* alg = jwk.if_contains("alg")) {
    if (!alg->is_string()) return nullptr;
    key->alg = std::string(alg->get_string());
  }
  const json::string* kty = string_member(jwk, "kty");
  const json::string* crv = string_member(jwk, "crv");
  if (kty && *kty == "RSA") {
    key->type = KeyType::kRsa;
    key->pkey = rsa_key(jwk);
  } else if (kty && *kty == "EC" && crv && (*crv == "P-256" || *crv == "P-384")) {
    key->type = *crv == "P-256" ? KeyType::kP256 : KeyType::kP384;
    key->pkey = ec_key(jwk, key->type);
  } else if (kty && *kty == "OKP" && crv && *crv == "Ed25519") {
    key->type = KeyType::kEd25519;
    key->pkey = ed25519_key(jwk);
  }
  ERR_clear_error();  // a refused key leaves reasons on this thread's queue; nobody reads them
  if (!key->pkey) return nullptr;
  // An "alg" we refuse (RS512, or ES384 on a P-256 key) means this key can never verify a token.
  if (std::none_of(std::begin(kAlgs), std::end(kAlgs), [&](const Alg& a) { return can_verify(*key, a); }))
    return nullptr;
  return key;
}

// The reason `signature` does not verify `input` under `key` with `alg`; nullopt when it does.
std::optional<std::string> signature_problem(const Key& key, const Alg& alg, std::string_view input,
                                             std::string signature) {
  size_t expected = kEd25519Bytes * 2;
  if (alg.key == KeyType::kRsa) expected = static_cast<size_t>(EVP_PKEY_get_size(key.pkey.get()));
  if (alg.key == KeyType::kP256 || alg.key == KeyType::kP384) expected = 2 * coordinate_bytes(alg.key);
  if (signature.size() != expected)
    return "signature has " + std::to_string(signature.size()) + " bytes, " + std::string(alg.name) + " needs " +
           std::to_string(expected);
  if (alg.key == KeyType::kP256 || alg.key == KeyType::kP384) {
    auto der = ecdsa_raw_to_der(signature);
    if (!der) return "bad signature";
    signature = std::move(*der);
  }
  Owned<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), &pctx, alg.md ? alg.md() : nullptr, nullptr, key.pkey.get()) == 1;
  // RFC 7518 3.5: MGF1 with the same SHA-256, salt as long as the hash.
  if (ok && alg.pss)
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, alg.md()) == 1;
  ok = ok && EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                              reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  ERR_clear_error();
  if (!ok) return "bad signature";
  return std::nullopt;
}

struct Compact {
  std::string_view header, payload, signature, signing_input;
};

std::optional<Compact> split(std::string_view token) {
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) return std::nullopt;
  return Compact{token.substr(0, dot1), token.substr(dot1 + 1, dot2 - dot1 - 1), token.substr(dot2 + 1),
                 token.substr(0, dot2)};
}

}  // namespace

Result<UpstreamKeySet> UpstreamKeySet::parse(const json::value& jwks) {
  const json::value* keys = jwks.is_object() ? jwks.get_object().if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) {
    Error e = Error::make(502, "invalid_jwks", "The identity provider's key set could not be read.");
    e.internal = "jwks: not a JSON object with a \"keys\" array";
    return fail(std::move(e));
  }
  UpstreamKeySet set;
  for (const json::value& jwk : keys->get_array())
    if (auto key = parse_key(jwk)) set.keys_.push_back(std::move(key));
  return set;
}

bool UpstreamKeySet::has_kid(std::string_view kid) const {
  return std::any_of(keys_.begin(), keys_.end(), [&](const auto& key) { return key->kid == kid; });
}

Result<json::object> UpstreamKeySet::verify(std::string_view token) const {
  if (token.size() > kMaxTokenChars) return refused("token longer than " + std::to_string(kMaxTokenChars));
  auto parts = split(token);
  if (!parts) return refused("not three dot-separated segments");
  std::string header_text;
  if (!base64url_decode(parts->header, header_text)) return refused("header is not base64url");
  auto header = parse_object(header_text);
  if (!header) return refused("header is not a JSON object");
  const json::string* alg_name = string_member(*header, "alg");
  if (alg_name == nullptr) return refused("no alg");
  const Alg* alg = find_alg(*alg_name);
  if (alg == nullptr) return refused("alg " + shown(*alg_name) + " not accepted");
  // RFC 7515 4.1.11: extensions a recipient does not understand must be refused; we understand none.
  if (header->contains("crit")) return refused("crit header present");

  const json::value* kid_value = header->if_contains("kid");
  if (kid_value != nullptr && !kid_value->is_string()) return refused("kid is not a string");
  std::optional<std::string_view> kid;
  if (kid_value != nullptr) kid = std::string_view(kid_value->get_string());
  const Key* chosen = nullptr;
  size_t named = 0, candidates = 0;
  for (const auto& key : keys_) {
    if (kid && key->kid != *kid) continue;
    ++named;
    if (!can_verify(*key, *alg)) continue;
    ++candidates;
    chosen = key.get();
  }
  if (kid && named == 0) return refused("unknown kid " + shown(*kid));
  if (kid && candidates == 0) return refused("alg " + std::string(alg->name) + " does not fit key " + shown(*kid));
  if (!kid && candidates == 0) return refused("no kid and no key for alg " + std::string(alg->name));
  // Several keys fit: the issuer must name one rather than have us try each (work a forger multiplies).
  if (candidates > 1)
    return refused(std::to_string(candidates) + " keys for alg " + std::string(alg->name) +
                   (kid ? " under kid " + shown(*kid) : " and no kid"));

  std::string signature, payload;
  if (!base64url_decode(parts->signature, signature)) return refused("signature is not base64url");
  if (!base64url_decode(parts->payload, payload)) return refused("payload is not base64url");
  if (auto problem = signature_problem(*chosen, *alg, parts->signing_input, std::move(signature)))
    return refused(std::move(*problem));
  // Parsed only once the signature holds: unauthenticated bytes get no further than the header.
  auto claims = parse_object(payload);
  if (!claims) return refused("payload is not a JSON object");
  return std::move(*claims);
}

std::optional<std::string> jws_kid(std::string_view token) {
  if (token.size() > kMaxTokenChars) return std::nullopt;
  auto parts = split(token);
  if (!parts) return std::nullopt;
  std::string header_text;
  if (!base64url_decode(parts->header, header_text)) return std::nullopt;
  auto header = parse_object(header_text);
  if (!header) return std::nullopt;
  const json::string* kid = string_member(*header, "kid");
  if (kid == nullptr) return std::nullopt;
  return std::string(*kid);
}

}  // namespace tessera::crypto
