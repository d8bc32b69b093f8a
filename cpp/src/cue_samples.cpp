// See cue_samples.hpp. Compiled with -ffp-contract=off: the band's corners and the gains must be
// the separate float64 multiplies and adds numpy makes (a fused multiply-add rounds once).
#include "facesel/cue_samples.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace facesel {

namespace {

constexpr std::int64_t kSamples = kCueGrid * kCueGrid;
constexpr std::int64_t kBinCount = kCueBins * kCueBins * kCueBins;

using Grid = std::array<std::int64_t, kCueGrid>;

/// kCueGrid indices spread evenly over [lo, hi - 1] (facesel.track_cues._grid).
Grid grid(std::int64_t lo, std::int64_t hi) {
  Grid g{};
  const std::int64_t span = std::max<std::int64_t>(0, hi - 1 - lo);
  for (std::int64_t s = 0; s < kCueGrid; ++s) g[s] = lo + (s * span) / (kCueGrid - 1);
  return g;
}

/// One side of a float region clipped as facesel.track_cues._clip_regions does: lo in
/// [0, size - 1], hi in [lo + 1, size], both truncated towards zero after clipping.
void clip(double lo_value, double hi_value, std::int64_t size, std::int64_t* lo, std::int64_t* hi) {
  *lo = static_cast<std::int64_t>(std::max(0.0, std::min(static_cast<double>(size - 1), lo_value)));
  *hi = static_cast<std::int64_t>(std::max(static_cast<double>(*lo + 1), std::min(static_cast<double>(size), hi_value)));
}

/// The histogram of one region x1, y1, x2, y2 (float) of a (h, w, 3) frame into out[kBinCount].
void region_histogram(const std::uint8_t* frame, std::int64_t h, std::int64_t w, const double* region, float* out) {
  std::int64_t x1, x2, y1, y2;
  clip(region[0], region[2], w, &x1, &x2);
  clip(region[1], region[3], h, &y1, &y2);
  const Grid cols = grid(x1, x2), rows = grid(y1, y2);
  std::array<std::uint8_t, kSamples * 3> pixels{};
  std::uint64_t sum = 0;
  std::uint8_t* p = pixels.data();
  for (std::int64_t r = 0; r < kCueGrid; ++r) {
    const std::uint8_t* row = frame + rows[r] * w * 3;
    for (std::int64_t c = 0; c < kCueGrid; ++c, p += 3) {
      const std::uint8_t* px = row + cols[c] * 3;
      p[0] = px[0];
      p[1] = px[1];
      p[2] = px[2];
      sum += static_cast<std::uint64_t>(px[0]) + px[1] + px[2];
    }
  }
  // numpy: the integer sum divided by the count of bytes, then 2.5 / max(1, mean) in float64
  const double mean = static_cast<double>(sum) / static_cast<double>(kSamples * 3);
  const double gain = (160.0 * static_cast<double>(kCueBins) / 256.0) / std::max(1.0, mean);
  std::array<std::int64_t, kBinCount> counts{};
  for (std::int64_t s = 0; s < kSamples; ++s) {
    std::int64_t code = 0;
    for (std::int64_t ch = 0; ch < 3; ++ch) {
      const std::int64_t q = static_cast<std::int64_t>(static_cast<double>(pixels[s * 3 + ch]) * gain);
      code = code * kCueBins + std::min<std::int64_t>(q, kCueBins - 1);
    }
    ++counts[code];
  }
  for (std::int64_t b = 0; b < kBinCount; ++b) {
    out[b] = static_cast<float>(counts[b]) / static_cast<float>(kSamples);
  }
}

/// numpy's maximum and minimum: NaN when either is NaN (std::max would return its first argument).
double nan_max(double a, double b) { return (a != a || b != b) ? std::numeric_limits<double>::quiet_NaN() : (a < b ? b : a); }
double nan_min(double a, double b) { return (a != a || b != b) ? std::numeric_limits<double>::quiet_NaN() : (b < a ? b : a); }

/// facesel.track_cues._size_aspect of one float32 box: its size and its width-to-height ratio.
void size_aspect(const float* b, double* size, double* aspect) {
  const float bw = b[2] - b[0], bh = b[3] - b[1];
  const float area = bw * bh;
  // numpy compares the float32 area with 1e-9 in float32 (a Python float is a weak scalar)
  *size = area > static_cast<float>(1e-9) ? static_cast<double>(std::sqrt(area)) : std::sqrt(1e-9);
  *aspect = nan_max(1e-9, static_cast<double>(bw)) / nan_max(1e-9, static_cast<double>(bh));
}

/// A float64 truncated towards zero to int64, as numpy's cast gives it on x86-64: a value beyond
/// int64's range (or NaN) is INT64_MIN (the "integer indefinite"), never undefined behaviour.
std::int64_t to_int64(double v) {
  constexpr double kLimit = 9223372036854775808.0;  // 2^63
  if (!(v > -kLimit && v < kLimit)) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(v);
}

}  // namespace

void colour_histograms(const std::uint8_t* frame, std::int64_t h, std::int64_t w, const double* boxes,
                       std::int64_t n, float* out) {
  for (std::int64_t i = 0; i < n; ++i) {
    const double* b = boxes + 4 * i;
    const double bw = b[2] - b[0], bh = b[3] - b[1];
    // the band below the face, each corner as numpy adds it: corner + side * scale
    const double band[4] = {b[0] + bw * -0.25, b[3] + bh * 0.1, b[2] + bw * 0.25, b[3] + bh * 1.1};
    region_histogram(frame, h, w, b, out + (2 * i) * kBinCount);
    region_histogram(frame, h, w, band, out + (2 * i + 1) * kBinCount);
  }
}

void box_jumps(const float* previous, const float* boxes, std::int64_t n, double* size, double* aspect) {
  for (std::int64_t i = 0; i < n; ++i) {
    double size_a, aspect_a, size_b, aspect_b;
    size_aspect(previous + 4 * i, &size_a, &aspect_a);
    size_aspect(boxes + 4 * i, &size_b, &aspect_b);
    size[i] = nan_max(size_a, size_b) / nan_min(size_a, size_b);
    aspect[i] = nan_max(aspect_a, aspect_b) / nan_min(aspect_a, aspect_b);
  }
}

void pinned_patches(const std::uint8_t* frame, std::int64_t h, std::int64_t w, std::int64_t channels,
                    const float* boxes, std::int64_t n, const std::int64_t* previous_regions,
                    const float* previous_patches, std::int64_t k, std::int64_t* regions, float* patches,
                    float* under) {
  for (std::int64_t i = 0; i < n; ++i) {
    const double x1 = boxes[4 * i], y1 = boxes[4 * i + 1], x2 = boxes[4 * i + 2], y2 = boxes[4 * i + 3];
    // facesel.track_cues.middle_regions: each corner plus (or minus) a fifth of its side, in float64
    const double dx = 0.2 * (x2 - x1), dy = 0.2 * (y2 - y1);
    std::int64_t* r = regions + 4 * i;
    r[0] = to_int64(x1 + dx);
    r[1] = to_int64(y1 + dy);
    r[2] = to_int64(x2 - dx);
    r[3] = to_int64(y2 - dy);
  }
  grey_samples(frame, h, w, channels, regions, n, patches);
  std::array<float, kSamples> now{};
  for (std::int64_t j = 0; j < k; ++j) {
    grey_samples(frame, h, w, channels, previous_regions + 4 * j, 1, now.data());
    // whole grey levels: every difference and the sum are exact in float32, in any order
    float total = 0.0f;
    for (std::int64_t s = 0; s < kSamples; ++s) total += std::fabs(now[s] - previous_patches[j * kSamples + s]);
    under[j] = total / static_cast<float>(kSamples);
  }
}

void crowded(const double* boxes, std::int64_t n, std::uint8_t* out) {
  std::vector<std::array<double, 4>> r(static_cast<std::size_t>(n));
  std::vector<bool> wide(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const double x1 = boxes[4 * i], y1 = boxes[4 * i + 1], x2 = boxes[4 * i + 2], y2 = boxes[4 * i + 3];
    // each corner plus its side times the scale, as numpy adds them (y1 + h * 0.0 keeps a NaN
    // or an infinite side's NaN: never simplified, no -ffast-math)
    auto& a = r[static_cast<std::size_t>(i)];
    a = {x1 + (x2 - x1) * -0.25, y1 + (y2 - y1) * 0.0, x2 + (x2 - x1) * 0.25, y2 + (y2 - y1) * 1.1};
    wide[static_cast<std::size_t>(i)] = a[2] > a[0] && a[3] > a[1];
    out[i] = 0;
  }
  for (std::int64_t i = 0; i < n; ++i) {
    if (!wide[static_cast<std::size_t>(i)]) continue;
    const auto& a = r[static_cast<std::size_t>(i)];
    for (std::int64_t j = i + 1; j < n; ++j) {
      const auto& b = r[static_cast<std::size_t>(j)];
      if (wide[static_cast<std::size_t>(j)] && a[2] > b[0] && b[2] > a[0] && a[3] > b[1] && b[3] > a[1]) out[i] = out[j] = 1;
    }
  }
}

void shadowed_pairs(const double* boxes, const double* scores, std::int64_t n, double overlap, std::uint8_t* out) {
  std::vector<double> areas(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const double* b = boxes + 4 * i;
    areas[static_cast<std::size_t>(i)] = (b[2] - b[0]) * (b[3] - b[1]);
    out[i] = 0;
  }
  for (std::int64_t i = 0; i < n; ++i) {
    const double* a = boxes + 4 * i;
    for (std::int64_t j = i + 1; j < n; ++j) {
      const double* b = boxes + 4 * j;
      if (scores[i] == scores[j] || a[2] <= b[0] || b[2] <= a[0] || a[3] <= b[1] || b[3] <= a[1]) continue;
      const double w = (a[2] < b[2] ? a[2] : b[2]) - (a[0] > b[0] ? a[0] : b[0]);
      const double h = (a[3] < b[3] ? a[3] : b[3]) - (a[1] > b[1] ? a[1] : b[1]);
      if (w <= 0.0 || h <= 0.0) continue;
      const double ai = areas[static_cast<std::size_t>(i)], aj = areas[static_cast<std::size_t>(j)];
      const double smaller = ai < aj ? ai : aj;
      if (w * h >= overlap * (smaller > 1e-9 ? smaller : 1e-9)) {
        if (scores[j] > scores[i]) {
          out[i] = 1;
        } else {
          out[j] = 1;
        }
      }
    }
  }
}

void take_levels(const std::uint8_t* frame, const std::int64_t* index, std::int64_t k, float* out) {
  for (std::int64_t i = 0; i < k; ++i) out[i] = static_cast<float>(frame[index[i]]);
}

float mean_level(const float* a, const float* b, std::int64_t k) {
  float total = 0.0f;
  for (std::int64_t i = 0; i < k; ++i) total += std::fabs(a[i] - b[i]);
  return total / static_cast<float>(k);
}

void grey_samples(const std::uint8_t* frame, std::int64_t h, std::int64_t w, std::int64_t channels,
                  const std::int64_t* regions, std::int64_t k, float* out) {
  const std::int64_t offset = channels > 1 ? 1 : 0;
  for (std::int64_t i = 0; i < k; ++i, out += kSamples) {
    const std::int64_t* r = regions + 4 * i;
    const std::int64_t x1 = std::max<std::int64_t>(0, std::min(w - 1, r[0]));
    const std::int64_t y1 = std::max<std::int64_t>(0, std::min(h - 1, r[1]));
    const std::int64_t x2 = std::max(x1 + 1, std::min(w, r[2]));
    const std::int64_t y2 = std::max(y1 + 1, std::min(h, r[3]));
    const Grid cols = grid(x1, x2), rows = grid(y1, y2);
    for (std::int64_t rr = 0; rr < kCueGrid; ++rr) {
      const std::uint8_t* row = frame + rows[rr] * w * channels + offset;
      for (std::int64_t c = 0; c < kCueGrid; ++c) out[rr * kCueGrid + c] = static_cast<float>(row[cols[c] * channels]);
    }
  }
}

}  // namespace facesel
