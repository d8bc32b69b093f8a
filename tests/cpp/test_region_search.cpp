// The region search's planning, padding and merging (facesel/region_search.hpp) on hand-made
// cases whose answers follow from search_regions' rules.
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "check.hpp"
#include "facesel/region_search.hpp"

namespace {

facesel::RegionParams params(bool fast = false) { return facesel::RegionParams{2.5, 64.0, 128, 1.0, fast}; }

void test_plan() {
  // a 40-pixel face at (100..140, 200..240) of a 1920x1080 frame: no shrink (64 / 40 > 1), a
  // square of max(2.5 * 40, 128) = 128 pixels centred on (120, 220)
  const std::vector<float> boxes = {100, 200, 140, 240};
  auto squares = facesel::plan_region_squares(boxes.data(), 1, 1920, 1080, params());
  CHECK(squares.size() == 1, "one square");
  const auto& s = squares[0];
  CHECK(s.x1 == 56 && s.y1 == 156 && s.x2 == 184 && s.y2 == 284, "square " << s.x1 << " " << s.y1 << " " << s.x2 << " " << s.y2);
  CHECK(s.width == 128 && s.height == 128 && s.step == 0 && s.back[0] == 1.f && s.corner[0] == 56.f, "no shrink");
  // a 256-pixel face: shrunk by 64 / 256 = 0.25 to a 160-pixel square (2.5 * 256 = 640 frame pixels)
  const std::vector<float> big = {600, 200, 856, 456};
  squares = facesel::plan_region_squares(big.data(), 1, 1920, 1080, params());
  CHECK(squares.size() == 1 && squares[0].width == 160 && squares[0].x2 - squares[0].x1 == 640, "shrunk square");
  CHECK(squares[0].back[0] == 4.f, "back " << squares[0].back[0]);
  // the fast path: a whole factor of 4, the trimmed square a multiple of it
  squares = facesel::plan_region_squares(big.data(), 1, 1920, 1080, params(true));
  CHECK(squares.size() == 1 && squares[0].step == 4 && (squares[0].x2 - squares[0].x1) % 4 == 0, "fast step");
  // clipped by the frame: a face at the left edge starts at 0
  const std::vector<float> edge = {-10, 500, 30, 540};
  squares = facesel::plan_region_squares(edge.data(), 1, 1920, 1080, params());
  CHECK(squares.size() == 1 && squares[0].x1 == 0 && squares[0].x2 == 74, "edge " << squares[0].x2);
  // no square: non-finite, empty, outside the frame
  const std::vector<float> none = {NAN, 0, 10, 10, 5, 5, 5, 5, 5000, 5000, 5040, 5040, -500, -500, -460, -460};
  CHECK(facesel::plan_region_squares(none.data(), 4, 1920, 1080, params()).empty(), "no squares");
  CHECK_THROWS(facesel::plan_region_squares(boxes.data(), 1, 0, 1080, params()), std::invalid_argument);
  // Review round 13d (the ctest fuzz replay under gcc's float-cast-overflow): settings outside their
  // ranges cast a shrunk size of -6e19 or NaN to int64 (undefined behaviour); now refused, named.
  const double nan = std::nan("");
  for (const facesel::RegionParams& bad : {facesel::RegionParams{nan, 64.0, 128, 1.0, false},
                                           facesel::RegionParams{-2.5, 64.0, 128, 1.0, false},
                                           facesel::RegionParams{2.5, -64.0, 128, 1.0, false},
                                           facesel::RegionParams{2.5, nan, 128, 1.0, false},
                                           facesel::RegionParams{2.5, 64.0, -1, 1.0, false},
                                           facesel::RegionParams{2.5, 64.0, 128, 0.0, true},
                                           facesel::RegionParams{2.5, 64.0, 128, 1.5, true}}) {
    CHECK_THROWS(facesel::plan_region_squares(boxes.data(), 1, 1920, 1080, bad), std::invalid_argument);
  }
}

void test_letterbox() {
  const std::vector<std::uint8_t> grey = {1, 2, 3, 4, 5, 6};  // 2 x 3
  std::vector<std::uint8_t> out(4 * 4 * 3, 99);
  facesel::letterbox(grey.data(), 2, 3, 3, 1, 0, 1, out.data(), 4, 4);
  CHECK(out[0] == 1 && out[1] == 1 && out[2] == 1 && out[3 * 2] == 3 && out[3 * 3] == 0, "grey replicated, padding zero");
  CHECK(out[4 * 3] == 4 && out[4 * 3 * 3 + 11] == 0, "second row, last pixel zero");
  CHECK(facesel::padded_side(33, 32) == 64 && facesel::padded_side(32, 32) == 32 && facesel::padded_side(0, 32) == 0, "pad");
  CHECK_THROWS(facesel::letterbox(grey.data(), 2, 3, 3, 1, 0, 1, out.data(), 1, 4), std::invalid_argument);
  // Review round 13d (fuzz/corpus/region_search/regress-padded-side-overflow): a side within pad_to
  // of int64's maximum overflowed (undefined behaviour); now refused, the largest side that fits is padded.
  const std::int64_t top = std::numeric_limits<std::int64_t>::max();
  CHECK_THROWS(facesel::padded_side(top, 2), std::invalid_argument);
  CHECK_THROWS(facesel::padded_side(top - 30, 32), std::invalid_argument);
  // 2^63 - 2 and 2^63 - 32 are already multiples of 2 and 32; 2^63 - 33 pads up to 2^63 - 32.
  CHECK(facesel::padded_side(top - 1, 2) == top - 1 && facesel::padded_side(top - 31, 32) == top - 31 &&
            facesel::padded_side(top - 32, 32) == top - 31,
        "the largest sides that fit");
  CHECK(facesel::padded_side(top, 1) == top, "pad_to 1 never pads");
  // Review round 13d (fuzz/corpus/region_search/regress-letterbox-negative-size): a negative buffer
  // size passed `rows > dst_rows` and zeroed 2^64 - 15 bytes (a segmentation fault); now refused.
  CHECK_THROWS(facesel::letterbox(grey.data(), -1, 0, 0, 1, 0, 1, out.data(), -1, 5), std::invalid_argument);
  CHECK_THROWS(facesel::letterbox(grey.data(), -2, 3, 3, 1, 0, 1, out.data(), 4, 4), std::invalid_argument);
  CHECK_THROWS(facesel::letterbox(grey.data(), 0, -1, 0, 1, 0, 1, out.data(), 4, -1), std::invalid_argument);
  facesel::letterbox(grey.data(), 0, 0, 0, 1, 0, 1, nullptr, 0, 0);  // an empty buffer: nothing to write
}

void test_merge() {
  // two boxes searched; square 0 finds two faces (the one over its box is kept), square 1 finds the
  // same face as square 0 with a lower score: suppressed across squares
  const std::vector<float> boxes = {100, 100, 140, 140, 104, 100, 144, 140};
  auto squares = facesel::plan_region_squares(boxes.data(), 2, 1920, 1080, params());
  CHECK(squares.size() == 2, "two squares");
  const float x0 = squares[0].corner[0], y0 = squares[0].corner[1];
  const std::vector<float> b0 = {0, 0, 20, 20, 100 - x0, 100 - y0, 140 - x0, 140 - y0};
  const std::vector<float> s0 = {0.99f, 0.8f};
  const std::vector<float> m0(20, 1.f);
  const float x1 = squares[1].corner[0], y1 = squares[1].corner[1];
  const std::vector<float> b1 = {101 - x1, 100 - y1, 141 - x1, 140 - y1};
  const std::vector<float> s1 = {0.7f};
  const std::vector<float> m1(10, 2.f);
  const auto merged = facesel::merge_region_faces({{b0.data(), s0.data(), m0.data(), 2}, {b1.data(), s1.data(), m1.data(), 1}},
                                                  squares, boxes.data(), 0.5);
  CHECK(merged.scores.size() == 1 && merged.scores[0] == 0.8f, "kept " << merged.scores.size());
  CHECK(merged.boxes.size() == 4 && merged.boxes[0] == 100.f && merged.boxes[3] == 140.f, "mapped back");
  CHECK(merged.marks.size() == 10 && merged.marks[0] == 1.f + x0 && merged.marks[1] == 1.f + y0, "landmarks mapped back");
  // nms_iou = 1 keeps both
  const auto both = facesel::merge_region_faces({{b0.data(), s0.data(), m0.data(), 2}, {b1.data(), s1.data(), m1.data(), 1}},
                                                squares, boxes.data(), 1.0);
  CHECK(both.scores.size() == 2, "both kept");
  // a square whose faces miss its box gives nothing
  const auto missed = facesel::merge_region_faces({{b0.data(), s0.data(), m0.data(), 1}, {b1.data(), s1.data(), m1.data(), 0}},
                                                  squares, boxes.data(), 0.5);
  CHECK(missed.scores.empty(), "no overlap, no face");
  CHECK_THROWS(facesel::merge_region_faces({}, squares, boxes.data(), 0.5), std::invalid_argument);
}

void test_iou() {
  const double a[4] = {0, 0, 10, 10}, b[4] = {5, 0, 15, 10}, c[4] = {20, 20, 30, 30};
  CHECK(facesel::box_iou(a, b) == 50.0 / 150.0, "1/3");
  CHECK(facesel::box_iou(a, c) == 0.0, "disjoint");
  const double flat[4] = {1, 1, 1, 1};
  CHECK(std::isnan(facesel::box_iou(flat, flat)), "0 / 0");
}

}  // namespace

int main() {
  test_plan();
  test_letterbox();
  test_merge();
  test_iou();
  return facesel_test::finish("test_region_search");
}
