// core/bounded_cache: a map that never holds more than its capacity.
#include "core/bounded_cache.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

namespace tessera {
namespace {

std::shared_ptr<const int> value(int v) { return std::make_shared<const int>(v); }

std::string key(size_t i) {
  std::string k = "key-";
  k += std::to_string(i);
  return k;
}

TEST(BoundedCache, MissingKeyIsNull) {
  BoundedCache<int> cache(100);
  EXPECT_EQ(cache.get("absent"), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(BoundedCache, PutThenGet) {
  BoundedCache<int> cache(100);
  auto v = value(7);
  cache.put("a", v);
  EXPECT_EQ(cache.get("a"), v);  // the same shared object, not a copy
  EXPECT_EQ(cache.get("b"), nullptr);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(BoundedCache, PutReplacesTheValueOfAKey) {
  BoundedCache<int> cache(100);
  cache.put("a", value(1));
  cache.put("a", value(2));
  ASSERT_NE(cache.get("a"), nullptr);
  EXPECT_EQ(*cache.get("a"), 2);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(BoundedCache, EraseRemovesOnlyThatKey) {
  BoundedCache<int> cache(100);
  cache.put("a", value(1));
  cache.put("b", value(2));
  cache.erase("a");
  EXPECT_EQ(cache.get("a"), nullptr);
  ASSERT_NE(cache.get("b"), nullptr);
  EXPECT_EQ(*cache.get("b"), 2);
  cache.erase("a");  // erasing a missing key is harmless
  cache.erase("never there");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(BoundedCache, KeysAreWholeStrings) {
  BoundedCache<int> cache(100);
  cache.put(std::string("a\0b", 3), value(1));
  EXPECT_EQ(cache.get("a"), nullptr);
  EXPECT_NE(cache.get(std::string("a\0b", 3)), nullptr);
}

TEST(BoundedCache, ZeroCapacityStoresNothing) {
  BoundedCache<int> cache(0);
  for (int i = 0; i < 100; ++i) cache.put(key(static_cast<size_t>(i)), value(i));
  EXPECT_EQ(cache.get(key(0)), nullptr);
  EXPECT_EQ(cache.get(key(99)), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(BoundedCache, PutsAreReadableUntilTheCapacityIsReached) {
  BoundedCache<int> cache(4);
  for (int i = 0; i < 4; ++i) cache.put(key(static_cast<size_t>(i)), value(i));
  for (int i = 0; i < 4; ++i) {
    auto got = cache.get(key(static_cast<size_t>(i)));
    ASSERT_NE(got, nullptr) << i;
    EXPECT_EQ(*got, i);
  }
  // Once full, a new key replaces an entry of its own shard (or is not cached): never more than 4.
  for (int i = 4; i < 500; ++i) {
    cache.put(key(static_cast<size_t>(i)), value(i));
    ASSERT_LE(cache.size(), 4u);
  }
}

TEST(BoundedCache, FillStoresWhenNothingWasErasedSinceTheEpochWasRead) {
  BoundedCache<int> cache(100);
  uint64_t epoch = cache.epoch();
  cache.put("other", value(0));  // puts do not invalidate fills
  cache.fill("a", value(1), epoch);
  ASSERT_NE(cache.get("a"), nullptr);
  EXPECT_EQ(*cache.get("a"), 1);
  cache.fill("a", value(2), cache.epoch());  // fill replaces like put
  EXPECT_EQ(*cache.get("a"), 2);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(BoundedCache, FillIsSkippedAfterAnEraseRacedWithTheRead) {
  BoundedCache<int> cache(100);
  uint64_t epoch = cache.epoch();  // a reader misses and goes to the store...
  cache.erase("a");                // ...while a writer revokes the entry...
  cache.fill("a", value(1), epoch);  // ...so the stale value it read must not be cached
  EXPECT_EQ(cache.get("a"), nullptr);
  // Any erase counts, even of another key or of a key that was not cached.
  epoch = cache.epoch();
  cache.erase("unrelated");
  cache.fill("a", value(1), epoch);
  EXPECT_EQ(cache.get("a"), nullptr);
  EXPECT_GT(cache.epoch(), epoch);
}

TEST(BoundedCache, FillWithZeroCapacityStoresNothing) {
  BoundedCache<int> cache(0);
  cache.fill("a", value(1), cache.epoch());
  EXPECT_EQ(cache.get("a"), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

// The header promises a fixed capacity; eviction must keep the total at or below it for any capacity,
// not only for multiples of the shard count (16).
constexpr size_t kCapacities[] = {1, 10, 16, 17, 32, 100, 1000};

TEST(BoundedCache, PutNeverExceedsCapacity) {
  for (size_t capacity : kCapacities) {
    BoundedCache<int> cache(capacity);
    size_t largest = 0;
    for (size_t i = 0; i < capacity * 50 + 200; ++i) {
      cache.put(key(i), value(static_cast<int>(i)));
      largest = std::max(largest, cache.size());
    }
    EXPECT_LE(largest, capacity) << "capacity " << capacity;
  }
}

TEST(BoundedCache, FillNeverExceedsCapacity) {
  for (size_t capacity : kCapacities) {
    BoundedCache<int> cache(capacity);
    size_t largest = 0;
    for (size_t i = 0; i < capacity * 50 + 200; ++i) {
      cache.fill(key(i), value(static_cast<int>(i)), cache.epoch());
      largest = std::max(largest, cache.size());
    }
    EXPECT_LE(largest, capacity) << "capacity " << capacity;
  }
}

}  // namespace
}  // namespace tessera
