// Validation of gaussian_log_rp's arguments, shared by the CPU (_core) and CUDA (_cuda) modules
// so that both raise the same errors for the same bad input.
#pragma once
#include <string>

#include "validate.hpp"

namespace facesel {
namespace bindings {

struct GaussianLlArgs {
  CArray<float> x, mu, log_sigma;
  py::ssize_t n, l, d;
};

inline GaussianLlArgs check_gaussian_ll_args(const py::object& x_obj, const py::object& mu_obj,
                                             const py::object& log_sigma_obj) {
  GaussianLlArgs a{as_array<float>(x_obj, "x", 2, "float32"), as_array<float>(mu_obj, "mu", 3, "float32"),
                   as_array<float>(log_sigma_obj, "log_sigma", 3, "float32"), 0, 0, 0};
  a.n = a.x.shape(0);
  a.d = a.x.shape(1);
  a.l = a.mu.shape(1);
  if (a.mu.shape(0) != a.n || a.mu.shape(2) != a.d) {
    throw py::value_error("mu must have shape (N, L, D) = (" + std::to_string(a.n) + ", L, " + std::to_string(a.d) +
                          ") to match x " + shape_str(a.x) + ", got " + shape_str(a.mu));
  }
  if (a.log_sigma.shape(0) != a.n || a.log_sigma.shape(1) != a.l || a.log_sigma.shape(2) != a.d) {
    throw py::value_error("log_sigma must have the shape of mu " + shape_str(a.mu) + ", got " +
                          shape_str(a.log_sigma));
  }
  if (a.l < 1) throw py::value_error("mu must hold at least one latent sample (L >= 1), got shape " + shape_str(a.mu));
  if (a.d < 1) throw py::value_error("x must have at least one pixel per row (D >= 1), got shape " + shape_str(a.x));
  require_finite(a.x, "x");
  require_finite(a.mu, "mu");
  require_finite(a.log_sigma, "log_sigma");
  return a;
}

}  // namespace bindings
}  // namespace facesel
