// A thread-safe map with a fixed capacity, sharded to keep lock contention low on the hot path.
// When a shard is full an arbitrary entry is dropped: entries are re-read from the store on a miss,
// so eviction costs a lookup, never correctness. Writers must erase() what they change.
//
// A reader that missed fills the cache with fill(), passing the epoch() it saw before reading the
// store: if anything was erased in between, the fill is skipped, so a value read just before a
// concurrent revocation can never be cached after it.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
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

  uint64_t epoch() const { return epoch_.load(); }

  void fill(std::string_view key, std::shared_ptr<const Value> value, uint64_t seen_epoch) {
    if (per_shard_ == 0) return;
    Shard& s = shard(key);
    std::lock_guard lock(s.mutex);
    if (epoch_.load() != seen_epoch) return;
    if (s.map.size() >= per_shard_ && !s.map.contains(key)) s.map.erase(s.map.begin());
    s.map.insert_or_assign(std::string(key), std::move(value));
  }

  void erase(std::string_view key) {
    epoch_.fetch_add(1);
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
  std::atomic<uint64_t> epoch_{0};
  std::array<Shard, kShards> shards_;
};

}  // namespace tessera
