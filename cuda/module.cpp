// facesel._cuda: the optional CUDA module (private: facesel.gaussian_log_rp picks it when
// facesel.HAS_CUDA). Compiled by the host compiler; the kernels live in gaussian_ll.cu.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "gaussian_ll_args.hpp"
#include "gaussian_ll_cuda.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "facesel's CUDA kernels (private: use the facesel package)";
  m.def("device_count", &facesel::cuda::device_count, "Number of usable CUDA devices (0 without device or driver).");
  m.def(
      "gaussian_log_rp",
      [](const py::object& x, const py::object& mu, const py::object& log_sigma) {
        // Validate first, so that bad input raises the CPU binding's ValueError/TypeError on any machine.
        const facesel::bindings::GaussianLlArgs a = facesel::bindings::check_gaussian_ll_args(x, mu, log_sigma);
        if (facesel::cuda::device_count() == 0) {
          throw std::runtime_error("facesel._cuda.gaussian_log_rp: no usable CUDA device (use the CPU core)");
        }
        py::array_t<double> out(a.n);
        double* out_ptr = out.mutable_data();
        {
          py::gil_scoped_release release;
          facesel::cuda::gaussian_log_rp(a.x.data(), a.mu.data(), a.log_sigma.data(), a.n, a.l, a.d, out_ptr);
        }
        return out;
      },
      py::arg("x"), py::arg("mu"), py::arg("log_sigma"),
      "x (N, D) float32, mu and log_sigma (N, L, D) float32 -> (N,) float64, on the GPU.");
}
