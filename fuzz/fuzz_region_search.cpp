// libFuzzer harness: the region search's bookkeeping. plan_region_squares on any boxes (NaN, inf,
// inverted, huge), frame sizes and settings; padded_side on any sizes; letterbox within its
// contract (strides of a real layout) on any sizes; merge_region_faces on the planned squares
// with faces of any values.
// Invariants: only std::invalid_argument escapes; every square lies inside the frame with
// at least 8 pixels a side and a shrunk size >= 1; merged faces come 4 + 1 + 10 values each.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "facesel/region_search.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  facesel_fuzz::FuzzInput in(data, size);
  const int mode = in.byte() % 4;
  if (mode == 0) {
    try {
      const std::int64_t side = in.any_i64(), pad = in.any_i64();
      const std::int64_t got = facesel::padded_side(side, pad);
      FUZZ_CHECK(got >= side && got % pad == 0);
    } catch (const std::invalid_argument&) {
    }
    return 0;
  }
  if (mode == 1) {
    const std::int64_t rows = in.in_range(-1, 6), cols = in.in_range(-1, 6);
    const int channels = static_cast<int>(in.in_range(0, 4));
    const std::int64_t dst_rows = in.in_range(-1, 8), dst_cols = in.in_range(-1, 8);
    const std::int64_t c = std::max(channels, 1);
    std::vector<std::uint8_t> src(static_cast<std::size_t>(std::max<std::int64_t>(rows, 0) * std::max<std::int64_t>(cols, 0) * c));
    for (auto& b : src) b = in.byte();
    std::vector<std::uint8_t> dst(static_cast<std::size_t>(std::max<std::int64_t>(dst_rows, 0) * std::max<std::int64_t>(dst_cols, 0) * 3));
    try {
      facesel::letterbox(src.data(), rows, cols, std::max<std::int64_t>(cols, 0) * c, c, 1, channels, dst.data(), dst_rows, dst_cols);
    } catch (const std::invalid_argument&) {
    }
    return 0;
  }
  const std::int64_t count = in.in_range(-1, 6);
  std::vector<float> boxes(static_cast<std::size_t>(std::max<std::int64_t>(count, 0)) * 4);
  for (float& v : boxes) v = in.flag() ? in.any_float() : static_cast<float>(in.in_range(-16, 400));
  const std::int64_t frame_w = in.flag() ? in.any_i64() : in.in_range(0, 512);
  const std::int64_t frame_h = in.flag() ? in.any_i64() : in.in_range(0, 512);
  facesel::RegionParams params{};
  params.scale = in.flag() ? in.any_double() : 3.0;
  params.face_px = in.flag() ? in.any_double() : 32.0;
  params.min_px = in.flag() ? in.any_i64() : 64;
  params.base_shrink = in.flag() ? in.any_double() : 0.5;
  params.fast = in.flag();
  std::vector<facesel::RegionSquare> squares;
  try {
    squares = facesel::plan_region_squares(boxes.data(), count, frame_w, frame_h, params);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  for (const auto& s : squares) {
    FUZZ_CHECK(s.index >= 0 && s.index < count);
    FUZZ_CHECK(0 <= s.x1 && s.x1 < s.x2 && s.x2 <= frame_w && 0 <= s.y1 && s.y1 < s.y2 && s.y2 <= frame_h);
    FUZZ_CHECK(s.width >= 1 && s.height >= 1);
  }
  std::vector<std::vector<float>> store;
  std::vector<facesel::SquareFaces> faces;
  for (std::size_t i = 0; i < squares.size(); ++i) {
    const std::int64_t k = in.in_range(0, 3);
    store.emplace_back(static_cast<std::size_t>(15 * k));
    for (float& v : store.back()) v = in.flag() ? in.any_float() : static_cast<float>(in.in_range(0, 64));
    const float* base = store.back().data();
    faces.push_back({base, base + 4 * k, base + 5 * k, k});
  }
  try {
    const auto merged = facesel::merge_region_faces(faces, squares, boxes.data(), in.any_double());
    FUZZ_CHECK(merged.boxes.size() == 4 * merged.scores.size() && merged.marks.size() == 10 * merged.scores.size());
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
