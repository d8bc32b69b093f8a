#include "facesel/gaussian_ll.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "facesel/detail/gaussian_ll_math.hpp"

// On x86-64 with GCC or Clang, the hot loop is compiled twice, for the baseline (SSE2) and for
// x86-64-v3 (AVX2 + FMA), and the loader picks the best one for the CPU (ifunc): the wheel stays
// portable and a modern CPU gets 256-bit vectors.
#if defined(__x86_64__) && defined(__GNUC__) && defined(__has_attribute) && !defined(__APPLE__)
#if __has_attribute(target_clones)
#define FACESEL_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
#endif
#ifndef FACESEL_SIMD_CLONES
#define FACESEL_SIMD_CLONES
#endif

namespace facesel {

namespace {

// Sums over one latent sample's d pixels: sum log_sigma and sum z^2 (see gaussian_ll_math.hpp).
// `omp simd` (with -fopenmp-simd, no OpenMP runtime) allows the reordered double reduction and
// -fno-trapping-math lets the clamps in exp_fast become vector selects (cpp/CMakeLists.txt).
FACESEL_SIMD_CLONES
void fast_sums(const float* x, const float* mu, const float* log_sigma, std::int64_t d, double* sum_log_sigma,
               double* sum_sq) {
  double s_ls = 0.0, s_sq = 0.0;
#pragma omp simd reduction(+ : s_ls, s_sq)
  for (std::int64_t i = 0; i < d; ++i) {
    s_ls += static_cast<double>(log_sigma[i]);
    s_sq += detail::squared_residual_fast(x[i], mu[i], log_sigma[i]);
  }
  *sum_log_sigma = s_ls;
  *sum_sq = s_sq;
}

// A separate integer pass (it vectorises, and a mixed int/double reduction does not); the sample
// is then in L1 cache for the main loop.
bool all_in_fast_range(const float* log_sigma, std::int64_t d) {
  int outside = 0;
  for (std::int64_t i = 0; i < d; ++i) {
    outside |= static_cast<int>(log_sigma[i] < -detail::kFastLogSigmaLimit) |
               static_cast<int>(log_sigma[i] > detail::kFastLogSigmaLimit);
  }
  return outside == 0;
}

constexpr double kNotFinite = std::numeric_limits<double>::quiet_NaN();

// One sample's log-likelihood, or NaN when one of its values is not finite (the caller then names
// it). Finite values never give NaN. The check costs nothing per pixel on the fast path: with
// |log_sigma| <= 80 and finite x and mu, sum_sq stays below ~1e150 per pixel, so a non-finite sum
// means a non-finite value (a NaN log_sigma passes all_in_fast_range and makes the sums NaN too).
// Without it an infinite mu or log_sigma in one sample made that sample's likelihood -inf, which the
// log-sum-exp drops as "likelihood 0": a finite, wrong result (ux23).
double sample_ll(const float* x, const float* mu, const float* log_sigma, std::int64_t d) {
  if (all_in_fast_range(log_sigma, d)) {
    double sum_log_sigma = 0.0, sum_sq = 0.0;
    fast_sums(x, mu, log_sigma, d, &sum_log_sigma, &sum_sq);
    if (!std::isfinite(sum_log_sigma) || !std::isfinite(sum_sq)) return kNotFinite;
    return detail::sample_log_likelihood(d, sum_log_sigma, sum_sq);
  }
  double exact = 0.0;  // log_sigma beyond +-80: all in double, slower but never inf
  for (std::int64_t i = 0; i < d; ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(mu[i]) || !std::isfinite(log_sigma[i])) return kNotFinite;
    exact += detail::gaussian_log_pdf(x[i], mu[i], log_sigma[i]);
  }
  return exact;
}

void rows(const float* x, const float* mu, const float* log_sigma, std::int64_t begin, std::int64_t end,
          std::int64_t l, std::int64_t d, double* out) {
  const double log_l = std::log(static_cast<double>(l));
  for (std::int64_t row = begin; row < end; ++row) {
    detail::LogSumExp acc = detail::lse_init();
    for (std::int64_t s = 0; s < l; ++s) {
      const std::int64_t offset = (row * l + s) * d;
      const double ll = sample_ll(x + row * d, mu + offset, log_sigma + offset, d);
      if (std::isnan(ll)) {  // a value that is not finite: marked, named by the calling thread
        acc.scaled_sum = kNotFinite;
        break;
      }
      acc = detail::lse_push(acc, ll);
    }
    out[row] = std::isnan(acc.scaled_sum) ? kNotFinite : detail::lse_value(acc) - log_l;
  }
}

// The first value of the arrays that is not finite, as "mu must be finite, got inf at [row, sample,
// pixel]"; called on a row whose result was marked NaN, so one is there.
std::string first_not_finite(const float* x, const float* mu, const float* log_sigma, std::int64_t row,
                             std::int64_t l, std::int64_t d) {
  auto describe = [](const char* name, float value, const std::string& where) {
    std::ostringstream os;
    os << name << " must be finite, got " << value << " at " << where;
    return os.str();
  };
  for (std::int64_t i = 0; i < d; ++i) {
    const float v = x[row * d + i];
    if (!std::isfinite(v)) return describe("x", v, "[" + std::to_string(row) + ", " + std::to_string(i) + "]");
  }
  for (std::int64_t s = 0; s < l; ++s) {
    for (std::int64_t i = 0; i < d; ++i) {
      const std::int64_t k = (row * l + s) * d + i;
      const std::string where = "[" + std::to_string(row) + ", " + std::to_string(s) + ", " + std::to_string(i) + "]";
      if (!std::isfinite(mu[k])) return describe("mu", mu[k], where);
      if (!std::isfinite(log_sigma[k])) return describe("log_sigma", log_sigma[k], where);
    }
  }
  return "row " + std::to_string(row) + " gave NaN from finite values (a bug: please report it)";
}

void run_threads(const float* x, const float* mu, const float* log_sigma, std::int64_t n, std::int64_t l,
                 std::int64_t d, double* out, std::int64_t workers) {
  // Contiguous blocks of rows, one per thread: each row's result depends on that row only, so
  // the output is the same for any thread count.
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(workers - 1));
  const std::int64_t per = (n + workers - 1) / workers;
  for (std::int64_t w = 1; w < workers; ++w) {
    const std::int64_t begin = w * per, end = std::min(n, begin + per);
    if (begin < end) pool.emplace_back(rows, x, mu, log_sigma, begin, end, l, d, out);
  }
  rows(x, mu, log_sigma, 0, std::min(n, per), l, d, out);
  for (std::thread& t : pool) t.join();
}

}  // namespace

void gaussian_log_rp(const float* x, const float* mu, const float* log_sigma, std::int64_t n, std::int64_t l,
                     std::int64_t d, double* out, int threads) {
  if (threads < 1) throw std::invalid_argument("threads must be >= 1, got " + std::to_string(threads));
  // The sizes are checked here too (not only at the Python binding): l = 0 gave -nan and a
  // negative n returned as if nothing was asked, and a null buffer with rows to read crashed (ux22).
  if (n < 0) throw std::invalid_argument("n must be >= 0, got " + std::to_string(n));
  if (l < 1) throw std::invalid_argument("l must be >= 1, got " + std::to_string(l));
  if (d < 1) throw std::invalid_argument("d must be >= 1, got " + std::to_string(d));
  if (n > 0) {
    const char* null_name = x == nullptr ? "x" : mu == nullptr ? "mu" : log_sigma == nullptr ? "log_sigma" : out == nullptr ? "out" : nullptr;
    if (null_name != nullptr) {
      throw std::invalid_argument(std::string(null_name) + " must not be a null pointer when n > 0, got nullptr with n = " + std::to_string(n));
    }
  }
  const std::int64_t workers = std::min<std::int64_t>(threads, n);
  if (workers <= 1) {
    rows(x, mu, log_sigma, 0, n, l, d, out);
  } else {
    run_threads(x, mu, log_sigma, n, l, d, out, workers);
  }
  // The workers only mark a row with a value that is not finite (NaN: finite values never give
  // it); this thread names the value, so no exception crosses a std::thread (which would abort).
  for (std::int64_t row = 0; row < n; ++row) {
    if (std::isnan(out[row])) throw std::invalid_argument(first_not_finite(x, mu, log_sigma, row, l, d));
  }
}

}  // namespace facesel
