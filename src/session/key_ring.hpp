// The JWT signing keys: one current ES256 key signs; retired keys stay published in the JWKS until
// every token they signed has expired. Keys live in the database, so every node signs with the same
// keys and `tessera keys rotate` works on a running deployment: nodes reload the ring every minute,
// and at once when a token names a key they do not know.
#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "crypto/jwt.hpp"

namespace tessera::store {
class Store;
}

namespace tessera::session {

class KeyRing {
 public:
  // Loads the keys, making the first one if there is none. A retired key stays published for
  // `longest_token_ttl` (the longest-lived token it may have signed) after its retirement.
  KeyRing(store::Store& store, const Clock& clock, Micros longest_token_ttl);

  std::string sign(const boost::json::object& claims, std::string_view typ = "JWT") const;
  // Signature only (see crypto::JwtVerifier::verify); an unknown kid triggers one reload.
  Result<boost::json::object> verify(std::string_view token);
  boost::json::object jwks() const;
  void reload();

  // Retires the current key and makes a new one; returns the new kid.
  static std::string rotate(store::Store& store, const Clock& clock);

 private:
  struct State {
    crypto::SigningKey current;
    crypto::JwtVerifier verifier;
    boost::json::object jwks;
  };
  std::shared_ptr<const State> state() const;

  store::Store& store_;
  const Clock& clock_;
  Micros longest_token_ttl_;
  mutable std::shared_mutex mutex_;
  std::shared_ptr<const State> state_;
  std::mutex reload_mutex_;
  std::atomic<int64_t> last_reload_us_{0};
};

}  // namespace tessera::session
