// The integer area shrink (facesel/area_shrink.hpp) on hand-computed cases: each output is the
// exact area average of its source pixels (integer weights per axis), rounded to nearest.
#include <cstdint>
#include <vector>

#include "check.hpp"
#include "facesel/area_shrink.hpp"

namespace {

std::vector<std::uint8_t> shrink(const std::vector<std::uint8_t>& pixels, std::int64_t rows, std::int64_t cols,
                                 std::int64_t row_stride, std::int64_t channels, std::int64_t out_rows, std::int64_t out_cols) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(out_rows * out_cols * channels));
  facesel::area_shrink_exact(facesel::PackedImage{pixels.data(), rows, cols, row_stride, channels}, out_rows, out_cols,
                             out.data());
  return out;
}

void test_ratios() {
  CHECK(facesel::area_ratio_exact(1920, 1280) && facesel::area_ratio_exact(1080, 720), "3:2");
  CHECK(facesel::area_ratio_exact(1080, 360) && facesel::area_ratio_exact(192, 128), "3:1, a square");
  CHECK(facesel::area_ratio_exact(7, 2) && facesel::area_ratio_exact(9, 5) && facesel::area_ratio_exact(5, 5), "odd p");
  CHECK(!facesel::area_ratio_exact(1920, 960) && !facesel::area_ratio_exact(4, 3), "even p: halves possible");
  CHECK(!facesel::area_ratio_exact(11, 2) && !facesel::area_ratio_exact(245, 160), "p over 9");
  CHECK(!facesel::area_ratio_exact(4, 5) && !facesel::area_ratio_exact(0, 0) && !facesel::area_ratio_exact(3, 0), "no shrink");
}

void test_three_to_two() {
  // one channel; outputs weigh the 3 x 3 block's pixels (2, 1) x (2, 1) and mirror images, over 9
  const std::vector<std::uint8_t> grey = {0, 9, 18, 27, 36, 45, 54, 63, 72};
  const auto out = shrink(grey, 3, 3, 3, 1, 2, 2);
  CHECK(out == (std::vector<std::uint8_t>{12, 24, 48, 60}), "3:2 grey " << int(out[0]) << " " << int(out[1]) << " "
                                                                         << int(out[2]) << " " << int(out[3]));
  // three channels, rows 11 bytes apart (a padded buffer: 9 bytes a row used): channel c = grey + c
  std::vector<std::uint8_t> colour(33, 255);
  for (int r = 0; r < 3; ++r)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c) colour[r * 11 + x * 3 + c] = static_cast<std::uint8_t>(grey[r * 3 + x] + c);
  const auto rgb = shrink(colour, 3, 3, 11, 3, 2, 2);
  CHECK(rgb[0] == 12 && rgb[1] == 13 && rgb[2] == 14 && rgb[9] == 60 && rgb[11] == 62, "3:2 colour, strided rows");
}

void test_rounding() {
  // 3:1, one output over 9 pixels: 13 / 9 = 1.44 -> 1, 14 / 9 = 1.56 -> 2, 255 stays 255
  std::vector<std::uint8_t> block(9, 0);
  block[0] = 13;
  CHECK(shrink(block, 3, 3, 3, 1, 1, 1)[0] == 1, "13 / 9");
  block[0] = 14;
  CHECK(shrink(block, 3, 3, 3, 1, 1, 1)[0] == 2, "14 / 9");
  CHECK(shrink(std::vector<std::uint8_t>(9, 255), 3, 3, 3, 1, 1, 1)[0] == 255, "white");
}

void test_general_ratio() {
  // 5:3 along a row (rows 1:1): cells of 5/3 pixel; in thirds of a pixel the weights are
  // (3, 2), (1, 3, 1), (2, 3), each over 5
  const std::vector<std::uint8_t> row = {10, 20, 30, 40, 50};
  const auto out = shrink(row, 1, 5, 5, 1, 1, 3);
  CHECK(out == (std::vector<std::uint8_t>{14, 30, 46}), "5:3 " << int(out[0]) << " " << int(out[1]) << " " << int(out[2]));
}

}  // namespace

int main() {
  test_ratios();
  test_three_to_two();
  test_rounding();
  test_general_ratio();
  return facesel_test::finish("test_area_shrink");
}
