// facesel._cuda: the optional CUDA module (private: facesel.gaussian_log_rp and facesel._backend
// use it). Compiled by the host compiler; the kernels live in the .cu files. Importing it touches
// no CUDA API: the first CUDA call is facesel._backend's probe, at the first use of the GPU.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "gaussian_ll_args.hpp"
#include "gaussian_ll_cuda.hpp"
#include "validate.hpp"

namespace py = pybind11;
using facesel::bindings::as_int64;

namespace {

constexpr std::int64_t kMaxDevice = 1024;

int as_device(const py::object& obj) {
  const std::int64_t device = as_int64(obj, "device");
  if (device < 0 || device >= kMaxDevice) {
    throw py::value_error("device must be a CUDA device index in [0, " + std::to_string(kMaxDevice) + "), got " +
                          std::to_string(device));
  }
  return static_cast<int>(device);
}

std::uintptr_t as_stream(const py::object& obj) {
  if (obj.is_none()) return 0;
  const std::int64_t stream = as_int64(obj, "stream");
  if (stream < 0) throw py::value_error("stream must be a cudaStream_t as a non-negative int, got " + std::to_string(stream));
  return static_cast<std::uintptr_t>(stream);
}

void require_device() {
  if (facesel::cuda::device_count() == 0) {
    throw facesel::cuda::CudaError("facesel._cuda: no usable CUDA device (use the CPU core)");
  }
}

}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "facesel's CUDA kernels (private: use the facesel package)";
  py::register_exception<facesel::cuda::CudaError>(m, "CudaError", PyExc_RuntimeError);
  py::register_exception<facesel::cuda::InputError>(m, "InputError", PyExc_ValueError);
  m.def("device_count", &facesel::cuda::device_count, "Number of CUDA devices (0 without device or driver).");
  m.def(
      "probe",
      [](const py::object& device, const std::string& inject_failure) {
        const int index = as_device(device);
        if (!inject_failure.empty() && inject_failure != "driver" && inject_failure != "context" &&
            inject_failure != "launch") {
          throw py::value_error("inject_failure must be '', 'driver', 'context' or 'launch', got '" + inject_failure + "'");
        }
        facesel::cuda::ProbeResult r;
        {
          py::gil_scoped_release release;
          r = facesel::cuda::probe(index, inject_failure);
        }
        return py::make_tuple(static_cast<int>(r.status), r.message);
      },
      py::arg("device"), py::arg("inject_failure") = "",
      "(status, message): 0 usable, 1 unavailable (no driver or device), 2 failed. inject_failure: test hook.");
  m.def(
      "gaussian_log_rp",
      [](const py::object& x, const py::object& mu, const py::object& log_sigma, const py::object& device,
         const py::object& stream) {
        // Validate first, so that bad input raises the CPU binding's ValueError/TypeError on any machine.
        const facesel::bindings::GaussianLlArgs a = facesel::bindings::check_gaussian_ll_args(x, mu, log_sigma);
        const int index = as_device(device);
        const std::uintptr_t handle = as_stream(stream);
        require_device();
        py::array_t<double> out(a.n);
        double* out_ptr = out.mutable_data();
        {
          py::gil_scoped_release release;
          facesel::cuda::gaussian_log_rp(a.x.data(), a.mu.data(), a.log_sigma.data(), a.n, a.l, a.d, out_ptr, index,
                                         handle);
        }
        return out;
      },
      py::arg("x"), py::arg("mu"), py::arg("log_sigma"), py::arg("device") = 0, py::arg("stream") = py::none(),
      "x (N, D) float32, mu and log_sigma (N, L, D) float32 -> (N,) float64, on CUDA device `device`;\n"
      "stream: a cudaStream_t as an int (None: the module's own stream). Raises CudaError (a RuntimeError).");
  m.def(
      "gaussian_log_rp_device",
      [](const py::object& x_ptr, const py::object& mu_ptr, const py::object& log_sigma_ptr, const py::object& n_obj,
         const py::object& l_obj, const py::object& d_obj, const py::object& device, const py::object& stream) {
        const std::int64_t n = as_int64(n_obj, "n"), l = as_int64(l_obj, "l"), d = as_int64(d_obj, "d");
        // Bounds that keep n * l * d far from int64 overflow (2^62 elements is beyond any device).
        if (n < 0 || l < 1 || d < 1 || n > (std::int64_t{1} << 40) || l > (std::int64_t{1} << 20) ||
            d > (std::int64_t{1} << 40) || n * l > (std::int64_t{1} << 40) || (n * l) > (std::int64_t{1} << 62) / d) {
          throw py::value_error("shape (n, l, d) = (" + std::to_string(n) + ", " + std::to_string(l) + ", " +
                                std::to_string(d) + ") is out of range (n >= 0, l >= 1, d >= 1)");
        }
        const float* ptrs[3];
        const char* names[3] = {"x_ptr", "mu_ptr", "log_sigma_ptr"};
        const py::object* objs[3] = {&x_ptr, &mu_ptr, &log_sigma_ptr};
        for (int k = 0; k < 3; ++k) {
          const std::int64_t p = as_int64(*objs[k], names[k]);
          if (p <= 0 || p % 4 != 0) {
            throw py::value_error(std::string(names[k]) + " must be a non-null, 4-byte aligned device pointer, got " +
                                  std::to_string(p));
          }
          ptrs[k] = reinterpret_cast<const float*>(static_cast<std::uintptr_t>(p));
        }
        const int index = as_device(device);
        const std::uintptr_t handle = as_stream(stream);
        require_device();
        py::array_t<double> out(n);
        double* out_ptr = out.mutable_data();
        {
          py::gil_scoped_release release;
          facesel::cuda::gaussian_log_rp_device_memory(ptrs[0], ptrs[1], ptrs[2], n, l, d, out_ptr, index, handle);
        }
        return out;
      },
      py::arg("x_ptr"), py::arg("mu_ptr"), py::arg("log_sigma_ptr"), py::arg("n"), py::arg("l"), py::arg("d"),
      py::arg("device") = 0, py::arg("stream") = py::none(),
      "Device pointers of x (n, d), mu and log_sigma (n, l, d) float32 C-contiguous -> (n,) float64 on the host.");
  m.def(
      "_time_kernel_ms",
      [](const py::object& x, const py::object& mu, const py::object& log_sigma, const py::object& device,
         const py::object& repeats) {
        const facesel::bindings::GaussianLlArgs a = facesel::bindings::check_gaussian_ll_args(x, mu, log_sigma);
        const int index = as_device(device);
        const std::int64_t r = as_int64(repeats, "repeats");
        if (r < 1 || r > 100000) throw py::value_error("repeats must be in [1, 100000], got " + std::to_string(r));
        require_device();
        py::gil_scoped_release release;
        return facesel::cuda::time_kernel_ms(a.x.data(), a.mu.data(), a.log_sigma.data(), a.n, a.l, a.d, index,
                                             static_cast<int>(r));
      },
      py::arg("x"), py::arg("mu"), py::arg("log_sigma"), py::arg("device") = 0, py::arg("repeats") = 20,
      "Milliseconds per launch of the kernel alone (benchmarks only).");
}
