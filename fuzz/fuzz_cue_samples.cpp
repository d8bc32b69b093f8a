// libFuzzer harness: the switch cues' samples (cue_samples.hpp) within the documented caller
// contract (frame sizes >= 1, finite boxes where the header asks for them, indices in range),
// but with the values the contract allows pushed to their edges: boxes up to +-1.8e308 / +-3.4e38,
// inverted, outside the frame; int64 regions anywhere (clipped by the core); NaN where allowed.
// Invariants: nothing escapes; histograms sum to 1; samples are bytes; jumps are >= 1 or NaN.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "facesel/cue_samples.hpp"
#include "fuzz_input.hpp"

using facesel::kCueBins;
using facesel::kCueGrid;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  facesel_fuzz::FuzzInput in(data, size);
  const std::int64_t h = in.in_range(1, 9), w = in.in_range(1, 9);
  const std::int64_t channels = in.flag() ? 3 : 1;
  std::vector<std::uint8_t> frame(static_cast<std::size_t>(h * w * 3));
  for (auto& b : frame) b = in.byte();
  const std::int64_t n = in.in_range(0, 5);
  const std::size_t un = static_cast<std::size_t>(n);
  const std::int64_t samples = kCueGrid * kCueGrid;
  switch (in.byte() % 7) {
    case 0: {
      std::vector<double> boxes(4 * un);
      for (double& v : boxes) v = in.flag() ? in.finite_double() : static_cast<double>(in.in_range(-4, 12));
      std::vector<float> out(un * 2 * kCueBins * kCueBins * kCueBins);
      facesel::colour_histograms(frame.data(), h, w, boxes.data(), n, out.data());
      for (std::size_t r = 0; r < 2 * un; ++r) {
        double sum = 0.0;
        for (std::int64_t b = 0; b < kCueBins * kCueBins * kCueBins; ++b) sum += out[r * 64 + static_cast<std::size_t>(b)];
        FUZZ_CHECK(std::fabs(sum - 1.0) < 1e-4);
      }
      break;
    }
    case 1: {
      std::vector<std::int64_t> regions(4 * un);
      for (auto& v : regions) v = in.flag() ? in.any_i64() : in.in_range(-4, 12);
      std::vector<float> out(un * static_cast<std::size_t>(samples));
      facesel::grey_samples(frame.data(), h, w, channels, regions.data(), n, out.data());
      for (float v : out) FUZZ_CHECK(v >= 0.0f && v <= 255.0f);
      break;
    }
    case 2: {
      std::vector<float> boxes(4 * un);
      for (float& v : boxes) v = in.flag() ? in.finite_float() : static_cast<float>(in.in_range(-4, 12));
      const std::int64_t k = in.in_range(0, 3);
      const std::size_t uk = static_cast<std::size_t>(k);
      std::vector<std::int64_t> previous(4 * uk);
      for (auto& v : previous) v = in.flag() ? in.any_i64() : in.in_range(-4, 12);
      std::vector<float> patches(uk * static_cast<std::size_t>(samples));
      for (float& v : patches) v = static_cast<float>(in.byte());
      std::vector<std::int64_t> regions(4 * un);
      std::vector<float> out(un * static_cast<std::size_t>(samples)), under(uk);
      facesel::pinned_patches(frame.data(), h, w, channels, boxes.data(), n, previous.data(), patches.data(), k,
                              regions.data(), out.data(), under.data());
      for (float v : under) FUZZ_CHECK(v >= 0.0f && v <= 255.0f);
      break;
    }
    case 3: {
      std::vector<float> previous(4 * un), boxes(4 * un);
      for (float& v : previous) v = in.any_float();
      for (float& v : boxes) v = in.any_float();
      std::vector<double> size_jump(un), aspect(un);
      facesel::box_jumps(previous.data(), boxes.data(), n, size_jump.data(), aspect.data());
      for (std::size_t i = 0; i < un; ++i) FUZZ_CHECK(std::isnan(size_jump[i]) || size_jump[i] >= 1.0);
      break;
    }
    case 4: {
      std::vector<double> boxes(4 * un);
      for (double& v : boxes) v = in.any_double();
      std::vector<std::uint8_t> out(un);
      facesel::crowded(boxes.data(), n, out.data());
      for (auto b : out) FUZZ_CHECK(b <= 1);
      break;
    }
    case 5: {
      std::vector<double> boxes(4 * un), scores(un);
      for (double& v : boxes) v = in.finite_double();
      for (double& v : scores) v = in.finite_double();
      std::vector<std::uint8_t> out(un);
      facesel::shadowed_pairs(boxes.data(), scores.data(), n, in.any_double(), out.data());
      for (auto b : out) FUZZ_CHECK(b <= 1);
      break;
    }
    default: {
      std::vector<std::int64_t> index(un);
      for (auto& v : index) v = in.in_range(0, h * w * 3 - 1);
      std::vector<float> a(un), b(un);
      facesel::take_levels(frame.data(), index.data(), n, a.data());
      for (float& v : b) v = static_cast<float>(in.byte());
      if (n > 0) FUZZ_CHECK(facesel::mean_level(a.data(), b.data(), n) <= 255.0f);
    }
  }
  return 0;
}
