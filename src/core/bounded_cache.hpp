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
  explicit BoundedCache(size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<const Value> get(std::string_view key) const {
    const Shard& s = shard(key);
    std::lock_guard lock(s.mutex);
    auto it = s.map.find(key);
    return it == s.map.end() ? nullptr : it->second;
  }

  void put(std::string_view key, std::shared_ptr<const Value> value) {
    Shard& s = shard(key);
    std::lock_guard lock(s.mutex);
    insert_locked(s, key, std::move(value));
  }

  uint64_t epoch() const { return epoch_.load(); }

  void fill(std::string_view key, std::shared_ptr<const Value> value, uint64_t seen_epoch) {
    Shard& s = shard(key);
    std::lock_guard lock(s.mutex);
    if (epoch_.load() == seen_epoch) insert_locked(s, key, std::move(value));
  }

  void erase(std::string_view key) {
    epoch_.fetch_add(1);
    Shard& s = shard(key);
    std::lock_guard lock(s.mutex);
    auto it = s.map.find(key);
    if (it != s.map.end()) {
      s.map.erase(it);
      size_.fetch_sub(1);
    }
  }

  // Drops everything (e.g. when a change affects entries that cannot be named one by one).
  void clear() {
    epoch_.fetch_add(1);
    for (auto& s : shards_) {
      std::lock_guard lock(s.mutex);
      size_.fetch_sub(s.map.size());
      s.map.clear();
    }
  }

  size_t size() const { return size_.load(); }

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

  // Keeps the total within capacity: a new key replaces an entry of its own shard when the cache is
  // full, and is not cached when that shard is empty.
  void insert_locked(Shard& s, std::string_view key, std::shared_ptr<const Value> value) {
    if (auto it = s.map.find(key); it != s.map.end()) {
      it->second = std::move(value);
      return;
    }
    size_t n = size_.load();
    while (n < capacity_ && !size_.compare_exchange_weak(n, n + 1)) {
    }
    if (n >= capacity_) {  // full: make room in this shard, or do not cache
      if (s.map.empty()) return;
      s.map.erase(s.map.begin());
    }
    s.map.emplace(std::string(key), std::move(value));
  }

  size_t capacity_;
  std::atomic<size_t> size_{0};
  std::atomic<uint64_t> epoch_{0};
  std::array<Shard, kShards> shards_;
};

}  // namespace tessera
