// libFuzzer harness: facesel::yunet_decode (candidates, then boxes and suppression) on score, box
// and landmark maps of any values (NaN, inf, huge log sides) and any strides / thresholds, and
// facesel::nms_boxes on any boxes and scores.
// Invariants: only std::invalid_argument escapes; faces come as 4 box values, 1 score and
// 10 landmark values each; their values are finite; NMS returns distinct indices in range.
#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>
#include <vector>

#include "facesel/yunet_decode.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  facesel_fuzz::FuzzInput in(data, size);
  if (in.flag()) {
    const std::size_t n = static_cast<std::size_t>(in.in_range(0, 12));
    std::vector<double> xywh(4 * n + (in.byte() % 16 == 0 ? 1 : 0));  // a bad length now and then
    std::vector<float> scores(n);
    for (double& v : xywh) v = in.flag() ? in.any_double() : static_cast<double>(in.in_range(0, 63));
    for (float& s : scores) s = in.flag() ? in.any_float() : static_cast<float>(in.byte()) / 255.0f;
    try {
      const auto kept = facesel::nms_boxes(xywh, scores, in.any_float(), in.any_float());
      std::set<int> distinct;
      for (int k : kept) FUZZ_CHECK(k >= 0 && static_cast<std::size_t>(k) < n && distinct.insert(k).second);
    } catch (const std::invalid_argument&) {
    }
    return 0;
  }
  const int level_count = static_cast<int>(in.in_range(0, 3));
  std::vector<std::vector<float>> maps;
  std::vector<facesel::YunetLevel> levels;
  maps.reserve(3 * static_cast<std::size_t>(level_count));
  for (int k = 0; k < level_count; ++k) {
    facesel::YunetLevel level{};
    level.rows = in.in_range(0, 5);
    level.cols = in.in_range(0, 5);
    static const int strides[] = {8, 16, 32, 1, 0, -8, 1 << 30, -2147483647 - 1};
    level.stride = strides[in.byte() % 8];
    const std::size_t cells = static_cast<std::size_t>(level.rows * level.cols);
    for (std::size_t m : {std::size_t{1}, std::size_t{4}, std::size_t{10}}) {
      maps.emplace_back(m * cells);
      for (float& v : maps.back()) v = in.flag() ? in.any_float() : static_cast<float>(in.in_range(-16, 16)) / 8.0f;
    }
    level.score = maps[maps.size() - 3].data();
    level.box = maps[maps.size() - 2].data();
    level.marks = maps[maps.size() - 1].data();
    levels.push_back(level);
  }
  const float min_score = in.flag() ? in.any_float() : 0.5f;
  const float nms_iou = in.flag() ? in.any_float() : 0.3f;
  try {
    const auto faces = facesel::yunet_decode(levels, min_score, nms_iou);
    FUZZ_CHECK(faces.boxes.size() == 4 * faces.scores.size());
    FUZZ_CHECK(faces.marks.size() == 10 * faces.scores.size());
    for (float v : faces.boxes) FUZZ_CHECK(std::isfinite(v));
    for (float v : faces.marks) FUZZ_CHECK(std::isfinite(v));
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
