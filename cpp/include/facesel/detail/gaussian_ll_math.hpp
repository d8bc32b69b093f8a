// The per-element and per-sample math of the Gaussian log reconstruction probability, written once
// for the CPU implementation (cpp/src/gaussian_ll.cpp) and the CUDA kernel (cuda/gaussian_ll.cu).
#pragma once
#include <cmath>

#include "facesel/detail/hd.hpp"

namespace facesel {
namespace detail {

// 0.5 * log(2 * pi)
constexpr double kHalfLog2Pi = 0.91893853320467274178;

// log N(x | mu, exp(log_sigma)) for one pixel, in double: with log_sigma = -7 the standardised
// residual reaches ~1e3 and its square ~1e6 per pixel, summed over 4096 pixels; float would lose
// the digits that separate two crops' scores.
FACESEL_HD double gaussian_log_pdf(float x, float mu, float log_sigma) {
  const double z = (static_cast<double>(x) - static_cast<double>(mu)) * std::exp(-static_cast<double>(log_sigma));
  return -kHalfLog2Pi - static_cast<double>(log_sigma) - 0.5 * z * z;
}

// Streaming log-sum-exp: keeps (max, sum of exp(v - max)) so that the L sample log-likelihoods,
// which are large negative numbers (around -1e4 for D = 4096), never underflow exp().
struct LogSumExp {
  double max_value;
  double scaled_sum;
};

FACESEL_HD LogSumExp lse_init() { return LogSumExp{-INFINITY, 0.0}; }

FACESEL_HD LogSumExp lse_push(LogSumExp acc, double v) {
  if (v > acc.max_value) {
    acc.scaled_sum = acc.scaled_sum * std::exp(acc.max_value - v) + 1.0;
    acc.max_value = v;
  } else {
    acc.scaled_sum += std::exp(v - acc.max_value);
  }
  return acc;
}

FACESEL_HD double lse_value(LogSumExp acc) { return acc.max_value + std::log(acc.scaled_sum); }

}  // namespace detail
}  // namespace facesel
