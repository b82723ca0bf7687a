#include "crypto/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <climits>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "crypto/random.hpp"

namespace tessera::crypto {

namespace {

constexpr size_t kCoordinateBytes = 32;                   // P-256 field elements
constexpr size_t kSignatureBytes = 2 * kCoordinateBytes;  // JWS ES256 signature: R || S
constexpr size_t kMaxDerSignatureBytes = 80;              // DER of two 33-byte INTEGERs is at most 72
constexpr size_t kMaxTokenChars = 16 * 1024;              // bounds the work an unauthenticated caller causes

using PkeyPtr = std::shared_ptr<EVP_PKEY>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

PkeyPtr own(EVP_PKEY* pkey) { return PkeyPtr(pkey, &EVP_PKEY_free); }

// Fetched once: EVP_sha256() per call makes OpenSSL 3 look the algorithm up again each time, which is
// ~2.7x slower and serializes threads on the provider store (DESIGN.md, platform facts).
const EVP_MD* sha256() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) throw std::runtime_error("OpenSSL has no SHA256");
    return fetched;
  }();
  return md;
}

// A per-call copy of a context prepared once per key: copying skips the fetches that
// EVP_DigestSignInit/EVP_DigestVerifyInit repeat, and the prepared one is only ever read.
MdCtxPtr copy_of(const EVP_MD_CTX* prepared) {
  MdCtxPtr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), prepared) != 1) return MdCtxPtr(nullptr, &EVP_MD_CTX_free);
  // Used once: let the final step consume this copy instead of duplicating it again internally.
  EVP_MD_CTX_set_flags(ctx.get(), EVP_MD_CTX_FLAG_FINALISE);
  return ctx;
}

bool is_p256(const EVP_PKEY* pkey) {
  char group[32];
  size_t len = 0;
  return EVP_PKEY_is_a(pkey, "EC") && EVP_PKEY_get_group_name(pkey, group, sizeof group, &len) == 1 &&
         std::string_view(group, len) == "prime256v1";
}

std::optional<std::string> coordinate(const EVP_PKEY* pkey, const char* param) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) return std::nullopt;
  std::string out(kCoordinateBytes, '\0');
  int written = BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), kCoordinateBytes);
  BN_free(bn);
  if (written != static_cast<int>(kCoordinateBytes)) return std::nullopt;
  return out;
}

// OpenSSL speaks DER (SEQUENCE of two INTEGERs); JWS speaks fixed-width big-endian R || S (RFC 7518 3.4).
std::optional<std::string> der_to_raw(const unsigned char* der, size_t len) {
  const unsigned char* p = der;
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)),
                                                           &ECDSA_SIG_free);
  if (!sig) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(kSignatureBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kCoordinateBytes) != static_cast<int>(kCoordinateBytes) ||
      BN_bn2binpad(s, out + kCoordinateBytes, kCoordinateBytes) != static_cast<int>(kCoordinateBytes))
    return std::nullopt;
  return raw;
}


std::optional<boost::json::object> parse_object(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

const boost::json::string* string_member(const boost::json::object& o, std::string_view name) {
  const boost::json::value* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? &v->get_string() : nullptr;
}

std::unexpected<Error> invalid_token(std::string message, std::string reason) {
  Error e = Error::unauthorized("invalid_token", std::move(message));
  e.internal = std::move(reason);
  return fail(std::move(e));
}

std::unexpected<Error> rejected(std::string reason) {
  return invalid_token("The token is invalid.", "jwt: " + std::move(reason));
}

std::unexpected<Error> invalid_jwk(std::string reason) {
  Error e = Error::bad_request("invalid_jwk", "The JSON Web Key is not an EC P-256 signing key.");
  e.internal = "jwk: " + std::move(reason);
  return fail(std::move(e));
}

// Refuses rather than prompts (OpenSSL's default reads a passphrase from the terminal).
int no_passphrase(char*, int, int, void*) { return -1; }

}  // namespace

struct SigningKey::State {
  PkeyPtr pkey;
  MdCtxPtr prepared{nullptr, &EVP_MD_CTX_free};  // EVP_DigestSignInit done once
  std::string kid;
  std::string header_dot;  // base64url of the header, then "."
  std::string x, y;        // base64url public coordinates
};

struct JwtVerifier::PublicKey {
  PkeyPtr pkey;
  MdCtxPtr prepared{nullptr, &EVP_MD_CTX_free};  // EVP_DigestVerifyInit done once
};

namespace {

std::shared_ptr<const SigningKey::State> make_state(PkeyPtr pkey, std::string kid) {
  if (!pkey || !is_p256(pkey.get())) return nullptr;
  auto state = std::make_shared<SigningKey::State>();
  auto x = coordinate(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X);
  auto y = coordinate(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y);
  state->prepared.reset(EVP_MD_CTX_new());
  if (!x || !y || !state->prepared ||
      EVP_DigestSignInit(state->prepared.get(), nullptr, sha256(), nullptr, pkey.get()) != 1)
    return nullptr;
  state->pkey = std::move(pkey);
  state->x = base64url_encode(*x);
  state->y = base64url_encode(*y);
  boost::json::object header{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", kid}};
  state->header_dot = base64url_encode(boost::json::serialize(header)) + ".";
  state->kid = std::move(kid);
  return state;
}

std::shared_ptr<const JwtVerifier::PublicKey> make_public_key(PkeyPtr pkey) {
  auto key = std::make_shared<JwtVerifier::PublicKey>();
  key->prepared.reset(EVP_MD_CTX_new());
  if (!key->prepared || EVP_DigestVerifyInit(key->prepared.get(), nullptr, sha256(), nullptr, pkey.get()) != 1)
    return nullptr;
  key->pkey = std::move(pkey);
  return key;
}

}  // namespace

SigningKey SigningKey::generate(std::string kid) {
  auto state = make_state(own(EVP_EC_gen("P-256")), std::move(kid));
  if (!state) {
    ERR_clear_error();
    throw std::runtime_error("cannot generate an EC P-256 key");
  }
  return SigningKey(std::move(state));
}

std::optional<SigningKey> SigningKey::from_pem(std::string kid, std::string_view private_key_pem) {
  if (private_key_pem.size() > INT_MAX) return std::nullopt;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())), &BIO_free);
  auto state = bio ? make_state(own(PEM_read_bio_PrivateKey(bio.get(), nullptr, &no_passphrase, nullptr)),
                                std::move(kid))
                   : nullptr;
  ERR_clear_error();  // a refused PEM leaves reasons on this thread's queue; nobody reads them
  if (!state) return std::nullopt;
  return SigningKey(std::move(state));
}

const std::string& SigningKey::kid() const { return state_->kid; }

std::string SigningKey::private_key_pem() const {
  // Secure-heap memory BIO: the key's PEM is wiped when the BIO is freed.
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_secmem()), &BIO_free);
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), state_->pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    ERR_clear_error();
    throw std::runtime_error("cannot encode the signing key as PEM");
  }
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio.get(), &mem);
  return std::string(mem->data, mem->length);
}

boost::json::object SigningKey::public_jwk() const {
  return {{"kty", "EC"},         {"crv", "P-256"}, {"x", state_->x}, {"y", state_->y},
          {"kid", state_->kid}, {"use", "sig"},   {"alg", "ES256"}};
}

std::string SigningKey::sign(const boost::json::object& claims, std::string_view typ) const {
  std::string token = typ == "JWT" ? state_->header_dot
                                   : base64url_encode(boost::json::serialize(boost::json::object{
                                         {"alg", "ES256"}, {"typ", typ}, {"kid", state_->kid}})) + ".";
  token += base64url_encode(boost::json::serialize(claims));
  MdCtxPtr ctx = copy_of(state_->prepared.get());
  unsigned char der[kMaxDerSignatureBytes];
  size_t der_len = sizeof der;
  std::optional<std::string> raw;
  if (ctx && EVP_DigestSign(ctx.get(), der, &der_len, reinterpret_cast<const unsigned char*>(token.data()),
                            token.size()) == 1)
    raw = der_to_raw(der, der_len);
  if (!raw) {
    ERR_clear_error();
    throw std::runtime_error("ES256 signing failed");
  }
  token += '.';
  token += base64url_encode(*raw);
  return token;
}

void JwtVerifier::add(const SigningKey& key) {
  auto public_key = make_public_key(key.state_->pkey);
  if (!public_key) {
    ERR_clear_error();
    throw std::runtime_error("cannot prepare ES256 verification");
  }
  keys_.insert_or_assign(key.state_->kid, std::move(public_key));
}

Result<void> JwtVerifier::add_jwk(const boost::json::object& jwk) {
  const auto* kty = string_member(jwk, "kty");
  const auto* crv = string_member(jwk, "crv");
  const auto* kid = string_member(jwk, "kid");
  if (!kty || *kty != "EC" || !crv || *crv != "P-256") return invalid_jwk("not kty EC with crv P-256");
  if (!kid || kid->empty()) return invalid_jwk("no kid");
  if (jwk.contains("alg") && (!string_member(jwk, "alg") || *string_member(jwk, "alg") != "ES256"))
    return invalid_jwk("alg is not ES256");
  if (jwk.contains("use") && (!string_member(jwk, "use") || *string_member(jwk, "use") != "sig"))
    return invalid_jwk("use is not sig");
  const auto* x_b64 = string_member(jwk, "x");
  const auto* y_b64 = string_member(jwk, "y");
  std::string x, y;
  if (!x_b64 || !y_b64 || !base64url_decode(*x_b64, x) || !base64url_decode(*y_b64, y) ||
      x.size() != kCoordinateBytes || y.size() != kCoordinateBytes)
    return invalid_jwk("x and y are not 32-byte base64url");

  unsigned char point[1 + 2 * kCoordinateBytes] = {0x04};  // SEC 1 uncompressed point
  std::memcpy(point + 1, x.data(), kCoordinateBytes);
  std::memcpy(point + 1 + kCoordinateBytes, y.data(), kCoordinateBytes);
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
                         OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
                         OSSL_PARAM_construct_end()};
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr),
                                                                 &EVP_PKEY_CTX_free);
  EVP_PKEY* raw_pkey = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw_pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    ERR_clear_error();
    return invalid_jwk("not a point on P-256");
  }
  PkeyPtr pkey = own(raw_pkey);
  // An off-curve or small-order point would let a forger pick signatures; check explicitly.
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr), &EVP_PKEY_CTX_free);
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return invalid_jwk("public key check failed");
  }
  auto public_key = make_public_key(std::move(pkey));
  if (!public_key) {
    ERR_clear_error();
    return fail(Error::internal_error("cannot prepare ES256 verification"));
  }
  keys_.insert_or_assign(std::string(*kid), std::move(public_key));
  return {};
}

Result<boost::json::object> JwtVerifier::verify(std::string_view token) const {
  if (token.size() > kMaxTokenChars) return rejected("longer than " + std::to_string(kMaxTokenChars));
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return rejected("not three segments");

  std::string header_json;
  if (!base64url_decode(token.substr(0, dot1), header_json)) return rejected("header is not base64url");
  auto header = parse_object(header_json);
  if (!header) return rejected("header is not a JSON object");
  // The algorithm is ours to choose, never the token's: only an exact "ES256" passes.
  const auto* alg = string_member(*header, "alg");
  if (!alg || *alg != "ES256") return rejected("alg is not ES256");
  if (header->contains("crit")) return rejected("crit names extensions we do not implement");  // RFC 7515 4.1.11
  const auto* kid = string_member(*header, "kid");
  if (!kid) return rejected("no kid");
  auto key = keys_.find(std::string_view(*kid));
  if (key == keys_.end()) return rejected("unknown kid");

  std::string signature;
  if (!base64url_decode(token.substr(dot2 + 1), signature) || signature.size() != kSignatureBytes)
    return rejected("signature is not 64 bytes of base64url");
  auto der = ecdsa_raw_to_der(signature);
  MdCtxPtr ctx = copy_of(key->second->prepared.get());
  std::string_view signing_input = token.substr(0, dot2);
  if (!der || !ctx ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(der->data()), der->size(),
                       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1) {
    ERR_clear_error();
    return rejected("signature does not verify");
  }

  std::string payload_json;
  if (!base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1), payload_json))
    return rejected("payload is not base64url");
  auto claims = parse_object(payload_json);
  if (!claims) return rejected("payload is not a JSON object");
  return std::move(*claims);
}

namespace {

// NumericDate (RFC 7519 2): seconds, possibly fractional.
std::optional<double> numeric_date(const boost::json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double() && std::isfinite(v->get_double())) return v->get_double();
  return std::nullopt;
}

}  // namespace

Result<void> check_registered_claims(const boost::json::object& claims, int64_t now_unix_seconds,
                                     std::string_view issuer, std::string_view audience, int64_t leeway_seconds) {
  const double now = static_cast<double>(now_unix_seconds);
  const double leeway = static_cast<double>(leeway_seconds);
  auto exp = numeric_date(claims.if_contains("exp"));
  if (!exp) return invalid_token("The token has no expiry time.", "jwt: exp missing or not a number");
  if (*exp <= now - leeway) return invalid_token("The token has expired.", "jwt: expired");
  if (const auto* nbf_value = claims.if_contains("nbf")) {
    auto nbf = numeric_date(nbf_value);
    if (!nbf) return invalid_token("The token's not-before time is not a number.", "jwt: nbf not a number");
    if (*nbf > now + leeway) return invalid_token("The token is not valid yet.", "jwt: nbf in the future");
  }
  const auto* iss = string_member(claims, "iss");
  if (!iss || *iss != issuer) return invalid_token("The token comes from another issuer.", "jwt: iss mismatch");
  bool audience_ok = false;
  if (const auto* aud = claims.if_contains("aud")) {
    if (aud->is_string()) {
      audience_ok = aud->get_string() == audience;
    } else if (aud->is_array()) {
      for (const auto& a : aud->get_array()) audience_ok = audience_ok || (a.is_string() && a.get_string() == audience);
    }
  }
  if (!audience_ok) return invalid_token("The token is meant for another audience.", "jwt: aud mismatch");
  return {};
}

std::optional<std::string> ecdsa_raw_to_der(std::string_view raw) {
  auto* in = reinterpret_cast<const unsigned char*>(raw.data());
  const int half = static_cast<int>(raw.size() / 2);
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), &ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(in, half, nullptr);
  BIGNUM* s = BN_bin2bn(in + half, half, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {  // set0 takes r and s only on success
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &p) != len) return std::nullopt;
  return der;
}

}  // namespace tessera::crypto
