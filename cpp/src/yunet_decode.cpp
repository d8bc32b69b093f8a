#include "facesel/yunet_decode.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace facesel {

namespace {

// cv::Rect2d as NMSBoxes sees it; the intersection below follows OpenCV's Rect_ operator&=
// (OpenCV 4.x) step by step, including which rectangle is "min" on equal x or y, so that rounding
// is the same.
struct Rect2d {
  double x, y, width, height;
  bool empty() const { return width <= 0 || height <= 0; }
  double area() const { return width * height; }
};

Rect2d intersection(const Rect2d& a, const Rect2d& b) {
  if (a.empty() || b.empty()) return Rect2d{0, 0, 0, 0};
  const Rect2d& rx_min = (a.x < b.x) ? a : b;
  const Rect2d& rx_max = (a.x < b.x) ? b : a;
  const Rect2d& ry_min = (a.y < b.y) ? a : b;
  const Rect2d& ry_max = (a.y < b.y) ? b : a;
  if ((rx_min.x < 0 && rx_min.x + rx_min.width < rx_max.x) || (ry_min.y < 0 && ry_min.y + ry_min.height < ry_max.y)) {
    return Rect2d{0, 0, 0, 0};
  }
  Rect2d c{rx_max.x, ry_max.y, std::min(rx_min.width - (rx_max.x - rx_min.x), rx_max.width),
           std::min(ry_min.height - (ry_max.y - ry_min.y), ry_max.height)};
  if (c.empty()) return Rect2d{0, 0, 0, 0};
  return c;
}

// OpenCV's rectOverlap: 1.f - float(jaccardDistance(a, b)).
float overlap(const Rect2d& a, const Rect2d& b) {
  const double area_a = a.area(), area_b = b.area();
  double distance = 0.0;
  if (!(area_a + area_b <= std::numeric_limits<double>::epsilon())) {
    const double both = intersection(a, b).area();
    distance = 1.0 - both / (area_a + area_b - both);
  }
  return 1.f - static_cast<float>(distance);
}

}  // namespace

std::vector<int> nms_boxes(const std::vector<double>& xywh, const std::vector<float>& scores, float score_threshold,
                           float nms_iou) {
  if (xywh.size() != 4 * scores.size()) {
    throw std::invalid_argument("nms_boxes: xywh must hold 4 values per score, got " + std::to_string(xywh.size()) +
                                " for " + std::to_string(scores.size()) + " scores");
  }
  std::vector<std::pair<float, int>> order;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] > score_threshold) order.emplace_back(scores[i], static_cast<int>(i));
  }
  // OpenCV: std::stable_sort by score descending, so equal scores keep index order.
  std::stable_sort(order.begin(), order.end(), [](const auto& p, const auto& q) { return p.first > q.first; });
  std::vector<int> kept;
  for (const auto& candidate : order) {
    const int i = candidate.second;
    const Rect2d a{xywh[4 * i], xywh[4 * i + 1], xywh[4 * i + 2], xywh[4 * i + 3]};
    bool keep = true;
    for (std::size_t k = 0; k < kept.size() && keep; ++k) {
      const int j = kept[k];
      const Rect2d b{xywh[4 * j], xywh[4 * j + 1], xywh[4 * j + 2], xywh[4 * j + 3]};
      keep = overlap(a, b) <= nms_iou;
    }
    if (keep) kept.push_back(i);
  }
  return kept;
}

namespace {

constexpr float kMaxLogSide = 88.0f;

[[noreturn]] void not_finite(const char* what, const YunetLevel& level, std::int64_t cell, const char* why) {
  throw std::invalid_argument(std::string(what) + std::to_string(level.stride) + " at (row " +
                              std::to_string(cell / level.cols) + ", col " + std::to_string(cell % level.cols) + ") " + why);
}

}  // namespace

YunetCandidates yunet_candidates(const std::vector<YunetLevel>& levels, float min_score) {
  YunetCandidates c;
  for (std::size_t k = 0; k < levels.size(); ++k) {
    const YunetLevel& level = levels[k];
    const std::int64_t cells = level.rows * level.cols;
    for (std::int64_t cell = 0; cell < cells; ++cell) {
      const float score = level.score[cell];
      if (!(score > min_score)) continue;
      c.level.push_back(static_cast<int>(k));
      c.cell.push_back(cell);
      c.score.push_back(score);
      const float log_w = level.box[2 * cells + cell], log_h = level.box[3 * cells + cell];
      // exp above 88 overflows float32 (numpy would warn and give inf); NaN fails the test too
      if (!(log_w <= kMaxLogSide && log_h <= kMaxLogSide)) {
        not_finite("boxes: box", level, cell, "has a log side above 88 or not finite: exp would overflow float32");
      }
      c.log_w.push_back(log_w);
      c.log_h.push_back(log_h);
    }
  }
  return c;
}

YunetFaces yunet_faces(const std::vector<YunetLevel>& levels, const YunetCandidates& candidates, const float* exp_w,
                       const float* exp_h, float nms_iou) {
  const std::size_t n = candidates.score.size();
  std::vector<float> boxes(4 * n), marks(10 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const YunetLevel& level = levels[candidates.level[i]];
    const std::int64_t cells = level.rows * level.cols, cell = candidates.cell[i];
    const double row = static_cast<double>(cell / level.cols), col = static_cast<double>(cell % level.cols);
    const double stride = level.stride;
    const float half = static_cast<float>(level.stride / 2.0);
    // numpy: (cols + dx) * stride is int64 + float32 -> float64; exp(dw) * (stride / 2.0) stays
    // float32; the corners are float64 (float64 - float32), then cast to float32.
    const double cx = (col + static_cast<double>(level.box[cell])) * stride;
    const double cy = (row + static_cast<double>(level.box[cells + cell])) * stride;
    const float half_w = exp_w[i] * half, half_h = exp_h[i] * half;
    float* b = &boxes[4 * i];
    b[0] = static_cast<float>(cx - half_w);
    b[1] = static_cast<float>(cy - half_h);
    b[2] = static_cast<float>(cx + half_w);
    b[3] = static_cast<float>(cy + half_h);
    for (int k = 0; k < 4; ++k) {
      if (!std::isfinite(b[k])) not_finite("boxes: box", level, cell, "gives a non-finite box (deltas not finite or exp overflows)");
    }
    for (int k = 0; k < 10; ++k) {
      const double base = (k % 2 == 0) ? col : row;
      const float v = static_cast<float>((base + static_cast<double>(level.marks[k * cells + cell])) * stride);
      if (!std::isfinite(v)) not_finite("marks: marks", level, cell, "holds a non-finite landmark");
      marks[10 * i + k] = v;
    }
  }
  // NMSBoxes gets (x, y, w, h) with w = x2 - x1 computed in float32 (numpy), then widened to double.
  std::vector<double> xywh(4 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const float* b = &boxes[4 * i];
    xywh[4 * i] = b[0];
    xywh[4 * i + 1] = b[1];
    xywh[4 * i + 2] = static_cast<double>(b[2] - b[0]);
    xywh[4 * i + 3] = static_cast<double>(b[3] - b[1]);
  }
  // The threshold was applied by yunet_candidates: every candidate passes a -inf threshold here.
  const std::vector<int> kept = nms_boxes(xywh, candidates.score, -std::numeric_limits<float>::infinity(), nms_iou);
  YunetFaces faces;
  faces.boxes.reserve(4 * kept.size());
  faces.scores.reserve(kept.size());
  faces.marks.reserve(10 * kept.size());
  for (int i : kept) {
    faces.boxes.insert(faces.boxes.end(), &boxes[4 * i], &boxes[4 * i] + 4);
    faces.scores.push_back(candidates.score[i]);
    faces.marks.insert(faces.marks.end(), &marks[10 * i], &marks[10 * i] + 10);
  }
  return faces;
}

YunetFaces yunet_decode(const std::vector<YunetLevel>& levels, float min_score, float nms_iou) {
  const YunetCandidates candidates = yunet_candidates(levels, min_score);
  std::vector<float> exp_w(candidates.score.size()), exp_h(candidates.score.size());
  for (std::size_t i = 0; i < exp_w.size(); ++i) {
    exp_w[i] = static_cast<float>(std::exp(static_cast<double>(candidates.log_w[i])));
    exp_h[i] = static_cast<float>(std::exp(static_cast<double>(candidates.log_h[i])));
  }
  return yunet_faces(levels, candidates, exp_w.data(), exp_h.data(), nms_iou);
}

}  // namespace facesel
