// The libFuzzer harnesses without libFuzzer (gcc, CI): replays every file of the given corpus
// directories (the committed regression inputs), then `--random N` seeded pseudo-random inputs,
// through the harness's LLVMFuzzerTestOneInput. A failed invariant or an escaped exception
// aborts, which ctest reports as a failure; under -fsanitize=address,undefined so do memory
// errors and undefined behaviour.
//
// usage: replay_<area> [--random N] [--seed S] [corpus dir or file ...]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void run_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  long random_inputs = 0;
  std::uint64_t seed = 1;
  std::size_t files = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--random") == 0 && i + 1 < argc) {
      random_inputs = std::atol(argv[++i]);
    } else if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::filesystem::is_directory(argv[i])) {
      for (const auto& entry : std::filesystem::directory_iterator(argv[i])) {
        if (!entry.is_regular_file()) continue;
        run_file(entry.path());
        ++files;
      }
    } else if (std::filesystem::is_regular_file(argv[i])) {
      run_file(argv[i]);
      ++files;
    } else {
      std::fprintf(stderr, "%s: no such corpus directory or file: %s\n", argv[0], argv[i]);
      return 2;
    }
  }
  // Random inputs of 0..1023 bytes; the byte values skewed towards small ones now and then, since
  // the harnesses read most choices from one byte.
  std::uint64_t state = seed;
  std::vector<std::uint8_t> buffer;
  for (long r = 0; r < random_inputs; ++r) {
    buffer.resize(splitmix64(state) % 1024);
    const bool small = splitmix64(state) % 2 == 0;
    for (auto& b : buffer) b = static_cast<std::uint8_t>(splitmix64(state) % (small ? 16 : 256));
    LLVMFuzzerTestOneInput(buffer.data(), buffer.size());
  }
  std::printf("%s: %zu corpus files and %ld random inputs, no failure\n", argv[0], files, random_inputs);
  return 0;
}
