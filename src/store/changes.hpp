// Cache invalidation that follows the data. A write records what it changed that a cache may hold
// (inside the transaction, through Repositories::changes); after the commit the store hands each change
// to this process's caches and, when several nodes share the database, to every other node's caches.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::store {

enum class Topic : uint8_t {
  users,            // key: user id
  sessions,         // key: session token hash
  api_keys,         // key: API key id
  personal_tokens,  // key: token hash
  permissions,      // key: user id (their roles' permissions)
  identities,       // key: user id (their linked external identities)
  access_tokens,    // key: access token hash (revoked)
  projects,         // the projects snapshot
  signing_keys,     // the key ring
};
inline constexpr size_t kTopicCount = 9;

struct Change {
  Topic topic;
  std::string key;  // empty: every entry of the topic
};

// The changes of one transaction, delivered only if it commits.
class ChangeLog {
 public:
  void invalidate(Topic topic, std::string_view key) { pending_.push_back({topic, std::string(key)}); }
  void invalidate_all(Topic topic) { pending_.push_back({topic, {}}); }
  std::vector<Change> take() { return std::exchange(pending_, {}); }

 private:
  std::vector<Change> pending_;
};

// This process's caches, by topic. Handlers are registered while the application is wired, before
// the store delivers anything, and must be cheap and thread-safe (they erase cache entries).
class CacheBus {
 public:
  using Handler = std::function<void(std::string_view key)>;  // an empty key: drop every entry

  void subscribe(Topic topic, Handler handler) { handlers_[static_cast<size_t>(topic)].push_back(std::move(handler)); }
  // Keeps a BoundedCache keyed like the topic in step with it.
  template <class Cache>
  void follow(Topic topic, Cache& cache) {
    subscribe(topic, [&cache](std::string_view key) {
      if (key.empty()) cache.clear();
      else cache.erase(key);
    });
  }
  void deliver(const Change& change) const {
    for (const Handler& h : handlers_[static_cast<size_t>(change.topic)]) h(change.key);
  }
  // Changes may have been missed (the notification connection dropped): drop everything.
  void deliver_everything() const {
    for (const auto& list : handlers_)
      for (const Handler& h : list) h({});
  }

 private:
  std::array<std::vector<Handler>, kTopicCount> handlers_;
};

}  // namespace tessera::store
