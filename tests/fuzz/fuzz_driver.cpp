// Runs a libFuzzer-style target (LLVMFuzzerTestOneInput) without libFuzzer: every file of a seed
// corpus, then a bounded number of deterministic mutations of them. It runs in CTest on every build
// (and under ASan/UBSan with -DTESSERA_SANITIZE=ON); the same targets link with -fsanitize=fuzzer
// or AFL++ for open-ended, coverage-guided runs.
//   usage: fuzz_TARGET CORPUS_DIR|FILE [ITERATIONS]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::string mutate(const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  std::string s = corpus[rng() % corpus.size()];
  int edits = 1 + static_cast<int>(rng() % 8);
  static const char* kTokens[] = {"\"", "{", "}", "[", "]", ":", ",", "null", "\\u0000", "\\ud800", "\xff", "\r\n",
                                  "%00", "%", "[gt]", ".", "9999999999999999999999", "-1", "\x00", "{{{{{{{{{{"};
  for (int i = 0; i < edits; ++i) {
    size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 5) {
      case 0:  // flip a byte
        if (!s.empty()) s[pos % s.size()] = static_cast<char>(rng());
        break;
      case 1:  // insert a token
        s.insert(pos, kTokens[rng() % std::size(kTokens)]);
        break;
      case 2:  // delete a range
        if (!s.empty()) s.erase(pos % s.size(), 1 + rng() % 16);
        break;
      case 3: {  // splice in part of another input
        const std::string& other = corpus[rng() % corpus.size()];
        if (!other.empty()) {
          size_t from = rng() % other.size();
          s.insert(pos, other.substr(from, 1 + rng() % 64));
        }
        break;
      }
      case 4:  // repeat a chunk (deep nesting, long fields)
        if (!s.empty()) {
          size_t from = pos % s.size();
          std::string chunk = s.substr(from, 1 + rng() % 8);
          for (int k = static_cast<int>(rng() % 64); k > 0; --k) s.insert(from, chunk);
        }
        break;
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [ITERATIONS]\n", argv[0]);
    return 2;
  }
  long iterations = argc > 2 ? std::atol(argv[2]) : 300000;
  std::vector<std::string> corpus;
  auto read = [&corpus](const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  if (std::filesystem::is_directory(argv[1])) {
    for (auto& entry : std::filesystem::directory_iterator(argv[1])) read(entry.path());
  } else {
    read(argv[1]);  // one input, as AFL++ passes it
  }
  if (corpus.empty()) corpus.emplace_back();
  for (auto& input : corpus) LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  std::mt19937_64 rng(20261125);
  for (long i = 0; i < iterations; ++i) {
    std::string input = mutate(corpus, rng);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::printf("%zu seeds and %ld mutations ran without a crash\n", corpus.size(), iterations);
  return 0;
}
