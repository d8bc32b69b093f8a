// The per-element and per-sample math of the Gaussian log reconstruction probability, written once
// for the CPU implementation (cpp/src/gaussian_ll.cpp) and the CUDA kernel (cuda/gaussian_ll.cu).
//
// For one latent sample l of one input:
//   sum_i log N(x_i | mu_i, exp(s_i)) = -D log sqrt(2 pi) - sum_i s_i - 1/2 sum_i z_i^2,
//   z_i = (x_i - mu_i) exp(-s_i).
// The two sums are accumulated in double; only exp(-s_i) is computed in float (exp_fast below),
// which is what makes the loop vectorise: a double exp per pixel would dominate the time.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "facesel/detail/hd.hpp"

namespace facesel {
namespace detail {

// 0.5 * log(2 * pi)
constexpr double kHalfLog2Pi = 0.91893853320467274178;

// exp_fast is used for |log_sigma| <= kFastLogSigmaLimit: e^80 ~ 5.5e34 stays below the float
// maximum (3.4e38) with room, and the result stays a normal float. Outside that range the caller
// falls back to gaussian_log_pdf in double (no model produces such values; bad input still must
// not give a wrong answer).
constexpr float kFastLogSigmaLimit = 80.0f;

FACESEL_HD bool in_fast_range(float log_sigma) {
  return log_sigma >= -kFastLogSigmaLimit && log_sigma <= kFastLogSigmaLimit;  // false for NaN too
}

// Bit casts (std::bit_cast is C++20): memcpy on the host, which compilers turn into a register
// move; the intrinsics on the device.
FACESEL_HD float bits_to_float(std::int32_t bits) {
#if defined(__CUDA_ARCH__)
  return __int_as_float(bits);
#else
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
#endif
}

FACESEL_HD std::int32_t float_to_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_int(f);
#else
  std::int32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
#endif
}

/// e^v in float for |v| <= kFastLogSigmaLimit (inputs outside are clamped to it), within about
/// 2 ulp. Branch-free and free of library calls so that compilers vectorise the loop around it.
///
/// e^v = 2^n * e^r with n = round(v / ln 2) and r = v - n ln 2 in [-ln2/2, ln2/2]; ln 2 is split
/// into a part exact in float and a remainder (Cody & Waite) so that r keeps its digits; e^r is
/// its Taylor series to r^7 (truncation error (ln2/2)^8 / 8! ~ 5e-9, below float precision).
FACESEL_HD float exp_fast(float v) {
  v = v < -kFastLogSigmaLimit ? -kFastLogSigmaLimit : (v > kFastLogSigmaLimit ? kFastLogSigmaLimit : v);
  // Adding 1.5 * 2^23 rounds to the nearest integer in float arithmetic without a libm call
  // (valid for |v / ln 2| < 2^22); the integer is then read from the low mantissa bits.
  constexpr float kRoundMagic = 12582912.0f;
  const float shifted = v * 1.44269504088896341f + kRoundMagic;
  const float n = shifted - kRoundMagic;
  const std::int32_t n_int = float_to_bits(shifted) - float_to_bits(kRoundMagic);
  const float r = (v - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // times 2^n, built in the exponent field. The shift is unsigned: a NaN `v` passes the clamp and
  // gives a negative n_int, whose signed left shift is undefined behaviour (found by fuzz/,
  // review round 13d); the result is NaN either way, as the header promises (NaN in, NaN out).
  return p * bits_to_float(static_cast<std::int32_t>(static_cast<std::uint32_t>(n_int + 127) << 23));
}

/// z^2 = ((x - mu) / sigma)^2 with 1/sigma = exp_fast(-log_sigma); the difference and the square
/// in double, so that with log_sigma = -7 (z^2 ~ 1e6 per pixel) the sum over 4096 pixels keeps
/// the digits that separate two crops' scores.
FACESEL_HD double squared_residual_fast(float x, float mu, float log_sigma) {
  const double z = (static_cast<double>(x) - static_cast<double>(mu)) * static_cast<double>(exp_fast(-log_sigma));
  return z * z;
}

/// z = (x - mu) / sigma in double for any finite log_sigma. With log_sigma below about -709,
/// 1/sigma = exp(-log_sigma) overflows to inf; a pixel with x == mu then has z = 0 exactly (its
/// limit, whatever sigma), not 0 * inf = NaN. A pixel with x != mu gets z = +-inf, so its log
/// density is -inf: the true value is below the double range.
FACESEL_HD double standardised_residual_exact(float x, float mu, float log_sigma) {
  const double diff = static_cast<double>(x) - static_cast<double>(mu);
  if (diff == 0.0) return 0.0;
  return diff * std::exp(-static_cast<double>(log_sigma));
}

/// z^2 for any finite log_sigma: the fast form inside the fast range, double exp outside (used by
/// the CUDA kernel per element; the CPU loop checks the range per sample instead, to stay vectorised).
FACESEL_HD double squared_residual(float x, float mu, float log_sigma) {
  if (in_fast_range(log_sigma)) return squared_residual_fast(x, mu, log_sigma);
  const double z = standardised_residual_exact(x, mu, log_sigma);
  return z * z;
}

/// One sample's log-likelihood from the two sums over its d pixels.
FACESEL_HD double sample_log_likelihood(std::int64_t d, double sum_log_sigma, double sum_squared_residual) {
  return -static_cast<double>(d) * kHalfLog2Pi - sum_log_sigma - 0.5 * sum_squared_residual;
}

/// log N(x | mu, exp(log_sigma)) for one pixel, entirely in double: the reference and the fallback
/// for log_sigma outside the fast range.
FACESEL_HD double gaussian_log_pdf(float x, float mu, float log_sigma) {
  const double z = standardised_residual_exact(x, mu, log_sigma);
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
  // A sample of likelihood 0 adds nothing. Without this, when every sample so far is -inf,
  // exp(v - max) would be exp(-inf - -inf) = exp(NaN).
  if (v == -INFINITY) return acc;
  if (v > acc.max_value) {
    acc.scaled_sum = acc.scaled_sum * std::exp(acc.max_value - v) + 1.0;
    acc.max_value = v;
  } else {
    acc.scaled_sum += std::exp(v - acc.max_value);
  }
  return acc;
}

/// log of the sum; -inf (log 0) when every pushed value was -inf, with no NaN on the way.
FACESEL_HD double lse_value(LogSumExp acc) {
  if (acc.scaled_sum == 0.0) return -INFINITY;
  return acc.max_value + std::log(acc.scaled_sum);
}

}  // namespace detail
}  // namespace facesel
