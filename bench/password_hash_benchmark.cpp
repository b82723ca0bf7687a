// Micro benchmark of the password hashing cost that bounds logins and sign-ups: one Argon2id hash and
// one verify at the default cost (Argon2Params{19456 KiB, t=2}, libsodium's p=1), single-threaded.
// bench/run reads the JSON output (--benchmark_format=json) to compute the login ceiling:
// cores / time of one hash.
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
  state.counters["argon2_m_kib"] = h.params().memory_kib;
  state.counters["argon2_t"] = h.params().iterations;
}
BENCHMARK(BM_Argon2idHash)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Argon2idVerify(benchmark::State& state) {
  const auto& h = hasher();
  std::string password = "correct horse battery staple";
  std::string stored = h.hash(password);
  for (auto _ : state) {
    auto outcome = h.verify(password, stored);
    if (!outcome.ok) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(outcome);
  }
}
BENCHMARK(BM_Argon2idVerify)->Unit(benchmark::kMillisecond)->UseRealTime();

// Unknown users pay the same price (timing equality), so a login for a missing account costs a verify.
void BM_Argon2idVerifyDummy(benchmark::State& state) {
  const auto& h = hasher();
  for (auto _ : state) h.verify_dummy("not the password");
}
BENCHMARK(BM_Argon2idVerifyDummy)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
