// Decodes a fuzzer's bytes into API arguments. Every read is defined on any input (an exhausted
// input reads as zero bytes), so a harness never needs to check lengths; the special values
// (NaN, +-inf, huge, negative, zero, denormal) are drawn often on purpose, since random bits
// alone would rarely hit them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace facesel_fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }

  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }

  bool flag() { return (byte() & 1) != 0; }

  std::uint64_t bits(int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | byte();
    return v;
  }

  /// An integer in [lo, hi] (hi - lo < 2^32).
  std::int64_t in_range(std::int64_t lo, std::int64_t hi) {
    const std::uint64_t span = static_cast<std::uint64_t>(hi - lo) + 1;
    const std::uint64_t raw = span <= 256 ? byte() : bits(4);
    return lo + static_cast<std::int64_t>(raw % span);
  }

  /// Any int64, biased to the edges: small (-4..11), +-2^62, int64 min / max, or raw bits.
  std::int64_t any_i64() {
    switch (byte() % 8) {
      case 0: return std::numeric_limits<std::int64_t>::min();
      case 1: return std::numeric_limits<std::int64_t>::max();
      case 2: return (std::int64_t{1} << 62) - 1 + in_range(0, 2);
      case 3: return -static_cast<std::int64_t>(in_range(0, 1 << 20));
      case 4: return static_cast<std::int64_t>(bits(8));
      default: return in_range(-4, 11);
    }
  }

  /// Any double, biased to the edges: NaN, +-inf, +-max, +-1e308, denormal, +-0, small values, raw bits.
  double any_double() {
    switch (byte() % 16) {
      case 0: return std::numeric_limits<double>::quiet_NaN();
      case 1: return std::numeric_limits<double>::infinity();
      case 2: return -std::numeric_limits<double>::infinity();
      case 3: return std::numeric_limits<double>::max();
      case 4: return -1e308;
      case 5: return std::numeric_limits<double>::denorm_min();
      case 6: return -0.0;
      case 7: return 1e-300;
      case 8: {
        const std::uint64_t raw = bits(8);
        double v;
        std::memcpy(&v, &raw, sizeof v);
        return v;
      }
      case 9: return static_cast<double>(in_range(-1000, 1000)) * 1e10;
      default: return static_cast<double>(in_range(-64, 191)) / 8.0;  // small grid values, mostly >= 0
    }
  }

  /// Any float, biased as any_double (float32 max and overflow into inf included).
  float any_float() {
    switch (byte() % 16) {
      case 0: return std::numeric_limits<float>::quiet_NaN();
      case 1: return std::numeric_limits<float>::infinity();
      case 2: return -std::numeric_limits<float>::infinity();
      case 3: return std::numeric_limits<float>::max();
      case 4: return -std::numeric_limits<float>::max();
      case 5: return std::numeric_limits<float>::denorm_min();
      case 6: return -0.0f;
      case 7: return 3e38f;
      case 8: {
        const std::uint32_t raw = static_cast<std::uint32_t>(bits(4));
        float v;
        std::memcpy(&v, &raw, sizeof v);
        return v;
      }
      case 9: return static_cast<float>(in_range(-1000, 1000)) * 1e6f;
      default: return static_cast<float>(in_range(-64, 1983)) / 4.0f;  // pixel-like values
    }
  }

  /// A finite float (for arguments whose finiteness the caller guarantees): any_float with
  /// NaN and inf mapped to float32 max.
  float finite_float() {
    const float v = any_float();
    return (v == v && v - v == 0.0f) ? v : std::numeric_limits<float>::max();
  }

  double finite_double() {
    const double v = any_double();
    return (v == v && v - v == 0.0) ? v : -std::numeric_limits<double>::max();
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace facesel_fuzz

/// Every harness ends in this: a failed invariant aborts (a crash to libFuzzer, a failure to ctest).
#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)
