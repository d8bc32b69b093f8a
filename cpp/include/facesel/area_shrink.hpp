#pragma once
// An area shrink of uint8 images by a small rational factor, in integers: the same pixels as
// OpenCV's INTER_AREA (cv::resize) wherever area_shrink_exact_ratio accepts the sizes.
#include <cstdint>

namespace facesel {

/// The most source pixels a ratio p:q may span per axis (p <= kMaxAreaRatio).
constexpr std::int64_t kMaxAreaRatio = 9;

/// Whether shrinking `src` pixels to `dst` along one axis is a ratio p:q (lowest terms) that the
/// integer shrink reproduces exactly: dst < src, or dst == src (p = q = 1), with p odd and at most
/// kMaxAreaRatio. Why odd: an output is (integer sum) / (p_rows * p_cols); with that product odd
/// the exact value is never halfway between two integers, and is at least 1 / (2 * 81) from such a
/// point, far beyond OpenCV's float32 rounding (about 1e-4 grey levels), so both round alike.
bool area_ratio_exact(std::int64_t src, std::int64_t dst);

/// A uint8 image, `channels` interleaved bytes a pixel (channel stride 1), any row stride.
struct PackedImage {
  const std::uint8_t* data;
  std::int64_t rows, cols, row_stride, channels;
};

/// `src` area-averaged to out_rows x out_cols into `dst` (packed, out_cols * channels bytes a row):
/// each output pixel the average of the source area it covers, each source pixel weighted by the
/// part of it inside (integer weights per axis), rounded to nearest. Both axes must pass
/// area_ratio_exact (the caller checks).
void area_shrink_exact(const PackedImage& src, std::int64_t out_rows, std::int64_t out_cols, std::uint8_t* dst);

}  // namespace facesel


namespace facesel {

/// `src` area-shrunk to out_rows x out_cols into `dst` (packed) as OpenCV's general INTER_AREA
/// path shrinks a float32 copy of it (cv::resize, then convertScaleAbs): the same table of weights,
/// the same float32 operations in the same order, so the same pixels bit for bit; four source rows
/// at a time in SSE lanes, no float32 copy. For 1 <= out_cols <= cols and 1 <= out_rows <= rows
/// (the caller checks). Where both axes shrink by a whole factor OpenCV takes another path (its
/// integer fast path), whose pixels this does not claim.
void area_shrink_float(const PackedImage& src, std::int64_t out_rows, std::int64_t out_cols, std::uint8_t* dst);

/// Which code area_shrink_float runs on this CPU for 1-4 channels: "avx2" (eight source rows a
/// register, chosen at run time), "sse2" (four) or "scalar". Every one gives the same pixels.
const char* area_shrink_float_path();

}  // namespace facesel
