#include "contexts/key_login.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include <memory>

#include "core/uuid.hpp"
#include "crypto/jwt.hpp"
#include "crypto/random.hpp"
#include "identity/identifiers.hpp"
#include "store/store.hpp"

namespace tessera::contexts {

namespace {

constexpr auto kChallengeTtl = std::chrono::seconds(60);
constexpr size_t kMaxKeysTried = 64;

Error invalid_signature() {
  return Error::unauthorized("invalid_signature", "The signature does not prove possession of a registered key.");
}

bool verify_ed25519(std::string_view public_key_base64, std::string_view message, std::string_view signature) {
  auto key = crypto::base64_decode_lenient(public_key_base64);
  if (signature.size() != crypto_sign_BYTES || !key || key->size() != crypto_sign_PUBLICKEYBYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                     reinterpret_cast<const unsigned char*>(key->data())) == 0;
}

bool verify_p256(std::string_view pem, std::string_view message, std::string_view signature) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr,
                                                          &EVP_PKEY_free);
  std::optional<std::string> der = signature.size() == 64 ? crypto::ecdsa_raw_to_der(signature) : std::string(signature);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  bool ok = key && der && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(der->data()), der->size(),
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace

std::string key_login_message(std::string_view origin, std::string_view project_id, std::string_view challenge_id,
                              std::string_view nonce) {
  std::string out = "tessera-key-login/v1\n";
  for (auto part : {origin, project_id, challenge_id, nonce}) (out += part) += '\n';
  return out;
}

bool verify_key_signature(const Member& key, std::string_view message, std::string_view signature) {
  if (key.key_type == "ed25519") return verify_ed25519(key.public_key, message, signature);
  if (key.key_type == "p256") return verify_p256(key.public_key, message, signature);
  return false;
}

KeyLogin::KeyLogin(store::Store& store, const Clock& clock, std::string origin)
    : store_(store), clock_(clock), origin_(std::move(origin)) {}

IssuedChallenge KeyLogin::challenge(const projects::Project& project, const ChallengeRequest& in) {
  Timestamp now = clock_.now();
  KeyChallenge c;
  c.id = make_uuid_v7(now);
  c.project_id = project.id;
  c.context_id = in.context_id;
  c.created_at = now;
  c.expires_at = now + kChallengeTtl;
  std::string nonce = crypto::base64url_encode(crypto::random_bytes(32));
  c.message = key_login_message(origin_, project.id, c.id, nonce);
  store_.write([&](store::Repositories& r) {
    std::optional<identity::User> user;
    if (in.user_id) user = r.users.find(project.id, *in.user_id);
    else if (in.email) user = r.users.find_by_identifier(project.id, identity::IdentifierKind::email,
                                                          identity::identifier_key(identity::IdentifierKind::email, *in.email));
    else if (in.login) user = r.users.find_by_identifier(project.id, identity::IdentifierKind::login,
                                                          identity::identifier_key(identity::IdentifierKind::login, *in.login));
    if (user) c.user_id = user->id;
    r.contexts.insert_challenge(c);
  });
  return IssuedChallenge{c.id, nonce, c.message, c.expires_at};
}

Result<identity::User> KeyLogin::log_in(const projects::Project& project, const std::string& challenge_id,
                                        const std::string& signature) {
  auto c = store_.write([&](store::Repositories& r) { return r.contexts.consume_challenge(challenge_id); });
  if (!c || c->project_id != project.id || c->expires_at <= clock_.now())
    return fail(Error::bad_request("invalid_challenge", "The challenge is unknown, used or expired: ask for a new one."));
  if (!c->user_id) return fail(invalid_signature());
  auto keys = store_.read([&](store::Repositories& r) {
    std::vector<Member> out;
    if (!c->context_id) return r.contexts.keys_of(project.id, *c->user_id, kMaxKeysTried);
    if (auto m = r.contexts.find_member(*c->context_id, *c->user_id); m && r.contexts.find(project.id, *c->context_id))
      out.push_back(*m);
    return out;
  });
  bool proven = std::ranges::any_of(keys, [&](const Member& k) { return verify_key_signature(k, c->message, signature); });
  if (!proven) return fail(invalid_signature());
  auto user = store_.read([&](store::Repositories& r) { return r.users.find(project.id, *c->user_id); });
  if (!user) return fail(invalid_signature());
  if (!user->active) return fail(Error::forbidden("user_inactive", "This account is suspended."));
  return *user;
}

}  // namespace tessera::contexts
