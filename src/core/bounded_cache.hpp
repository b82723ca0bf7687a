// A thread-safe map with a fixed capacity, sharded to keep lock contention low on the hot path.
// When a shard is full an arbitrary entry is dropped: entries are re-read from the store on a miss,
// so eviction costs a lookup, never correctness. Writers must erase() what they change.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tessera {

template <class Value>
class BoundedCache {
 public:
  explicit BoundedCache(size_t capacity) : per_shard_(capacity / kShards + (capacity % kShards ? 1 : 0)) {}

  std::shared_ptr<const Value> get(std::string_view key) const {
    const Shard& s = shard(key);
    std::lock_guard lock(s.mutex);
    auto it = s.map.find(key);
    return it == s.map.end() ? nullptr : it->second;
  }

  void put(std::string_view key, std::shared_ptr<const Value> value) {
    if (per_shard_ == 0) return;
    Shard& s = shard(key);
    std::lock_guard lock(s.mutex);
    auto it = s.map.find(key);
    if (it != s.map.end()) {
      it->second = std::move(value);
      return;
    }
    if (s.map.size() >= per_shard_) s.map.erase(s.map.begin());
    s.map.emplace(std::string(key), std::move(value));
  }

  void erase(std::string_view key) {
    Shard& s = shard(key);
    std::lock_guard lock(s.mutex);
    auto it = s.map.find(key);
    if (it != s.map.end()) s.map.erase(it);
  }

  size_t size() const {
    size_t n = 0;
    for (auto& s : shards_) {
      std::lock_guard lock(s.mutex);
      n += s.map.size();
    }
    return n;
  }

 private:
  static constexpr size_t kShards = 16;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<const Value>, Hash, std::equal_to<>> map;
  };
  Shard& shard(std::string_view key) { return shards_[Hash{}(key) % kShards]; }
  const Shard& shard(std::string_view key) const { return shards_[Hash{}(key) % kShards]; }

  size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace tessera
