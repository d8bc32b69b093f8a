// The region search's bookkeeping around the detector (facesel.detect.schedule.search_regions):
// planning the square searched around each tracked face, padding the shrunk squares into the
// network's input batches, and mapping the faces found back to frame pixels, one per square, with
// suppression across squares. The shrinking itself stays with OpenCV (cv2.resize, in Python).
//
// Every step reproduces the Python reference (search_regions' "python" path) bit for bit: the same
// float32 and float64 operations in the same order, the same ties. This file is compiled with
// -ffp-contract=off so that no multiply-add is fused (numpy never fuses them).
#pragma once
#include <cstdint>
#include <vector>

namespace facesel {

/// The region search's settings (PipelineConfig region_scale, region_face_px, region_min_px,
/// region_shrink == "fast"; base_shrink is the full-frame detection's shrink factor).
struct RegionParams {
  double scale;        ///< square side in face-box sides (> 0)
  double face_px;      ///< the face box is shrunk to at most this many pixels (> 0)
  std::int64_t min_px; ///< smallest square side in the detector's pixels (>= 0)
  double base_shrink;  ///< never search finer than the whole frame (in (0, 1])
  bool fast;           ///< cut_square's fast path: trim to a whole factor, area-average by it, then bilinear
};

/// One square to cut: frame[y1:y2, x1:x2], shrunk to width x height. With `step` >= 2 (fast path)
/// it is first area-averaged by `step` to ((x2 - x1) / step, (y2 - y1) / step), then resized
/// bilinearly when that is not already width x height; otherwise it is area-resized when its size
/// differs from width x height.
struct RegionSquare {
  std::int64_t index;  ///< which searched box (row of the boxes given)
  std::int64_t x1, y1, x2, y2;
  std::int64_t step;   ///< whole area factor of the fast path, 0 when none
  std::int64_t width, height;
  float corner[2];     ///< (x1, y1): the square's origin in frame pixels
  float back[2];       ///< (x, y) factors from square pixels back to frame pixels
};

/// The squares around `count` boxes (x1, y1, x2, y2 float32, row-major) in a frame_w x frame_h
/// frame, in box order. Boxes with a non-finite value, a side <= 0, a non-finite centre (float32
/// overflow) or a square under 8 pixels a side inside the frame get none (as do fast-path squares
/// whose trimmed size is empty). Throws std::invalid_argument naming the argument and value for
/// count < 0, frame_w or frame_h < 1, and settings outside RegionParams' ranges (scale and face_px
/// finite and > 0, min_px >= 0, base_shrink in (0, 1]).
std::vector<RegionSquare> plan_region_squares(const float* boxes, std::int64_t count, std::int64_t frame_w,
                                              std::int64_t frame_h, const RegionParams& params);

/// A side padded up to a multiple of pad_to (YuNet's coarsest stride, 32). Throws
/// std::invalid_argument naming side and pad_to unless 0 <= side <= 2^63 - pad_to and pad_to >= 1.
std::int64_t padded_side(std::int64_t side, std::int64_t pad_to);

/// Copies a rows x cols image (element strides in bytes; 1 channel is replicated to 3, as
/// cv2.cvtColor GRAY2BGR does) into the top-left of a zeroed dst_rows x dst_cols x 3 buffer
/// (C-contiguous). Throws std::invalid_argument naming the size for a negative rows, cols, dst_rows
/// or dst_cols, for channels other than 1 or 3 and for rows > dst_rows or cols > dst_cols; the caller
/// guarantees the pointers, strides and that dst holds dst_rows x dst_cols x 3 bytes.
void letterbox(const std::uint8_t* src, std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
               std::int64_t col_stride, std::int64_t channel_stride, int channels, std::uint8_t* dst,
               std::int64_t dst_rows, std::int64_t dst_cols);

/// letterbox's pixels written as YuNet's first convolution reads them: three float32 planes
/// (B, G, R), each dst_rows x dst_cols, C-contiguous one after the other, the image's values
/// (0-255, exact in float32) at the top left and zeros elsewhere, the same numbers the graph's
/// Cast + Transpose made of letterbox's buffer. Why: those two nodes cost YuNet's network about 9 %
/// of its kernels' time (session 17); this writes the planes in one pass over the pixels. The same
/// checks and throws as letterbox; dst holds 3 x dst_rows x dst_cols floats.
void letterbox_planar(const std::uint8_t* src, std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
                      std::int64_t col_stride, std::int64_t channel_stride, int channels, float* dst,
                      std::int64_t dst_rows, std::int64_t dst_cols);

/// The faces one square gave, in its own (shrunk) pixels: boxes (count, 4), scores (count),
/// marks (count, 10), all float32.
struct SquareFaces {
  const float* boxes;
  const float* scores;
  const float* marks;
  std::int64_t count;
};

/// Faces in frame pixels, in square order: boxes (n, 4), scores (n), marks (n, 10).
struct MergedFaces {
  std::vector<float> boxes;
  std::vector<float> scores;
  std::vector<float> marks;
};

/// Intersection over union as facesel.boxes.pairwise_iou computes it (float64; 0 / 0 gives NaN).
double box_iou(const double* a, const double* b);

/// Per square: its faces mapped to frame pixels (box * back + corner in float32), the one that
/// overlaps the searched box most kept when that overlap is > 0 (a NaN overlap anywhere drops the
/// square, as numpy's argmax picks the first NaN); then greedy suppression across squares (most
/// confident first, stable; one suppressed when its IoU with a kept one is not <= nms_iou), kept
/// faces in square order. `squares[i]` and `faces[i]` belong together; `boxes` are the boxes given
/// to plan_region_squares (the searched box of square i is row squares[i].index).
MergedFaces merge_region_faces(const std::vector<SquareFaces>& faces, const std::vector<RegionSquare>& squares,
                               const float* boxes, double nms_iou);

}  // namespace facesel
