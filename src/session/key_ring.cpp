#include "session/key_ring.hpp"

#include "core/log.hpp"
#include "core/uuid.hpp"
#include "store/store.hpp"

namespace tessera::session {

namespace {
constexpr auto kMinReloadInterval = std::chrono::seconds(1);

StoredSigningKey new_key(const Clock& clock) {
  auto key = crypto::SigningKey::generate(make_uuid_v7(clock.now()));
  return StoredSigningKey{key.kid(), key.private_key_pem(), clock.now(), std::nullopt};
}
}  // namespace

KeyRing::KeyRing(store::Store& store, const Clock& clock, Micros longest_token_ttl)
    : store_(store), clock_(clock), longest_token_ttl_(longest_token_ttl) {
  store_.write([&](store::Repositories& r) {
    auto keys = r.signing_keys.list();
    bool has_current = std::any_of(keys.begin(), keys.end(), [](auto& k) { return !k.retired_at; });
    if (!has_current) r.signing_keys.insert(new_key(clock_));
  });
  reload();
  // A rotation anywhere (another node, `tessera keys rotate`): load the new key now.
  store_.caches().subscribe(store::Topic::signing_keys, [this](std::string_view) {
    try {
      reload();
    } catch (const std::exception& e) {
      log::warn("signing keys not reloaded", {{"internal", e.what()}});
    }
  });
}

std::string KeyRing::rotate(store::Store& store, const Clock& clock) {
  auto fresh = new_key(clock);
  store.write([&](store::Repositories& r) {
    for (auto& k : r.signing_keys.list())
      if (!k.retired_at) r.signing_keys.retire(k.kid, clock.now());
    r.signing_keys.insert(fresh);
    r.changes.invalidate_all(store::Topic::signing_keys);
  });
  return fresh.kid;
}

void KeyRing::reload() {
  std::lock_guard guard(reload_mutex_);
  Timestamp now = clock_.now();
  // A retired key is published as long as a token it signed may be valid (plus a margin for clock skew).
  Timestamp publish_after = now - longest_token_ttl_ - std::chrono::minutes(5);
  auto keys = store_.write([&](store::Repositories& r) {
    r.signing_keys.remove_retired_before(publish_after);
    return r.signing_keys.list();
  });
  std::optional<crypto::SigningKey> current;
  crypto::JwtVerifier verifier;
  boost::json::array published;
  for (const auto& stored : keys) {  // newest first
    auto key = crypto::SigningKey::from_pem(stored.kid, stored.private_pem);
    if (!key) throw store::StoreFailure("signing key " + stored.kid + " is not a P-256 private key");
    if (!stored.retired_at && !current) current = *key;
    verifier.add(*key);
    published.push_back(key->public_jwk());
  }
  if (!current) throw store::StoreFailure("no current signing key");
  auto next = std::make_shared<const State>(State{*current, std::move(verifier), {{"keys", std::move(published)}}});
  std::unique_lock lock(mutex_);
  state_ = std::move(next);
  last_reload_us_ = to_micros(now);
}

std::shared_ptr<const KeyRing::State> KeyRing::state() const {
  std::shared_lock lock(mutex_);
  return state_;
}

std::string KeyRing::sign(const boost::json::object& claims, std::string_view typ) const {
  return state()->current.sign(claims, typ);
}

Result<boost::json::object> KeyRing::verify(std::string_view token) {
  auto claims = state()->verifier.verify(token);
  if (claims || clock_.now() - from_micros(last_reload_us_) < kMinReloadInterval) return claims;
  reload();  // maybe a key rotated on another node or by the CLI
  return state()->verifier.verify(token);
}

boost::json::object KeyRing::jwks() const { return state()->jwks; }

}  // namespace tessera::session
