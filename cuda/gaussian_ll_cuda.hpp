// Host-side entry points of the CUDA kernels: plain C++ (no CUDA types), so that the pybind11
// module is compiled by the host compiler and only the .cu file by nvcc.
#pragma once
#include <cstdint>

namespace facesel {
namespace cuda {

/// Number of usable CUDA devices; 0 when there is no device or no driver.
int device_count();

/// gaussian_log_rp (see facesel/gaussian_ll.hpp) on the current CUDA device: host arrays in and
/// out, copied to and from the device. Throws std::runtime_error naming the failing CUDA call.
void gaussian_log_rp(const float* x, const float* mu, const float* log_sigma, std::int64_t n, std::int64_t l,
                     std::int64_t d, double* out);

}  // namespace cuda
}  // namespace facesel
