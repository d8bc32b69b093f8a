// The scene-change thumbnail where its shrink is a whole factor (issue 27, session 25).
#pragma once

#include <cstdint>

#include "facesel/area_shrink.hpp"

namespace facesel {

/// The grey thumbnail facesel.detect.schedule._thumbnail makes, in one pass over the frame:
/// `src` (3 channels, BGR) sampled every `step`-th pixel of every `step`-th row, the sample
/// area-averaged by whole factors `block_x` x `block_y` as OpenCV's INTER_AREA fast path does it
/// for uint8 (each channel's integer sum times the float 1 / (block_x * block_y), rounded to
/// nearest even: not its 2 x 2 path, which rounds half up), then cv::cvtColor's BGR -> grey in
/// fixed point ((3735 B + 19235 G + 9798 R + 2^14) >> 15). Output `out_rows` x `out_cols`, packed;
/// the caller checks that out_rows * block_y and out_cols * block_x samples lie inside `src`.
void sampled_block_grey(const PackedImage& src, std::int64_t step, std::int64_t block_x, std::int64_t block_y,
                        std::int64_t out_rows, std::int64_t out_cols, std::uint8_t* dst);

}  // namespace facesel
