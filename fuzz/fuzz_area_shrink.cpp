// libFuzzer harness: area_ratio_exact on any int64 sizes; area_shrink_exact on the sizes it
// accepts and area_shrink_float on 1 <= out <= in, with any channels and row padding.
// Invariants: nothing escapes; an exact shrink of a constant image is that constant; the
// output buffer is written exactly (ASan catches any byte beyond it).
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "facesel/area_shrink.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  facesel_fuzz::FuzzInput in(data, size);
  if (in.byte() % 8 == 0) {
    (void)facesel::area_ratio_exact(in.any_i64(), in.any_i64());
    return 0;
  }
  const std::int64_t rows = in.in_range(1, 40), cols = in.in_range(1, 40);
  const std::int64_t channels = in.in_range(1, 4), pad = in.in_range(0, 3);
  const std::int64_t out_rows = in.in_range(1, rows), out_cols = in.in_range(1, cols);
  const bool constant = in.flag();
  const std::uint8_t level = in.byte();
  const std::int64_t stride = cols * channels + pad;
  std::vector<std::uint8_t> src(static_cast<std::size_t>(rows * stride));
  for (auto& b : src) b = constant ? level : in.byte();
  const facesel::PackedImage image{src.data(), rows, cols, stride, channels};
  std::vector<std::uint8_t> dst(static_cast<std::size_t>(out_rows * out_cols * channels));
  if (facesel::area_ratio_exact(rows, out_rows) && facesel::area_ratio_exact(cols, out_cols) && in.flag()) {
    facesel::area_shrink_exact(image, out_rows, out_cols, dst.data());
  } else {
    facesel::area_shrink_float(image, out_rows, out_cols, dst.data());
  }
  if (constant) {
    for (auto b : dst) FUZZ_CHECK(b == level);
  }
  return 0;
}
