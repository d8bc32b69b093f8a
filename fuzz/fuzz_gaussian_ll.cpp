// libFuzzer harness: facesel::gaussian_log_rp with any sizes, thread counts, null pointers and values.
// Invariants: only std::invalid_argument escapes; finite inputs never give NaN.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "facesel/gaussian_ll.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  facesel_fuzz::FuzzInput in(data, size);
  const std::int64_t n = in.in_range(-2, 5), l = in.in_range(-1, 4), d = in.in_range(-1, 12);
  const int threads = static_cast<int>(in.in_range(-1, 3));
  const int null_one = static_cast<int>(in.in_range(0, 7));  // 0..2: that pointer is null
  const std::size_t nd = static_cast<std::size_t>(std::max<std::int64_t>(n, 0) * std::max<std::int64_t>(d, 0));
  const std::size_t nld = nd * static_cast<std::size_t>(std::max<std::int64_t>(l, 0));
  std::vector<float> x(nd), mu(nld), ls(nld);
  bool finite = true;
  for (auto* v : {&x, &mu, &ls}) {
    for (float& f : *v) {
      f = in.any_float();
      finite = finite && std::isfinite(f);
    }
  }
  std::vector<double> out(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)) + 1, 0.0);
  try {
    facesel::gaussian_log_rp(null_one == 0 ? nullptr : x.data(), null_one == 1 ? nullptr : mu.data(),
                             null_one == 2 ? nullptr : ls.data(), n, l, d, out.data(), threads);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  if (finite) {
    for (std::int64_t i = 0; i < n; ++i) FUZZ_CHECK(!std::isnan(out[static_cast<std::size_t>(i)]));
  }
  return 0;
}
