// area_shrink_float with eight source rows in the eight lanes of an AVX2 register (issue 27,
// session 25): see area_shrink_float.cpp for what the pixels must be and why.
//
// The SSE path puts four source rows in the four lanes of a register, so the horizontal pass (each
// output element = 0 + s0 * a0 + s1 * a1 + ... over its taps, in the table's order) runs once for
// every four rows; here it runs once for every eight, with one weight broadcast for eight rows and
// all channels of an output column. Every lane performs exactly the scalar operations in the same
// order (a multiply, then an add: this file is compiled with -ffp-contract=off, and the functions
// target "avx2" alone, never FMA), the vertical pass is the same multiply and add per element,
// eight at a time, and the rounding is the SSE path's round_row. So the pixels are the same
// (tests/test_area_shrink_float.py: against OpenCV's float32 path for every channel count and
// width tail, and real region squares). Compiled with GCC's target attribute and chosen at run time
// from the CPU (avx2_available); elsewhere the SSE or scalar path runs.
#include "area_shrink_float_detail.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define FACESEL_AREA_AVX2 1
#include <immintrin.h>
#endif

namespace facesel::area_float_detail {

#if defined(FACESEL_AREA_AVX2)

bool avx2_available() {
  // FACESEL_AREA_FLOAT_PATH=sse2 keeps the SSE path on an AVX2 CPU: the tests run both paths on the
  // same machine (tests/test_area_shrink_float_avx2.py, in a child process). Read once.
  static const bool available = [] {
    const char* forced = std::getenv("FACESEL_AREA_FLOAT_PATH");
    return __builtin_cpu_supports("avx2") && !(forced != nullptr && std::strcmp(forced, "sse2") == 0);
  }();
  return available;
}

namespace {

#define FACESEL_TARGET_AVX2 __attribute__((target("avx2")))

/// Eight source rows' elements as float, element x of row r at lanes[8 * x + r].
FACESEL_TARGET_AVX2 void eight_rows_as_float(const std::uint8_t* const rows[8], std::int64_t width, float* lanes) {
  std::int64_t x = 0;
  for (; x + 8 <= width; x += 8) {
    __m128i r[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(rows[i] + x));
    // an 8 x 8 byte transpose: pairs, then quads, then each element's eight rows in 8 bytes
    const __m128i ab = _mm_unpacklo_epi8(r[0], r[1]), cd = _mm_unpacklo_epi8(r[2], r[3]);
    const __m128i ef = _mm_unpacklo_epi8(r[4], r[5]), gh = _mm_unpacklo_epi8(r[6], r[7]);
    const __m128i abcd_lo = _mm_unpacklo_epi16(ab, cd), abcd_hi = _mm_unpackhi_epi16(ab, cd);  // x0-3, x4-7
    const __m128i efgh_lo = _mm_unpacklo_epi16(ef, gh), efgh_hi = _mm_unpackhi_epi16(ef, gh);
    const __m128i two[4] = {_mm_unpacklo_epi32(abcd_lo, efgh_lo), _mm_unpackhi_epi32(abcd_lo, efgh_lo),
                            _mm_unpacklo_epi32(abcd_hi, efgh_hi), _mm_unpackhi_epi32(abcd_hi, efgh_hi)};
    float* out = lanes + 8 * x;
    for (int i = 0; i < 4; ++i) {  // two elements, eight rows each
      _mm256_storeu_ps(out + 16 * i, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(two[i])));
      _mm256_storeu_ps(out + 16 * i + 8, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(two[i], 8))));
    }
  }
  for (; x < width; ++x) {
    for (int r = 0; r < 8; ++r) lanes[8 * x + r] = static_cast<float>(rows[r][x]);
  }
}

/// The horizontal pass of eight source rows (lanes: eight_rows_as_float's layout) for every output
/// element, in the same layout; each lane 0 + s0 * a0 + s1 * a1 + ... in the table's order.
template <int CN>
FACESEL_TARGET_AVX2 void across_eight_rows(const float* lanes, const std::vector<AreaTap>& xtaps,
                                           const std::vector<std::int64_t>& first, std::int64_t out_cols, float* out) {
  for (std::int64_t o = 0; o < out_cols; ++o) {
    __m256 acc[CN];
    for (int c = 0; c < CN; ++c) acc[c] = _mm256_setzero_ps();
    for (std::int64_t k = first[o]; k < first[o + 1]; ++k) {
      const float* v = lanes + 8 * xtaps[k].in * CN;
      const __m256 alpha = _mm256_set1_ps(xtaps[k].alpha);
      for (int c = 0; c < CN; ++c) acc[c] = _mm256_add_ps(acc[c], _mm256_mul_ps(_mm256_loadu_ps(v + 8 * c), alpha));
    }
    for (int c = 0; c < CN; ++c) _mm256_storeu_ps(out + 8 * (o * CN + c), acc[c]);
  }
}

/// Element e's eight rows (in[8 * e + r]) to row r's element e (rows[r * width + e]): 8 x 8 transposes.
FACESEL_TARGET_AVX2 void eight_rows_apart(const float* in, std::int64_t width, float* rows) {
  std::int64_t e = 0;
  for (; e + 8 <= width; e += 8) {
    __m256 v[8];
    for (int i = 0; i < 8; ++i) v[i] = _mm256_loadu_ps(in + 8 * (e + i));
    const __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
    const __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
    const __m256 t4 = _mm256_unpacklo_ps(v[4], v[5]), t5 = _mm256_unpackhi_ps(v[4], v[5]);
    const __m256 t6 = _mm256_unpacklo_ps(v[6], v[7]), t7 = _mm256_unpackhi_ps(v[6], v[7]);
    const __m256 q0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));  // rows 0 and 4 of elements e..e+3
    const __m256 q1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));  // rows 1 and 5
    const __m256 q2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));  // rows 2 and 6
    const __m256 q3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));  // rows 3 and 7
    const __m256 q4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));  // the same, elements e+4..e+7
    const __m256 q5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 q6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 q7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    _mm256_storeu_ps(rows + 0 * width + e, _mm256_permute2f128_ps(q0, q4, 0x20));
    _mm256_storeu_ps(rows + 1 * width + e, _mm256_permute2f128_ps(q1, q5, 0x20));
    _mm256_storeu_ps(rows + 2 * width + e, _mm256_permute2f128_ps(q2, q6, 0x20));
    _mm256_storeu_ps(rows + 3 * width + e, _mm256_permute2f128_ps(q3, q7, 0x20));
    _mm256_storeu_ps(rows + 4 * width + e, _mm256_permute2f128_ps(q0, q4, 0x31));
    _mm256_storeu_ps(rows + 5 * width + e, _mm256_permute2f128_ps(q1, q5, 0x31));
    _mm256_storeu_ps(rows + 6 * width + e, _mm256_permute2f128_ps(q2, q6, 0x31));
    _mm256_storeu_ps(rows + 7 * width + e, _mm256_permute2f128_ps(q3, q7, 0x31));
  }
  for (; e < width; ++e) {
    for (int r = 0; r < 8; ++r) rows[r * width + e] = in[8 * e + r];
  }
}

/// The vertical pass: total = beta * h (an output row's first source row) or total + beta * h.
FACESEL_TARGET_AVX2 void weigh_row(float* total, const float* h, float beta, std::int64_t width, bool first_row) {
  const __m256 b = _mm256_set1_ps(beta);
  std::int64_t x = 0;
  if (first_row) {
    for (; x + 8 <= width; x += 8) _mm256_storeu_ps(total + x, _mm256_mul_ps(b, _mm256_loadu_ps(h + x)));
    for (; x < width; ++x) total[x] = beta * h[x];
  } else {
    for (; x + 8 <= width; x += 8) {
      _mm256_storeu_ps(total + x, _mm256_add_ps(_mm256_loadu_ps(total + x), _mm256_mul_ps(b, _mm256_loadu_ps(h + x))));
    }
    for (; x < width; ++x) total[x] += beta * h[x];
  }
}

}  // namespace

FACESEL_TARGET_AVX2 void area_shrink_float_avx2(const PackedImage& src, std::int64_t out_rows, std::int64_t out_cols,
                                                std::uint8_t* dst) {
  const std::int64_t cn = src.channels, in_width = src.cols * cn, width = out_cols * cn;
  const std::vector<AreaTap> xtaps = area_taps(src.cols, out_cols), ytaps = area_taps(src.rows, out_rows);
  std::vector<std::int64_t> first(static_cast<std::size_t>(out_cols + 1), 0);  // output x's taps: [first[x], first[x + 1])
  for (const AreaTap& t : xtaps) ++first[static_cast<std::size_t>(t.out + 1)];
  for (std::int64_t o = 0; o < out_cols; ++o) first[o + 1] += first[o];

  std::vector<float> lanes(static_cast<std::size_t>(8 * in_width));
  std::vector<float> across_lanes(static_cast<std::size_t>(8 * width));  // the horizontal pass, lanes' layout
  std::vector<float> across(static_cast<std::size_t>(8 * width));  // the same, rows block .. block + 7 apart
  std::vector<float> sum(static_cast<std::size_t>(width), 0.0f);
  std::int64_t block = -1;
  std::int64_t row_out = ytaps.front().out;
  for (const AreaTap& yt : ytaps) {
    if (block < 0 || yt.in >= block + 8) {  // the table's source rows never go back
      block = yt.in;
      const std::uint8_t* rows[8];
      for (int r = 0; r < 8; ++r) rows[r] = src.data + std::min(block + r, src.rows - 1) * src.row_stride;
      eight_rows_as_float(rows, in_width, lanes.data());
      if (cn == 1) across_eight_rows<1>(lanes.data(), xtaps, first, out_cols, across_lanes.data());
      else if (cn == 2) across_eight_rows<2>(lanes.data(), xtaps, first, out_cols, across_lanes.data());
      else if (cn == 3) across_eight_rows<3>(lanes.data(), xtaps, first, out_cols, across_lanes.data());
      else across_eight_rows<4>(lanes.data(), xtaps, first, out_cols, across_lanes.data());
      eight_rows_apart(across_lanes.data(), width, across.data());
    }
    const float* h = across.data() + (yt.in - block) * width;
    if (yt.out != row_out) {  // the output row before is complete
      round_row(sum.data(), width, dst + row_out * width);
      weigh_row(sum.data(), h, yt.alpha, width, true);
      row_out = yt.out;
    } else {
      weigh_row(sum.data(), h, yt.alpha, width, false);
    }
  }
  round_row(sum.data(), width, dst + row_out * width);
}

#else

bool avx2_available() { return false; }

void area_shrink_float_avx2(const PackedImage&, std::int64_t, std::int64_t, std::uint8_t*) {}

#endif

}  // namespace facesel::area_float_detail
