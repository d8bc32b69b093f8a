// gaussian_log_rp against a plain double-precision evaluation of the same formula.
#include <algorithm>
#include <cmath>
#include <random>
#include <limits>
#include <string>
#include <vector>

#include "check.hpp"
#include "facesel/detail/gaussian_ll_math.hpp"
#include "facesel/gaussian_ll.hpp"

namespace {

double reference(const float* x, const float* mu, const float* ls, long l, long d) {
  std::vector<double> per_sample(l);
  double best = -INFINITY;
  for (long s = 0; s < l; ++s) {
    double acc = 0.0;
    for (long i = 0; i < d; ++i) {
      const double z = (double(x[i]) - double(mu[s * d + i])) * std::exp(-double(ls[s * d + i]));
      acc += -0.91893853320467274178 - double(ls[s * d + i]) - 0.5 * z * z;
    }
    per_sample[s] = acc;
    best = std::max(best, acc);
  }
  double sum = 0.0;
  for (double v : per_sample) sum += std::exp(v - best);
  return best + std::log(sum) - std::log(double(l));
}

void check_against_reference(long n, long l, long d, float ls_lo, float ls_hi, int threads, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f), sig(ls_lo, ls_hi);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  std::vector<float> x(n * d), mu(n * l * d), ls(n * l * d);
  for (auto& v : x) v = unit(gen);
  for (long r = 0; r < n; ++r)
    for (long k = 0; k < l * d; ++k) mu[r * l * d + k] = x[r * d + k % d] + noise(gen);
  for (auto& v : ls) v = sig(gen);
  std::vector<double> out(n);
  facesel::gaussian_log_rp(x.data(), mu.data(), ls.data(), n, l, d, out.data(), threads);
  for (long r = 0; r < n; ++r) {
    const double want = reference(&x[r * d], &mu[r * l * d], &ls[r * l * d], l, d);
    CHECK(std::isfinite(out[r]), "row " << r << " is " << out[r]);
    CHECK(std::abs(out[r] - want) <= 1e-6 * std::abs(want),
          "n=" << n << " l=" << l << " d=" << d << " row " << r << ": got " << out[r] << ", want " << want);
  }
}

// exp_fast against the library exp over its whole range.
void check_exp_fast() {
  double worst = 0.0;
  for (int k = -800000; k <= 800000; ++k) {
    const float v = 1e-4f * float(k);
    const double want = std::exp(double(v));
    worst = std::max(worst, std::abs(double(facesel::detail::exp_fast(v)) - want) / want);
  }
  CHECK(worst < 3e-7, "exp_fast worst relative error " << worst);
}

// The per-element form the CUDA kernel uses (squared_residual, which picks the fast or the double
// path per pixel), summed on the host: the kernel's math without a GPU.
void check_kernel_math(float ls_lo, float ls_hi, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f), sig(ls_lo, ls_hi);
  const long d = 4096;
  double sum_ls = 0.0, sum_sq = 0.0, want = 0.0;
  for (long i = 0; i < d; ++i) {
    const float x = unit(gen), mu = x + 0.05f * (unit(gen) - 0.5f), ls = sig(gen);
    sum_ls += ls;
    sum_sq += facesel::detail::squared_residual(x, mu, ls);
    want += facesel::detail::gaussian_log_pdf(x, mu, ls);
  }
  const double got = facesel::detail::sample_log_likelihood(d, sum_ls, sum_sq);
  CHECK(std::isfinite(got) && std::abs(got - want) <= 1e-6 * std::abs(want),
        "kernel math, log_sigma in [" << ls_lo << ", " << ls_hi << "]: " << got << " vs " << want);
}

}  // namespace

// Values that are not finite are refused, naming the array and the index (ux23): before, a NaN
// gave NaN out against the header's "Never NaN", and an infinite mu or log_sigma in one latent
// sample made that sample's likelihood -inf, dropped by the log-sum-exp: a finite, wrong result.
void check_values_not_finite() {
  const long n = 6, l = 2, d = 8;
  std::vector<float> x(n * d, 0.5f), mu(n * l * d, 0.4f), ls(n * l * d, -1.0f);
  std::vector<double> out(n);
  facesel::gaussian_log_rp(x.data(), mu.data(), ls.data(), n, l, d, out.data(), 1);
  for (double v : out) CHECK(std::isfinite(v), "finite values give a finite result, got " << v);
  struct Case {
    std::vector<float>* array;
    long index;
    float value;
    const char* expect;
  };
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const Case cases[] = {
      {&x, 4 * d + 3, nan, "x must be finite, got nan at [4, 3]"},
      {&mu, (5 * l + 1) * d + 2, inf, "mu must be finite, got inf at [5, 1, 2]"},         // fast path
      {&ls, (3 * l + 1) * d + 7, inf, "log_sigma must be finite, got inf at [3, 1, 7]"},  // exact path
      {&ls, (1 * l + 0) * d + 0, -inf, "log_sigma must be finite, got -inf at [1, 0, 0]"},
      {&ls, (2 * l + 1) * d + 5, nan, "log_sigma must be finite, got nan at [2, 1, 5]"},
  };
  for (const Case& c : cases) {
    for (int threads : {1, 4}) {  // a worker thread marks the row; the caller's thread throws
      const float kept = (*c.array)[c.index];
      (*c.array)[c.index] = c.value;
      std::string what = "(no exception)";
      try {
        facesel::gaussian_log_rp(x.data(), mu.data(), ls.data(), n, l, d, out.data(), threads);
      } catch (const std::invalid_argument& e) {
        what = e.what();
      }
      CHECK(what == c.expect, "threads " << threads << ": expected '" << c.expect << "', got '" << what << "'");
      (*c.array)[c.index] = kept;
    }
  }
}

int main() {
  check_exp_fast();
  check_kernel_math(-7.0f, 3.0f, 1);
  check_kernel_math(-120.0f, 120.0f, 2);
  for (long l : {1L, 10L, 20L}) check_against_reference(3, l, 4096, -7.0f, 3.0f, 1, 10 + l);
  check_against_reference(5, 4, 37, -7.0f, 3.0f, 3, 7);        // odd D (vector tails), 3 threads
  check_against_reference(2, 3, 64, -100.0f, 100.0f, 1, 8);     // outside the fast range: double fallback
  // threads must not change the result at all.
  std::vector<float> x(6 * 8, 0.5f), mu(6 * 2 * 8), ls(6 * 2 * 8);
  for (std::size_t i = 0; i < mu.size(); ++i) {
    mu[i] = 0.01f * float(i % 13);
    ls[i] = -1.0f + 0.1f * float(i % 7);
  }
  std::vector<double> one(6), four(6);
  facesel::gaussian_log_rp(x.data(), mu.data(), ls.data(), 6, 2, 8, one.data(), 1);
  facesel::gaussian_log_rp(x.data(), mu.data(), ls.data(), 6, 2, 8, four.data(), 4);
  CHECK(one == four, "threads=4 differs from threads=1");
  CHECK_THROWS(facesel::gaussian_log_rp(x.data(), mu.data(), ls.data(), 6, 2, 8, one.data(), 0), std::invalid_argument);
  // Bad sizes and null buffers are refused at the C++ API too (ux22: l = 0 gave -nan, a null
  // buffer crashed); n = 0 with null buffers is an empty batch, not an error.
  CHECK_THROWS(facesel::gaussian_log_rp(x.data(), mu.data(), ls.data(), -1, 2, 8, one.data(), 1), std::invalid_argument);
  CHECK_THROWS(facesel::gaussian_log_rp(x.data(), mu.data(), ls.data(), 6, 0, 8, one.data(), 1), std::invalid_argument);
  CHECK_THROWS(facesel::gaussian_log_rp(x.data(), mu.data(), ls.data(), 6, 2, 0, one.data(), 1), std::invalid_argument);
  CHECK_THROWS(facesel::gaussian_log_rp(x.data(), nullptr, ls.data(), 6, 2, 8, one.data(), 1), std::invalid_argument);
  CHECK_THROWS(facesel::gaussian_log_rp(x.data(), mu.data(), ls.data(), 6, 2, 8, nullptr, 1), std::invalid_argument);
  facesel::gaussian_log_rp(nullptr, nullptr, nullptr, 0, 2, 8, nullptr, 1);
  check_values_not_finite();
  return facesel_test::finish("test_gaussian_ll");
}
