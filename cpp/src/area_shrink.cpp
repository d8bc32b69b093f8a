// Integer area shrink (facesel.detect.schedule.area_shrink's core path): see area_shrink.hpp.
#include "facesel/area_shrink.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

namespace facesel {

namespace {

/// One axis's taps: output o reads source pixels first[o] .. first[o] + count[o] - 1 with
/// weights weight[offset[o] ..] (each the overlap of the source pixel with the output's cell, in
/// units of 1/q source pixel; they sum to p).
struct Taps {
  std::vector<std::int64_t> first, count, offset;
  std::vector<std::int32_t> weight;
  std::int64_t p = 1;
};

Taps taps_of(std::int64_t src, std::int64_t dst) {
  const std::int64_t g = std::gcd(src, dst), p = src / g, q = dst / g;
  Taps t;
  t.p = p;
  for (std::int64_t o = 0; o < dst; ++o) {
    // the cell of output o covers [o * p, (o + 1) * p) in units of 1/q source pixel; source pixel
    // i covers [i * q, (i + 1) * q)
    const std::int64_t lo = o * p, hi = lo + p;
    const std::int64_t i0 = lo / q, i1 = (hi + q - 1) / q;  // source pixels [i0, i1)
    t.first.push_back(i0);
    t.count.push_back(i1 - i0);
    t.offset.push_back(static_cast<std::int64_t>(t.weight.size()));
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::int64_t a = std::max(lo, i * q), b = std::min(hi, (i + 1) * q);
      t.weight.push_back(static_cast<std::int32_t>(b - a));
    }
  }
  return t;
}

/// The common cases, 3:2 (a 1080p frame to 1280x720, a 192-pixel square to 128) and 3:1 (1080p to
/// 640x360) on both axes, with the weights known at compile time: each block of 3 x 3 source
/// pixels gives Q x Q outputs. Per axis, 3:2 weighs the block's pixels (2, 1, 0) and (0, 1, 2),
/// 3:1 weighs them (1, 1, 1); either way an output is round(sum / 9).
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(__clang__)
#define FACESEL_INLINE inline __attribute__((always_inline))
#define FACESEL_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define FACESEL_INLINE inline
#define FACESEL_AVX2_CLONES
#endif

template <int Q, int C>
FACESEL_INLINE void shrink_by_three(const PackedImage& src, std::int64_t out_rows, std::int64_t out_cols, std::uint8_t* dst) {
  static_assert(Q == 1 || Q == 2, "3:1 or 3:2");
  const std::int64_t width = src.cols * C, blocks = src.cols / 3;
  std::vector<std::uint16_t> buffer(static_cast<std::size_t>(Q * width));  // Q rows of vertical sums
  std::vector<std::uint8_t> dense(static_cast<std::size_t>(width));  // a row's values at every position
  // 3:2: 0xffff where a position's value is a block's left output (the first C of each 3C), else 0
  std::vector<std::uint16_t> left_mask(static_cast<std::size_t>(width));
  for (std::int64_t x = 0; x < width; ++x) left_mask[static_cast<std::size_t>(x)] = (x % (3 * C)) < C ? 0xffff : 0;
  for (std::int64_t by = 0; by < out_rows / Q; ++by) {
    const std::uint8_t* r0 = src.data + 3 * by * src.row_stride;
    const std::uint8_t* r1 = r0 + src.row_stride;
    const std::uint8_t* r2 = r1 + src.row_stride;
    std::uint16_t* v0 = buffer.data();
    std::uint16_t* v1 = buffer.data() + (Q - 1) * width;
    // vertical first: contiguous rows (at most 3 * 255 * weight 3 = 765 fits 16 bits), vectorised
    for (std::int64_t x = 0; x < width; ++x) {
      const std::uint16_t a = r0[x], b = r1[x], c = r2[x];
      if constexpr (Q == 2) {
        v0[x] = static_cast<std::uint16_t>(2 * a + b);
        v1[x] = static_cast<std::uint16_t>(b + 2 * c);
      } else {
        v0[x] = static_cast<std::uint16_t>(a + b + c);
      }
    }
    for (int oy = 0; oy < Q; ++oy) {
      const std::uint16_t* v = buffer.data() + oy * width;
      std::uint8_t* out = dst + (by * Q + oy) * out_cols * C;
      // Horizontal, dense then compacted (session 24): every position x of the row gets the output
      // value it would have if a block started at x mod (3C)'s start, computed in one loop the
      // compiler vectorises (16-bit lanes), and the C (3:1) or 2C (3:2) values of each block that
      // are outputs are then copied out. The same integers as the per-block arithmetic before:
      // 3:2: left = 2 s[ch] + s[C + ch], right = s[C + ch] + 2 s[2C + ch]; 3:1: the three summed;
      // round(t / 9) = (2t + 9) / 18 = ((2t + 9) * 3641) >> 16, exact for 2t + 9 <= 4599 (t <= 2295).
      std::uint8_t* d = dense.data();
      const std::uint16_t* m = left_mask.data();
      const std::int64_t span = width - (Q == 2 ? C : 2 * C);  // the last block's last output reads its last value
      for (std::int64_t x = 0; x < span; ++x) {
        std::uint16_t t;
        if constexpr (Q == 2) {
          const std::uint16_t a = v[x], b = v[x + C];
          const std::uint16_t left = static_cast<std::uint16_t>(2 * a + b), right = static_cast<std::uint16_t>(a + 2 * b);
          t = static_cast<std::uint16_t>((left & m[x]) | (right & static_cast<std::uint16_t>(~m[x])));
        } else {
          t = static_cast<std::uint16_t>(v[x] + v[x + C] + v[x + 2 * C]);
        }
        const std::uint16_t twice = static_cast<std::uint16_t>(2 * t + 9);
        d[x] = static_cast<std::uint8_t>((static_cast<std::uint32_t>(twice) * 3641u) >> 16);
      }
      for (std::int64_t bx = 0; bx < blocks; ++bx) {
        std::memcpy(out + Q * C * bx, d + 3 * C * bx, static_cast<std::size_t>(Q * C));
      }
    }
  }
}

// Each case compiled twice (AVX2 and the x86-64 baseline), one picked at load time from the CPU:
// the integer arithmetic is the same in every lane width, so both write the same bytes; AVX2 does
// the vertical pass 16 values a register instead of 8.
FACESEL_AVX2_CLONES void shrink_3_2_c1(const PackedImage& s, std::int64_t r, std::int64_t c, std::uint8_t* d) {
  shrink_by_three<2, 1>(s, r, c, d);
}
FACESEL_AVX2_CLONES void shrink_3_2_c3(const PackedImage& s, std::int64_t r, std::int64_t c, std::uint8_t* d) {
  shrink_by_three<2, 3>(s, r, c, d);
}
FACESEL_AVX2_CLONES void shrink_3_1_c1(const PackedImage& s, std::int64_t r, std::int64_t c, std::uint8_t* d) {
  shrink_by_three<1, 1>(s, r, c, d);
}
FACESEL_AVX2_CLONES void shrink_3_1_c3(const PackedImage& s, std::int64_t r, std::int64_t c, std::uint8_t* d) {
  shrink_by_three<1, 3>(s, r, c, d);
}

template <int Q>
bool shrink_by_three_any(const PackedImage& src, std::int64_t out_rows, std::int64_t out_cols, std::uint8_t* dst) {
  if (src.rows != 3 * (out_rows / Q) || out_rows % Q || src.cols != 3 * (out_cols / Q) || out_cols % Q) return false;
  switch (src.channels) {
    case 1: (Q == 2 ? shrink_3_2_c1 : shrink_3_1_c1)(src, out_rows, out_cols, dst); return true;
    case 3: (Q == 2 ? shrink_3_2_c3 : shrink_3_1_c3)(src, out_rows, out_cols, dst); return true;
    default: return false;
  }
}

}  // namespace

bool area_ratio_exact(std::int64_t src, std::int64_t dst) {
  if (src < 1 || dst < 1 || dst > src) return false;
  const std::int64_t p = src / std::gcd(src, dst);
  return p % 2 == 1 && p <= kMaxAreaRatio;
}

void area_shrink_exact(const PackedImage& src, std::int64_t out_rows, std::int64_t out_cols, std::uint8_t* dst) {
  if (shrink_by_three_any<2>(src, out_rows, out_cols, dst) || shrink_by_three_any<1>(src, out_rows, out_cols, dst)) return;
  const Taps ty = taps_of(src.rows, out_rows), tx = taps_of(src.cols, out_cols);
  const std::int64_t c = src.channels, width = src.cols * c;
  const std::int32_t area = static_cast<std::int32_t>(ty.p * tx.p);
  std::vector<std::int32_t> column(static_cast<std::size_t>(width));  // one output row's weighted column sums
  for (std::int64_t r = 0; r < out_rows; ++r) {
    // vertical first: contiguous rows, a loop the compiler vectorises
    std::fill(column.begin(), column.end(), 0);
    for (std::int64_t k = 0; k < ty.count[r]; ++k) {
      const std::int32_t w = ty.weight[ty.offset[r] + k];
      const std::uint8_t* row = src.data + (ty.first[r] + k) * src.row_stride;
      std::int32_t* sum = column.data();
      for (std::int64_t x = 0; x < width; ++x) sum[x] += w * static_cast<std::int32_t>(row[x]);
    }
    std::uint8_t* out = dst + r * out_cols * c;
    for (std::int64_t o = 0; o < out_cols; ++o) {
      const std::int32_t* at = column.data() + tx.first[o] * c;
      const std::int32_t* w = tx.weight.data() + tx.offset[o];
      for (std::int64_t ch = 0; ch < c; ++ch) {
        std::int32_t total = 0;
        for (std::int64_t k = 0; k < tx.count[o]; ++k) total += w[k] * at[k * c + ch];
        // round(total / area), exact: area is odd, so total / area is never a half
        out[o * c + ch] = static_cast<std::uint8_t>((2 * total + area) / (2 * area));
      }
    }
  }
}

}  // namespace facesel

