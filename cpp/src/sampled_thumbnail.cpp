// The scene-change thumbnail of a frame whose sample shrinks by whole factors, in one pass (issue
// 27, session 25): see sampled_thumbnail.hpp. Before, a 1080p frame's thumbnail was three passes
// (numpy's strided copy of every fifth pixel, OpenCV's INTER_AREA 4 x 4 average, cvtColor), about
// 2.6 million instructions a frame under callgrind, most of it in OpenCV's generic area loop.
// Here each output pixel reads its block_x x block_y samples straight from the frame. Integer sums
// are exact in any order; the one float operation per channel (sum * (1 / area), rounded to
// nearest even) is OpenCV's own, and the grey conversion is its fixed-point one, so the bytes
// are the same (tests/test_scene_thumbnail.py: real frames, and every colour for the grey step).
#include "facesel/sampled_thumbnail.hpp"

#include <cmath>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace facesel {

namespace {

/// saturate_cast<uchar>(v) for v >= 0 as OpenCV's area path does it (cvRound: round to nearest
/// even in the default rounding mode). With SSE2 the one conversion instruction cvRound uses;
/// std::nearbyint is a library call on the x86-64 baseline (three a thumbnail pixel).
inline int round_to_u8(float v) {
#if defined(__SSE2__)
  const int i = _mm_cvtss_si32(_mm_set_ss(v));
#else
  const int i = static_cast<int>(std::nearbyint(v));
#endif
  return i > 255 ? 255 : (i < 0 ? 0 : i);
}

}  // namespace

void sampled_block_grey(const PackedImage& src, std::int64_t step, std::int64_t block_x, std::int64_t block_y,
                        std::int64_t out_rows, std::int64_t out_cols, std::uint8_t* dst) {
  const float scale = 1.0f / static_cast<float>(block_x * block_y);  // as OpenCV: 1.f / area
  const std::int64_t pixel = src.channels, across = step * pixel;
  for (std::int64_t oy = 0; oy < out_rows; ++oy) {
    for (std::int64_t ox = 0; ox < out_cols; ++ox) {
      int sum[3] = {0, 0, 0};
      for (std::int64_t i = 0; i < block_y; ++i) {
        const std::uint8_t* px = src.data + (oy * block_y + i) * step * src.row_stride + ox * block_x * across;
        for (std::int64_t j = 0; j < block_x; ++j, px += across) {
          sum[0] += px[0];
          sum[1] += px[1];
          sum[2] += px[2];
        }
      }
      const int b = round_to_u8(static_cast<float>(sum[0]) * scale);
      const int g = round_to_u8(static_cast<float>(sum[1]) * scale);
      const int r = round_to_u8(static_cast<float>(sum[2]) * scale);
      dst[oy * out_cols + ox] = static_cast<std::uint8_t>((3735 * b + 19235 * g + 9798 * r + (1 << 14)) >> 15);
    }
  }
}

}  // namespace facesel
