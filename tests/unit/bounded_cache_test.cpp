// core/bounded_cache: a map that never holds more than its capacity.
#include "core/bounded_cache.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace tessera {
namespace {

std::shared_ptr<const int> value(int v) { return std::make_shared<const int>(v); }

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
  for (int i = 0; i < 100; ++i) cache.put("k" + std::to_string(i), value(i));
  EXPECT_EQ(cache.get("k0"), nullptr);
  EXPECT_EQ(cache.get("k99"), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(BoundedCache, LatestPutIsAlwaysReadable) {
  BoundedCache<int> cache(4);
  for (int i = 0; i < 500; ++i) {
    std::string key = "k" + std::to_string(i);
    cache.put(key, value(i));
    auto got = cache.get(key);
    ASSERT_NE(got, nullptr) << key;
    EXPECT_EQ(*got, i);
  }
}

// The header promises a fixed capacity; eviction must keep the total at or below it for any capacity,
// not only for multiples of the shard count.
TEST(BoundedCache, NeverExceedsCapacity) {
  for (size_t capacity : {1u, 10u, 16u, 17u, 100u, 1000u}) {
    BoundedCache<int> cache(capacity);
    for (size_t i = 0; i < capacity * 50 + 200; ++i) {
      cache.put("key-" + std::to_string(i), value(static_cast<int>(i)));
      ASSERT_LE(cache.size(), capacity) << "capacity " << capacity << " after " << i + 1 << " puts";
    }
  }
}

}  // namespace
}  // namespace tessera
