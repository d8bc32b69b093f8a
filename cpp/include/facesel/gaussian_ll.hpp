// Gaussian log reconstruction probability of a VAE (An & Cho 2015; Baert et al., AAAI-21):
//
//   log RP(x) = log( 1/L * sum_l prod_i N(x_i | mu_li, sigma_li) )
//             = logsumexp_l( sum_i log N(x_i | mu_li, exp(log_sigma_li)) ) - log L
#pragma once
#include <cstdint>

namespace facesel {

/// Computes log RP for a batch.
///
/// x          (n, d)    float32, row-major: the crops, flattened
/// mu         (n, l, d) float32: decoder means for the l latent samples of each crop
/// log_sigma  (n, l, d) float32: decoder log standard deviations
/// out        (n)       float64: the result
///
/// threads    rows are split over this many threads (>= 1; std::invalid_argument otherwise);
///            the result does not depend on it
///
/// Sizes n >= 0, l >= 1, d >= 1 and non-null pointers (when n > 0) are checked: std::invalid_argument
/// naming the argument and its value otherwise. The caller guarantees that each buffer holds its
/// shape; the Python binding validates that too. Values must be finite, and are checked as they are
/// read (no extra pass): a NaN or an infinity throws std::invalid_argument naming the array, the
/// value and its index, e.g. "mu must be finite, got inf at [0, 1, 17]" ([row, pixel] for x); out's
/// contents are then unspecified. Relative error against a float64 evaluation is below
/// ~1e-7 (exp(-log_sigma) is computed in float, the sums in double). Never NaN: a result is
/// -inf when every sample's likelihood is below the double range (e.g. x != mu with log_sigma
/// near -400), and a pixel with x == mu counts z = 0 however small sigma is.
void gaussian_log_rp(const float* x, const float* mu, const float* log_sigma, std::int64_t n,
                     std::int64_t l, std::int64_t d, double* out, int threads = 1);

}  // namespace facesel
