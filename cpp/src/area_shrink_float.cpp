// OpenCV's general INTER_AREA in float32, for uint8 input, four source rows at a time: see area_shrink.hpp.
//
// The result must be OpenCV's pixels bit for bit, so every output value is computed with the same
// float32 operations in the same order as cv::resize's ResizeArea_Invoker on a float32 copy of the
// image (the path facesel.detect.schedule.area_shrink took before): per source row, each output
// element is 0 + s0 * a0 + s1 * a1 + ... over its taps in OpenCV's table order; per output row, the
// source rows' sums weighted by their beta and added in the table's order; then rounded to nearest
// even and saturated (convertScaleAbs). What differs is only where the work sits: four source rows
// go through the horizontal pass in the four lanes of one SSE register (each lane the same scalar
// operations), and the uint8 -> float conversion is done four rows at a time, in registers, where
// the old path made a float32 copy of the whole square in numpy. This file is compiled with
// -ffp-contract=off (cpp/CMakeLists.txt): a fused multiply-add would round differently. Without
// SSE2 (not x86-64) the same operations run one lane at a time.
//
// Session 22 (issue 27, cap23: counted with callgrind, this function was the largest piece of
// facesel's own code in a serve camera's frame): the horizontal pass takes all channels of an
// output column per tap (one weight broadcast for them, a template per channel count) and writes
// its four lanes with vector stores, turned into the four rows four elements at a time; each output
// row is rounded and saturated 16 values at a time. Every lane still sees the same float32
// operations in the same order, so the pixels are the same (tests/test_area_shrink_float.py).
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <vector>

#include "area_shrink_float_detail.hpp"
#include "facesel/area_shrink.hpp"

namespace facesel {

std::vector<area_float_detail::AreaTap> area_float_detail::area_taps(std::int64_t src, std::int64_t dst) {
  const double scale = 1.0 / (static_cast<double>(dst) / static_cast<double>(src));  // as cv::resize
  std::vector<AreaTap> taps;
  taps.reserve(static_cast<std::size_t>(src + dst + 2));
  for (std::int64_t o = 0; o < dst; ++o) {
    const double fs1 = static_cast<double>(o) * scale, fs2 = fs1 + scale;
    const double cell = std::min(scale, static_cast<double>(src) - fs1);
    std::int64_t s1 = static_cast<std::int64_t>(std::ceil(fs1)), s2 = static_cast<std::int64_t>(std::floor(fs2));
    s2 = std::min(s2, src - 1);
    s1 = std::min(s1, s2);
    if (static_cast<double>(s1) - fs1 > 1e-3) {
      taps.push_back({o, s1 - 1, static_cast<float>((static_cast<double>(s1) - fs1) / cell)});
    }
    for (std::int64_t s = s1; s < s2; ++s) taps.push_back({o, s, static_cast<float>(1.0 / cell)});
    if (fs2 - static_cast<double>(s2) > 1e-3) {
      taps.push_back({o, s2, static_cast<float>(std::min(std::min(fs2 - static_cast<double>(s2), 1.0), cell) / cell)});
    }
  }
  return taps;
}

namespace {

using area_float_detail::area_taps;
using area_float_detail::AreaTap;
using area_float_detail::round_row;

/// saturate_cast<uchar>(|v|) as convertScaleAbs does it: round to nearest even (SSE's default mode).
inline std::uint8_t round_to_u8(float v) {
#if defined(__SSE2__)
  const int i = _mm_cvtss_si32(_mm_set_ss(std::fabs(v)));
#else
  const float r = std::nearbyint(std::fabs(v));
  const int i = r > 255.0f ? 255 : static_cast<int>(r);
#endif
  return static_cast<std::uint8_t>(i < 0 ? 0 : (i > 255 ? 255 : i));
}

/// Four source rows' elements as float, element x of row r at lanes[4 * x + r].
void four_rows_as_float(const std::uint8_t* const rows[4], std::int64_t width, float* lanes) {
  std::int64_t x = 0;
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  for (; x + 16 <= width; x += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[0] + x));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[1] + x));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[2] + x));
    const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[3] + x));
    const __m128i ab[2] = {_mm_unpacklo_epi8(a, b), _mm_unpackhi_epi8(a, b)};
    const __m128i cd[2] = {_mm_unpacklo_epi8(c, d), _mm_unpackhi_epi8(c, d)};
    float* out = lanes + 4 * x;
    for (int half = 0; half < 2; ++half) {
      const __m128i quads[2] = {_mm_unpacklo_epi16(ab[half], cd[half]), _mm_unpackhi_epi16(ab[half], cd[half])};
      for (const __m128i& q : quads) {  // four elements, each of the four rows
        const __m128i lo = _mm_unpacklo_epi8(q, zero), hi = _mm_unpackhi_epi8(q, zero);
        _mm_storeu_ps(out + 0, _mm_cvtepi32_ps(_mm_unpacklo_epi16(lo, zero)));
        _mm_storeu_ps(out + 4, _mm_cvtepi32_ps(_mm_unpackhi_epi16(lo, zero)));
        _mm_storeu_ps(out + 8, _mm_cvtepi32_ps(_mm_unpacklo_epi16(hi, zero)));
        _mm_storeu_ps(out + 12, _mm_cvtepi32_ps(_mm_unpackhi_epi16(hi, zero)));
        out += 16;
      }
    }
  }
#endif
  for (; x < width; ++x) {
    for (int r = 0; r < 4; ++r) lanes[4 * x + r] = static_cast<float>(rows[r][x]);
  }
}

#if defined(__SSE2__)
/// The horizontal pass of four source rows (lanes: four_rows_as_float's layout) for every output
/// element, in the same layout (element e's four rows at out[4 * e .. 4 * e + 3]). All CN channels
/// of an output column share its taps, so each tap's weight is loaded once for them; each lane is
/// still 0 + s0 * a0 + s1 * a1 + ... in the table's order, as the scalar path computes it.
template <int CN>
void across_four_rows(const float* lanes, const std::vector<AreaTap>& xtaps, const std::vector<std::int64_t>& first,
                      std::int64_t out_cols, float* out) {
  for (std::int64_t o = 0; o < out_cols; ++o) {
    __m128 acc[CN];
    for (int c = 0; c < CN; ++c) acc[c] = _mm_setzero_ps();
    for (std::int64_t k = first[o]; k < first[o + 1]; ++k) {
      const float* v = lanes + 4 * xtaps[k].in * CN;
      const __m128 alpha = _mm_set1_ps(xtaps[k].alpha);
      for (int c = 0; c < CN; ++c) acc[c] = _mm_add_ps(acc[c], _mm_mul_ps(_mm_loadu_ps(v + 4 * c), alpha));
    }
    for (int c = 0; c < CN; ++c) _mm_storeu_ps(out + 4 * (o * CN + c), acc[c]);
  }
}

/// Element e's four rows (in[4 * e + r]) to row r's element e (rows[r * width + e]).
void four_rows_apart(const float* in, std::int64_t width, float* rows) {
  std::int64_t e = 0;
  for (; e + 4 <= width; e += 4) {
    __m128 r0 = _mm_loadu_ps(in + 4 * e), r1 = _mm_loadu_ps(in + 4 * e + 4);
    __m128 r2 = _mm_loadu_ps(in + 4 * e + 8), r3 = _mm_loadu_ps(in + 4 * e + 12);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(rows + e, r0);
    _mm_storeu_ps(rows + width + e, r1);
    _mm_storeu_ps(rows + 2 * width + e, r2);
    _mm_storeu_ps(rows + 3 * width + e, r3);
  }
  for (; e < width; ++e) {
    for (int r = 0; r < 4; ++r) rows[r * width + e] = in[4 * e + r];
  }
}
#endif

/// One output row: round_to_u8 of every sum (16 at a time with SSE2: the same conversion, in the
/// MXCSR's round-to-nearest-even, of |v|, and the same saturation: packs to int16 then uint8 clamp
/// a negative (and the 0x80000000 of an out-of-range or NaN value) to 0 and anything above 255 to 255).
}  // namespace

void area_float_detail::round_row(const float* sum, std::int64_t width, std::uint8_t* d) {
  std::int64_t x = 0;
#if defined(__SSE2__)
  const __m128 magnitude = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
  for (; x + 16 <= width; x += 16) {
    const __m128i a = _mm_cvtps_epi32(_mm_and_ps(_mm_loadu_ps(sum + x), magnitude));
    const __m128i b = _mm_cvtps_epi32(_mm_and_ps(_mm_loadu_ps(sum + x + 4), magnitude));
    const __m128i c = _mm_cvtps_epi32(_mm_and_ps(_mm_loadu_ps(sum + x + 8), magnitude));
    const __m128i e = _mm_cvtps_epi32(_mm_and_ps(_mm_loadu_ps(sum + x + 12), magnitude));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + x), _mm_packus_epi16(_mm_packs_epi32(a, b), _mm_packs_epi32(c, e)));
  }
#endif
  for (; x < width; ++x) d[x] = round_to_u8(sum[x]);
}

const char* area_shrink_float_path() {
  if (area_float_detail::avx2_available()) return "avx2";
#if defined(__SSE2__)
  return "sse2";
#else
  return "scalar";
#endif
}

void area_shrink_float(const PackedImage& src, std::int64_t out_rows, std::int64_t out_cols, std::uint8_t* dst) {
  if (src.channels >= 1 && src.channels <= 4 && area_float_detail::avx2_available()) {
    area_float_detail::area_shrink_float_avx2(src, out_rows, out_cols, dst);  // session 25: eight rows a register
    return;
  }
  const std::int64_t cn = src.channels, in_width = src.cols * cn, width = out_cols * cn;
  const std::vector<AreaTap> xtaps = area_taps(src.cols, out_cols), ytaps = area_taps(src.rows, out_rows);
  std::vector<std::int64_t> first(static_cast<std::size_t>(out_cols + 1), 0);  // output x's taps: [first[x], first[x + 1])
  for (const AreaTap& t : xtaps) ++first[static_cast<std::size_t>(t.out + 1)];
  for (std::int64_t o = 0; o < out_cols; ++o) first[o + 1] += first[o];

  std::vector<float> lanes(static_cast<std::size_t>(4 * in_width));
  std::vector<float> across(static_cast<std::size_t>(4 * width));  // the horizontal pass of rows block .. block + 3
  std::vector<float> sum(static_cast<std::size_t>(width), 0.0f);
#if defined(__SSE2__)
  std::vector<float> across_lanes(static_cast<std::size_t>(4 * width));  // the same, four_rows_as_float's layout
#endif
  std::int64_t block = -1;
  std::int64_t row_out = ytaps.front().out;
  for (const AreaTap& yt : ytaps) {
    if (block < 0 || yt.in >= block + 4) {  // the table's source rows never go back
      block = yt.in;
      const std::uint8_t* rows[4];
      for (int r = 0; r < 4; ++r) rows[r] = src.data + std::min(block + r, src.rows - 1) * src.row_stride;
      four_rows_as_float(rows, in_width, lanes.data());
#if defined(__SSE2__)
      if (cn >= 1 && cn <= 4) {
        if (cn == 1) across_four_rows<1>(lanes.data(), xtaps, first, out_cols, across_lanes.data());
        else if (cn == 2) across_four_rows<2>(lanes.data(), xtaps, first, out_cols, across_lanes.data());
        else if (cn == 3) across_four_rows<3>(lanes.data(), xtaps, first, out_cols, across_lanes.data());
        else across_four_rows<4>(lanes.data(), xtaps, first, out_cols, across_lanes.data());
        four_rows_apart(across_lanes.data(), width, across.data());
      } else
#endif
      {
        for (std::int64_t o = 0; o < out_cols; ++o) {
          for (std::int64_t c = 0; c < cn; ++c) {
            float four[4] = {0.0f, 0.0f, 0.0f, 0.0f};  // one lane a source row
            for (std::int64_t k = first[o]; k < first[o + 1]; ++k) {
              const float* v = lanes.data() + 4 * (xtaps[k].in * cn + c);
              const float alpha = xtaps[k].alpha;
              for (int r = 0; r < 4; ++r) four[r] = four[r] + v[r] * alpha;
            }
            const std::int64_t e = o * cn + c;
            for (int r = 0; r < 4; ++r) across[r * width + e] = four[r];
          }
        }
      }
    }
    const float* h = across.data() + (yt.in - block) * width;
    const float beta = yt.alpha;
    float* total = sum.data();
    if (yt.out != row_out) {  // the output row before is complete
      round_row(total, width, dst + row_out * width);
      for (std::int64_t x = 0; x < width; ++x) total[x] = beta * h[x];
      row_out = yt.out;
    } else {
      for (std::int64_t x = 0; x < width; ++x) total[x] += beta * h[x];
    }
  }
  round_row(sum.data(), width, dst + row_out * width);
}

}  // namespace facesel
