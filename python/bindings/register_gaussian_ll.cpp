#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "facesel/gaussian_ll.hpp"
#include "gaussian_ll_args.hpp"
#include "register.hpp"
#include "validate.hpp"

namespace facesel {
namespace bindings {

namespace {

// Caps a thread count that would only be a typo (and keeps the int conversion safe).
constexpr std::int64_t kMaxThreads = 256;

py::array_t<double> gaussian_log_rp_py(const py::object& x_obj, const py::object& mu_obj,
                                       const py::object& log_sigma_obj, const py::object& threads_obj) {
  const std::int64_t threads = as_int64(threads_obj, "threads");
  if (threads < 1 || threads > kMaxThreads) {
    throw py::value_error("threads must be in [1, " + std::to_string(kMaxThreads) + "], got " + std::to_string(threads));
  }
  const GaussianLlArgs a = check_gaussian_ll_args(x_obj, mu_obj, log_sigma_obj);
  py::array_t<double> out(a.n);
  double* out_ptr = out.mutable_data();
  {
    py::gil_scoped_release release;
    gaussian_log_rp(a.x.data(), a.mu.data(), a.log_sigma.data(), a.n, a.l, a.d, out_ptr, static_cast<int>(threads));
  }
  return out;
}

}  // namespace

void register_gaussian_ll(py::module_& m) {
  m.def("gaussian_log_rp", &gaussian_log_rp_py, py::arg("x"), py::arg("mu"), py::arg("log_sigma"),
        py::arg("threads") = 1,
        "log RP = logsumexp_l(sum_i log N(x_i | mu_li, exp(log_sigma_li))) - log L.\n\n"
        "x (N, D) float32, mu and log_sigma (N, L, D) float32 -> (N,) float64; rows split over `threads`.");
}

}  // namespace bindings
}  // namespace facesel
