#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "facesel/gaussian_ll.hpp"
#include "register.hpp"
#include "validate.hpp"

namespace facesel {
namespace bindings {

namespace {

py::array_t<double> gaussian_log_rp_py(const py::object& x_obj, const py::object& mu_obj,
                                       const py::object& log_sigma_obj) {
  auto x = as_array<float>(x_obj, "x", 2, "float32");
  auto mu = as_array<float>(mu_obj, "mu", 3, "float32");
  auto log_sigma = as_array<float>(log_sigma_obj, "log_sigma", 3, "float32");
  const py::ssize_t n = x.shape(0), d = x.shape(1);
  const py::ssize_t l = mu.shape(1);
  if (mu.shape(0) != n || mu.shape(2) != d) {
    throw py::value_error("mu must have shape (N, L, D) = (" + std::to_string(n) + ", L, " + std::to_string(d) +
                          ") to match x " + shape_str(x) + ", got " + shape_str(mu));
  }
  if (log_sigma.shape(0) != mu.shape(0) || log_sigma.shape(1) != l || log_sigma.shape(2) != d) {
    throw py::value_error("log_sigma must have the shape of mu " + shape_str(mu) + ", got " + shape_str(log_sigma));
  }
  if (l < 1) throw py::value_error("mu must hold at least one latent sample (L >= 1), got L = " + std::to_string(l));
  if (d < 1) throw py::value_error("x must have at least one pixel per row (D >= 1), got shape " + shape_str(x));
  require_finite(x, "x");
  require_finite(mu, "mu");
  require_finite(log_sigma, "log_sigma");

  py::array_t<double> out(n);
  double* out_ptr = out.mutable_data();
  {
    py::gil_scoped_release release;
    gaussian_log_rp(x.data(), mu.data(), log_sigma.data(), n, l, d, out_ptr);
  }
  return out;
}

}  // namespace

void register_gaussian_ll(py::module_& m) {
  m.def("gaussian_log_rp", &gaussian_log_rp_py, py::arg("x"), py::arg("mu"), py::arg("log_sigma"),
        "log RP = logsumexp_l(sum_i log N(x_i | mu_li, exp(log_sigma_li))) - log L.\n\n"
        "x (N, D) float32, mu and log_sigma (N, L, D) float32 -> (N,) float64.");
}

}  // namespace bindings
}  // namespace facesel
