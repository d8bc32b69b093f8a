#include "facesel/region_search.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace facesel {

namespace {

// Python's max(a, b) and min(a, b): the first argument unless the second compares greater (less).
template <typename T>
T py_max(T a, T b) { return b > a ? b : a; }
template <typename T>
T py_min(T a, T b) { return b < a ? b : a; }

// Python's round() of a double: half to even (nearbyint under the default rounding mode).
std::int64_t py_round(double x) { return static_cast<std::int64_t>(std::nearbyint(x)); }

// Python's a // b for a >= 0, b > 0.
std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b; }

}  // namespace

std::vector<RegionSquare> plan_region_squares(const float* boxes, std::int64_t count, std::int64_t frame_w,
                                              std::int64_t frame_h, const RegionParams& params) {
  if (count < 0 || frame_w < 1 || frame_h < 1) {
    throw std::invalid_argument("plan_region_squares: count must be >= 0 and frame_w, frame_h >= 1, got count=" +
                                std::to_string(count) + ", frame_w=" + std::to_string(frame_w) +
                                ", frame_h=" + std::to_string(frame_h));
  }
  // The settings, as the Python binding checks them: a NaN, negative or zero one made the shrunk
  // size a cast of -6e19 (or NaN) to int64, undefined behaviour (found by fuzz/, review round 13d).
  const auto setting = [](const char* name, double value, bool ok) {
    if (ok) return;
    std::ostringstream s;  // %g-like: std::to_string would print -1e308 with 309 digits
    s << "plan_region_squares: params." << name << " out of range, got " << value;
    throw std::invalid_argument(s.str());
  };
  setting("scale (finite, > 0)", params.scale, std::isfinite(params.scale) && params.scale > 0.0);
  setting("face_px (finite, > 0)", params.face_px, std::isfinite(params.face_px) && params.face_px > 0.0);
  setting("min_px (>= 0)", static_cast<double>(params.min_px), params.min_px >= 0);
  setting("base_shrink (in (0, 1])", params.base_shrink, params.base_shrink > 0.0 && params.base_shrink <= 1.0);
  std::vector<RegionSquare> squares;
  for (std::int64_t i = 0; i < count; ++i) {
    const float* box = boxes + 4 * i;
    if (!(std::isfinite(box[0]) && std::isfinite(box[1]) && std::isfinite(box[2]) && std::isfinite(box[3]))) continue;
    // side = float(max(box[2] - box[0], box[3] - box[1])): float32 differences
    const float dx = box[2] - box[0], dy = box[3] - box[1];
    const double side = static_cast<double>(py_max(dx, dy));
    if (!std::isfinite(side) || side <= 0) continue;
    const double shrink = py_min(params.base_shrink, params.face_px / side);
    const double half = py_max(params.scale * side, static_cast<double>(params.min_px) / shrink) / 2.0;
    // cx = (box[0] + box[2]) / 2.0 stays float32 (numpy scalar with a Python float), and so do
    // cx - half and cx + half: half is rounded to float32 first.
    const float cx = (box[0] + box[2]) / 2.0f, cy = (box[1] + box[3]) / 2.0f;
    if (!std::isfinite(cx) || !std::isfinite(cy)) continue;
    const float half32 = static_cast<float>(half);
    const float left = cx - half32, top = cy - half32, right = cx + half32, bottom = cy + half32;
    // x1 = int(max(0, cx - half)), x2 = int(min(w, cx + half)): truncation toward zero. A square
    // starting at or past the frame's far edge, or ending before 8, has fewer than 8 pixels.
    const float left0 = py_max(0.0f, left), top0 = py_max(0.0f, top);
    if (!(left0 < static_cast<float>(frame_w)) || !(top0 < static_cast<float>(frame_h))) continue;
    if (!(py_min(static_cast<float>(frame_w), right) >= 8.0f) || !(py_min(static_cast<float>(frame_h), bottom) >= 8.0f)) continue;
    const std::int64_t x1 = static_cast<std::int64_t>(left0), y1 = static_cast<std::int64_t>(top0);
    const std::int64_t x2 = right < static_cast<float>(frame_w) ? static_cast<std::int64_t>(right) : frame_w;
    const std::int64_t y2 = bottom < static_cast<float>(frame_h) ? static_cast<std::int64_t>(bottom) : frame_h;
    if (x2 - x1 < 8 || y2 - y1 < 8) continue;
    RegionSquare s{};
    s.index = i;
    s.x1 = x1;
    s.y1 = y1;
    s.x2 = x2;
    s.y2 = y2;
    s.step = 0;
    if (shrink < 1.0) {
      if (params.fast) {
        // k = int(1.0 / shrink), capped where it cannot matter (a k above the side empties the square)
        const double k = std::trunc(1.0 / shrink);
        if (k >= 2.0) {
          const double longest = static_cast<double>(std::max(x2 - x1, y2 - y1));
          if (k > longest) continue;
          s.step = static_cast<std::int64_t>(k);
          s.x2 = x1 + floor_div(x2 - x1, s.step) * s.step;
          s.y2 = y1 + floor_div(y2 - y1, s.step) * s.step;
          if (s.x2 == x1 || s.y2 == y1) continue;
        }
      }
      s.width = py_max<std::int64_t>(8, py_round(static_cast<double>(s.x2 - s.x1) * shrink));
      s.height = py_max<std::int64_t>(8, py_round(static_cast<double>(s.y2 - s.y1) * shrink));
    } else {
      s.width = s.x2 - s.x1;
      s.height = s.y2 - s.y1;
    }
    s.corner[0] = static_cast<float>(s.x1);
    s.corner[1] = static_cast<float>(s.y1);
    s.back[0] = static_cast<float>(static_cast<double>(s.x2 - s.x1) / static_cast<double>(s.width));
    s.back[1] = static_cast<float>(static_cast<double>(s.y2 - s.y1) / static_cast<double>(s.height));
    squares.push_back(s);
  }
  return squares;
}

std::int64_t padded_side(std::int64_t side, std::int64_t pad_to) {
  if (side < 0 || pad_to < 1 || side > std::numeric_limits<std::int64_t>::max() - (pad_to - 1)) {
    // The last bound keeps side + padding inside int64 (an overflow, undefined behaviour, before
    // fuzz/ found it in review round 13d).
    throw std::invalid_argument("padded_side: side must be in [0, 2^63 - pad_to] and pad_to >= 1, got side=" +
                                std::to_string(side) + ", pad_to=" + std::to_string(pad_to));
  }
  return side + (pad_to - side % pad_to) % pad_to;
}

void letterbox(const std::uint8_t* src, std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
               std::int64_t col_stride, std::int64_t channel_stride, int channels, std::uint8_t* dst,
               std::int64_t dst_rows, std::int64_t dst_cols) {
  if (channels != 1 && channels != 3) throw std::invalid_argument("letterbox: channels must be 1 or 3");
  // Negative sizes passed the comparison below and made the memset's length a huge size_t (a
  // write past the buffer, found by fuzz/ in review round 13d): every size is checked first.
  const std::pair<const char*, std::int64_t> sizes[] = {{"rows", rows}, {"cols", cols}, {"dst_rows", dst_rows}, {"dst_cols", dst_cols}};
  for (const auto& [name, value] : sizes) {
    if (value < 0) throw std::invalid_argument(std::string("letterbox: ") + name + " must be >= 0, got " + std::to_string(value));
  }
  if (rows > dst_rows || cols > dst_cols) throw std::invalid_argument("letterbox: the image is larger than the buffer");
  // An empty buffer may come as a null pointer (an empty std::vector's data()): no memset then.
  if (dst_rows * dst_cols > 0) std::memset(dst, 0, static_cast<std::size_t>(dst_rows * dst_cols * 3));
  if (cols == 0) return;  // nothing to copy, and an empty image's data may be a null pointer (memcpy's UB)
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::uint8_t* in = src + r * row_stride;
    std::uint8_t* out = dst + r * dst_cols * 3;
    if (channels == 3 && col_stride == 3 && channel_stride == 1) {
      std::memcpy(out, in, static_cast<std::size_t>(cols * 3));
      continue;
    }
    for (std::int64_t c = 0; c < cols; ++c) {
      const std::uint8_t* px = in + c * col_stride;
      if (channels == 3) {
        out[3 * c] = px[0];
        out[3 * c + 1] = px[channel_stride];
        out[3 * c + 2] = px[2 * channel_stride];
      } else {
        out[3 * c] = out[3 * c + 1] = out[3 * c + 2] = px[0];
      }
    }
  }
}

namespace {

// Splits one row of packed BGR bytes into three float rows. target_clones compiles it twice (AVX2
// and the x86-64 baseline) and picks one at load time from the CPU: the loop is vectorised either
// way, and every lane does the same exact uint8 -> float conversion, so both write the same bits.
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void split_bgr_row(const std::uint8_t* __restrict in, std::int64_t cols, float* __restrict b, float* __restrict g,
                   float* __restrict r) {
  for (std::int64_t c = 0; c < cols; ++c) {
    b[c] = static_cast<float>(in[3 * c]);
    g[c] = static_cast<float>(in[3 * c + 1]);
    r[c] = static_cast<float>(in[3 * c + 2]);
  }
}

}  // namespace

void letterbox_planar(const std::uint8_t* src, std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
                      std::int64_t col_stride, std::int64_t channel_stride, int channels, float* dst,
                      std::int64_t dst_rows, std::int64_t dst_cols) {
  if (channels != 1 && channels != 3) throw std::invalid_argument("letterbox_planar: channels must be 1 or 3");
  const std::pair<const char*, std::int64_t> sizes[] = {{"rows", rows}, {"cols", cols}, {"dst_rows", dst_rows}, {"dst_cols", dst_cols}};
  for (const auto& [name, value] : sizes) {
    if (value < 0) throw std::invalid_argument(std::string("letterbox_planar: ") + name + " must be >= 0, got " + std::to_string(value));
  }
  if (rows > dst_rows || cols > dst_cols) throw std::invalid_argument("letterbox_planar: the image is larger than the buffer");
  const std::int64_t plane = dst_rows * dst_cols;
  if (plane == 0) return;  // an empty buffer may be a null pointer
  for (std::int64_t r = 0; r < rows; ++r) {
    float* b = dst + r * dst_cols;
    float* g = b + plane;
    float* red = g + plane;
    const std::uint8_t* in = src + r * row_stride;
    if (channels == 3 && col_stride == 3 && channel_stride == 1) {
      split_bgr_row(in, cols, b, g, red);
    } else {
      for (std::int64_t c = 0; c < cols; ++c) {
        const std::uint8_t* px = in + c * col_stride;
        b[c] = static_cast<float>(px[0]);
        g[c] = static_cast<float>(px[channels == 3 ? channel_stride : 0]);
        red[c] = static_cast<float>(px[channels == 3 ? 2 * channel_stride : 0]);
      }
    }
    // the padding to the right of the image, in each plane
    for (float* row : {b, g, red}) std::fill(row + cols, row + dst_cols, 0.0f);
  }
  // the rows below the image, in each plane
  for (int k = 0; k < 3; ++k) std::fill(dst + k * plane + rows * dst_cols, dst + (k + 1) * plane, 0.0f);
}

double box_iou(const double* a, const double* b) {
  // pairwise_iou: np.maximum / np.minimum (NaN propagates), np.clip(hi - lo, 0, None), products
  const auto nan_max = [](double p, double q) { return (std::isnan(p) || std::isnan(q)) ? NAN : std::max(p, q); };
  const auto nan_min = [](double p, double q) { return (std::isnan(p) || std::isnan(q)) ? NAN : std::min(p, q); };
  const double w = nan_max(nan_min(a[2], b[2]) - nan_max(a[0], b[0]), 0.0);
  const double h = nan_max(nan_min(a[3], b[3]) - nan_max(a[1], b[1]), 0.0);
  const double inter = w * h;
  const double area_a = (a[2] - a[0]) * (a[3] - a[1]);
  const double area_b = (b[2] - b[0]) * (b[3] - b[1]);
  return inter / (area_a + area_b - inter);
}

MergedFaces merge_region_faces(const std::vector<SquareFaces>& faces, const std::vector<RegionSquare>& squares,
                               const float* boxes, double nms_iou) {
  if (faces.size() != squares.size()) throw std::invalid_argument("merge_region_faces: one entry of faces per square");
  std::vector<float> picked_boxes, picked_scores, picked_marks;
  for (std::size_t s = 0; s < squares.size(); ++s) {
    const SquareFaces& found = faces[s];
    if (found.count == 0) continue;
    const RegionSquare& square = squares[s];
    const float* box = boxes + 4 * square.index;
    const double searched[4] = {box[0], box[1], box[2], box[3]};
    std::int64_t pick = -1;
    double best = 0.0;
    float pick_box[4] = {0, 0, 0, 0};
    for (std::int64_t k = 0; k < found.count; ++k) {
      float mapped[4];
      for (int c = 0; c < 4; ++c) {
        const float scaled = found.boxes[4 * k + c] * square.back[c % 2];
        mapped[c] = scaled + square.corner[c % 2];
      }
      const double wide[4] = {mapped[0], mapped[1], mapped[2], mapped[3]};
      const double overlap = box_iou(wide, searched);
      // np.argmax: the first NaN if any, else the first maximum
      if (pick >= 0 && std::isnan(best)) break;
      if (pick < 0 || std::isnan(overlap) || overlap > best) {
        pick = k;
        best = overlap;
        std::memcpy(pick_box, mapped, sizeof mapped);
      }
    }
    if (!(best > 0)) continue;
    picked_boxes.insert(picked_boxes.end(), pick_box, pick_box + 4);
    picked_scores.push_back(found.scores[pick]);
    for (int c = 0; c < 10; ++c) {
      const float scaled = found.marks[10 * pick + c] * square.back[c % 2];
      picked_marks.push_back(scaled + square.corner[c % 2]);
    }
  }
  // _nms: most confident first (stable), kept when every IoU with a kept one is <= nms_iou,
  // returned in their original (square) order.
  const std::size_t n = picked_scores.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t p, std::size_t q) { return -picked_scores[p] < -picked_scores[q]; });
  std::vector<double> wide(4 * n);
  for (std::size_t i = 0; i < 4 * n; ++i) wide[i] = picked_boxes[i];
  std::vector<std::size_t> kept;
  for (std::size_t i : order) {
    bool keep = true;
    for (std::size_t j : kept) {
      if (!(box_iou(&wide[4 * i], &wide[4 * j]) <= nms_iou)) {
        keep = false;
        break;
      }
    }
    if (keep) kept.push_back(i);
  }
  std::sort(kept.begin(), kept.end());
  MergedFaces merged;
  for (std::size_t i : kept) {
    merged.boxes.insert(merged.boxes.end(), &picked_boxes[4 * i], &picked_boxes[4 * i] + 4);
    merged.scores.push_back(picked_scores[i]);
    merged.marks.insert(merged.marks.end(), &picked_marks[10 * i], &picked_marks[10 * i] + 10);
  }
  return merged;
}

}  // namespace facesel
