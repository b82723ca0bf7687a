// Micro benchmark of the password hashing cost that bounds logins and sign-ups: one Argon2id hash and
// one verify at the default cost (Argon2Params{19456 KiB, t=2}, libsodium's p=1), single-threaded.
// bench/run reads the JSON output (--benchmark_format=json) to compute the login ceiling:
// cores / time of one hash (threads:1). The threads:<cores> run hashes on every core at once and
// reports the aggregate rate (items_per_second): Argon2id is memory-bound (19 MiB per hash), so cores
// sharing caches and memory bandwidth can do less than cores x the single-thread rate.
#include <benchmark/benchmark.h>

#include <string>

#include "crypto/password_hasher.hpp"
#include "crypto/random.hpp"

namespace {

using tessera::crypto::Argon2Params;
using tessera::crypto::PasswordHasher;

const PasswordHasher& hasher() {
  static const PasswordHasher h = [] {
    tessera::crypto::init();
    return PasswordHasher(Argon2Params{});
  }();
  return h;
}

void BM_Argon2idHash(benchmark::State& state) {
  const auto& h = hasher();
  std::string password = "correct horse battery staple";
  for (auto _ : state) {
    std::string stored = h.hash(password);
    benchmark::DoNotOptimize(stored);
  }
  state.SetItemsProcessed(state.iterations());
  // kAvgThreads: the same value in every thread, not summed over them.
  state.counters["argon2_m_kib"] = benchmark::Counter(h.params().memory_kib, benchmark::Counter::kAvgThreads);
  state.counters["argon2_t"] = benchmark::Counter(h.params().iterations, benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_Argon2idHash)->Unit(benchmark::kMillisecond)->UseRealTime()->Threads(1)->ThreadPerCpu();

void BM_Argon2idVerify(benchmark::State& state) {
  const auto& h = hasher();
  std::string password = "correct horse battery staple";
  std::string stored = h.hash(password);
  for (auto _ : state) {
    auto outcome = h.verify(password, stored);
    if (!outcome.ok) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(outcome);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Argon2idVerify)->Unit(benchmark::kMillisecond)->UseRealTime()->Threads(1)->ThreadPerCpu();

// Unknown users pay the same price (timing equality), so a login for a missing account costs a verify.
void BM_Argon2idVerifyDummy(benchmark::State& state) {
  const auto& h = hasher();
  for (auto _ : state) h.verify_dummy("not the password");
}
BENCHMARK(BM_Argon2idVerifyDummy)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
