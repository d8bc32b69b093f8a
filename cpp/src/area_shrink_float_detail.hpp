// What area_shrink_float.cpp and its AVX2 path (area_shrink_float_avx2.cpp) share: OpenCV's table
// of area weights and the rounding of an output row. Internal to the core (not installed).
#pragma once

#include <cstdint>
#include <vector>

#include "facesel/area_shrink.hpp"

namespace facesel::area_float_detail {

/// One weight of OpenCV's area table: output index `out`, source index `in`, weight `alpha`.
struct AreaTap {
  std::int64_t out, in;
  float alpha;
};

/// cv::computeResizeAreaTab (with one channel): the taps of every output, outputs in order, each
/// output's source pixels in order, the weights computed in double and rounded to float as there.
std::vector<AreaTap> area_taps(std::int64_t src, std::int64_t dst);

/// One output row: saturate_cast<uchar>(|v|) of every sum, rounded to nearest even.
void round_row(const float* sum, std::int64_t width, std::uint8_t* d);

/// Whether this CPU runs area_shrink_float_avx2 (x86-64 with AVX2, compiled by GCC); read once.
bool avx2_available();

/// area_shrink_float for 1-4 channels with eight source rows in the eight lanes of an AVX2
/// register: the same float32 operations in the same order per lane as the SSE path (so the same
/// pixels). Call only when avx2_available().
void area_shrink_float_avx2(const PackedImage& src, std::int64_t out_rows, std::int64_t out_cols, std::uint8_t* dst);

}  // namespace facesel::area_float_detail
