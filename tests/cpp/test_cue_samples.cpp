// The switch cues' samplers on hand-made frames whose answers are known by hand: the sample grid
// and its clipping, a histogram of one flat colour, the pinned-logo middles and changes, the
// jumps, the crowding and shadowing pairs, the thumbnail's take and level difference. (Their
// equality with the numpy definitions, bit for bit, is tests/test_cue_samples_core.py.)
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "check.hpp"
#include "facesel/cue_samples.hpp"

namespace {

constexpr std::int64_t kSamples = facesel::kCueGrid * facesel::kCueGrid;

void test_histogram_of_a_flat_colour() {
  // a 40 x 50 frame of one BGR colour: every sample in one bin, each region's histogram sums to 1
  const std::int64_t h = 40, w = 50;
  std::vector<std::uint8_t> frame(h * w * 3);
  for (std::int64_t i = 0; i < h * w; ++i) {
    frame[3 * i] = 200, frame[3 * i + 1] = 100, frame[3 * i + 2] = 10;
  }
  const std::vector<double> boxes = {5, 5, 20, 20, -30, -30, 500, 500};  // inside; beyond every edge
  std::vector<float> out(2 * 2 * 64, -1.f);
  facesel::colour_histograms(frame.data(), h, w, boxes.data(), 2, out.data());
  // mean byte 310 / 3 -> gain 2.5 / 103.33: levels 4.84 -> 3, 2.42 -> 2, 0.24 -> 0: bin 3*16 + 2*4 + 0 = 56
  for (int region = 0; region < 4; ++region) {
    double total = 0;
    for (int b = 0; b < 64; ++b) total += out[region * 64 + b];
    CHECK(total == 1.0, "region " << region << " sums to " << total);
    CHECK(out[region * 64 + 56] == 1.f, "region " << region << " bin 56 holds " << out[region * 64 + 56]);
  }
}

void test_grey_samples_grid_and_clipping() {
  // a grey frame whose level is its column: a region's samples are the grid's columns
  const std::int64_t h = 30, w = 200;
  std::vector<std::uint8_t> frame(h * w);
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x) frame[y * w + x] = static_cast<std::uint8_t>(x);
  const std::vector<std::int64_t> regions = {0, 0, 12, 12, 190, -5, 400, 3, 7, 7, 7, 7};
  std::vector<float> out(3 * kSamples);
  facesel::grey_samples(frame.data(), h, w, 1, regions.data(), 3, out.data());
  for (int c = 0; c < 12; ++c) CHECK(out[c] == static_cast<float>(c), "column " << c << ": " << out[c]);
  // clipped to [190, 199]: 190 + s * 9 / 11 -> the last sample at 199
  CHECK(out[kSamples] == 190.f && out[kSamples + 11] == 199.f, out[kSamples] << " " << out[kSamples + 11]);
  // an empty region is one pixel wide
  CHECK(out[2 * kSamples] == 7.f && out[3 * kSamples - 1] == 7.f, "empty region " << out[2 * kSamples]);
}

void test_pinned_patches_middles_and_changes() {
  const std::int64_t h = 50, w = 60;
  std::vector<std::uint8_t> frame(h * w * 3, 9);
  const std::vector<float> boxes = {10, 20, 30, 45};
  const std::vector<std::int64_t> previous = {0, 0, 10, 10};
  std::vector<float> patches_before(kSamples, 12.f);  // every sample 3 levels away
  std::vector<std::int64_t> regions(4);
  std::vector<float> patches(kSamples), under(1);
  facesel::pinned_patches(frame.data(), h, w, 3, boxes.data(), 1, previous.data(), patches_before.data(), 1,
                          regions.data(), patches.data(), under.data());
  CHECK(regions[0] == 14 && regions[1] == 25 && regions[2] == 26 && regions[3] == 40,
        regions[0] << " " << regions[1] << " " << regions[2] << " " << regions[3]);
  CHECK(patches[0] == 9.f && under[0] == 3.f, "patch " << patches[0] << ", change " << under[0]);
  // a middle beyond int64 is INT64_MIN, as numpy's cast gives it
  const std::vector<float> far = {0, 0, 3e38f, 1};
  facesel::pinned_patches(frame.data(), h, w, 3, far.data(), 1, previous.data(), patches_before.data(), 0,
                          regions.data(), patches.data(), under.data());
  CHECK(regions[2] == std::numeric_limits<std::int64_t>::min(), "far middle " << regions[2]);
}

void test_jumps_crowding_shadowing_levels() {
  const std::vector<float> previous = {0, 0, 10, 10}, boxes = {0, 0, 40, 10};
  double size = 0, aspect = 0;
  facesel::box_jumps(previous.data(), boxes.data(), 1, &size, &aspect);
  CHECK(size == 2.0 && aspect == 4.0, "size " << size << ", aspect " << aspect);
  // two heads side by side whose bands (a quarter of a width out) meet; a third far away
  const std::vector<double> heads = {0, 0, 10, 10, 14, 0, 24, 10, 100, 100, 110, 110};
  std::vector<std::uint8_t> busy(3, 9);
  facesel::crowded(heads.data(), 3, busy.data());
  CHECK(busy[0] == 1 && busy[1] == 1 && busy[2] == 0, int(busy[0]) << int(busy[1]) << int(busy[2]));
  // a box half covered by a surer one is shadowed; equal scores shadow neither
  const std::vector<double> pair = {0, 0, 10, 10, 5, 0, 15, 10};
  std::vector<std::uint8_t> shadow(2, 9);
  const std::vector<double> scores = {0.5, 0.9}, equal = {0.7, 0.7};
  facesel::shadowed_pairs(pair.data(), scores.data(), 2, 0.1, shadow.data());
  CHECK(shadow[0] == 1 && shadow[1] == 0, int(shadow[0]) << int(shadow[1]));
  facesel::shadowed_pairs(pair.data(), equal.data(), 2, 0.1, shadow.data());
  CHECK(shadow[0] == 0 && shadow[1] == 0, int(shadow[0]) << int(shadow[1]));
  const std::vector<std::uint8_t> bytes = {1, 2, 3, 250};
  const std::vector<std::int64_t> index = {3, 0};
  std::vector<float> taken(2);
  facesel::take_levels(bytes.data(), index.data(), 2, taken.data());
  CHECK(taken[0] == 250.f && taken[1] == 1.f, taken[0] << " " << taken[1]);
  const std::vector<float> a = {0, 255, 10}, b = {255, 0, 13};
  CHECK(facesel::mean_level(a.data(), b.data(), 3) == 171.f, facesel::mean_level(a.data(), b.data(), 3));
}

}  // namespace

int main() {
  test_histogram_of_a_flat_colour();
  test_grey_samples_grid_and_clipping();
  test_pinned_patches_middles_and_changes();
  test_jumps_crowding_shadowing_levels();
  return facesel_test::finish("test_cue_samples");
}
