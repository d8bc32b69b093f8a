// YuNet's output decoding: the per-stride score, box and landmark maps of one image -> faces,
// then OpenCV's non-maximum suppression (cv::dnn::NMSBoxes over Rect2d), reproduced exactly so
// that the Python reference (facesel.detect.yunet_graph.decode_numpy) and this give the same
// faces in the same order.
#pragma once
#include <cstdint>
#include <vector>

namespace facesel {

/// One stride of the network's outputs for one image (row-major float32 maps).
struct YunetLevel {
  const float* score;  ///< (rows, cols): sqrt(sigmoid(class) * sigmoid(objectness))
  const float* box;    ///< (4, rows, cols): dx, dy, log w, log h in stride units
  const float* marks;  ///< (10, rows, cols): (x, y) of 5 landmarks in stride units
  std::int64_t rows;
  std::int64_t cols;
  int stride;
};

/// The kept faces, most confident first: boxes (n, 4) x1 y1 x2 y2, scores (n), marks (n, 10).
struct YunetFaces {
  std::vector<float> boxes;
  std::vector<float> scores;
  std::vector<float> marks;
};

/// The cells above the score threshold, in decoding order (levels in order, row-major within a
/// level, as numpy's nonzero and concatenate give them), with their log box sides.
struct YunetCandidates {
  std::vector<int> level;
  std::vector<std::int64_t> cell;
  std::vector<float> score;
  std::vector<float> log_w;  ///< dw: the box width is exp(dw) * stride
  std::vector<float> log_h;
};

/// Step 1: the candidates, cells with score > min_score (cv::dnn::NMSBoxes' strict test; the numpy
/// path's `>=` pre-filter then NMSBoxes' `>` keep the same cells). Throws std::invalid_argument
/// when a candidate's log side is NaN or above 88 (its exp would overflow float32).
YunetCandidates yunet_candidates(const std::vector<YunetLevel>& levels, float min_score);

/// Step 2: boxes and landmarks of the candidates, then suppression. exp_w[i] and exp_h[i] are
/// exp(log_w[i]) and exp(log_h[i]) in float32, computed by the caller: the Python binding uses
/// numpy's float32 exp so that results equal the numpy reference bit for bit (numpy's SIMD exp
/// differs from the correctly rounded one by up to 2 ulp, depending on the CPU).
///
/// Box centre (col + dx) * stride and landmarks (col + lx) * stride are computed in double and
/// rounded to float, the half side exp_w * (stride / 2) in float, as numpy's type promotion does.
/// Throws std::invalid_argument when a candidate's box or landmark values are not finite. The
/// caller guarantees the pointers and sizes (the binding checks them).
YunetFaces yunet_faces(const std::vector<YunetLevel>& levels, const YunetCandidates& candidates, const float* exp_w,
                       const float* exp_h, float nms_iou);

/// Both steps with exp evaluated in double and rounded to float (for C++ callers: within 2 ulp of
/// numpy's exp per side, the same faces in all but near-tie cases).
YunetFaces yunet_decode(const std::vector<YunetLevel>& levels, float min_score, float nms_iou);

/// cv::dnn::NMSBoxes(Rect2d) with eta = 1 and no top_k: indices of the kept boxes, highest score
/// first (ties in index order). xywh holds n rows (x, y, width, height) as doubles.
/// Overlap is OpenCV's: 1 - float(1 - |a & b| / (|a| + |b| - |a & b|)), suppressed when > nms_iou.
std::vector<int> nms_boxes(const std::vector<double>& xywh, const std::vector<float>& scores, float score_threshold,
                           float nms_iou);

}  // namespace facesel
