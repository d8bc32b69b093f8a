#include "facesel/gaussian_ll.hpp"

#include <cmath>

#include "facesel/detail/gaussian_ll_math.hpp"

namespace facesel {

void gaussian_log_rp(const float* x, const float* mu, const float* log_sigma, std::int64_t n,
                     std::int64_t l, std::int64_t d, double* out) {
  const double log_l = std::log(static_cast<double>(l));
  for (std::int64_t row = 0; row < n; ++row) {
    const float* xr = x + row * d;
    detail::LogSumExp acc = detail::lse_init();
    for (std::int64_t s = 0; s < l; ++s) {
      const float* m = mu + (row * l + s) * d;
      const float* ls = log_sigma + (row * l + s) * d;
      double sample_ll = 0.0;
      for (std::int64_t i = 0; i < d; ++i) sample_ll += detail::gaussian_log_pdf(xr[i], m[i], ls[i]);
      acc = detail::lse_push(acc, sample_ll);
    }
    out[row] = detail::lse_value(acc) - log_l;
  }
}

}  // namespace facesel
