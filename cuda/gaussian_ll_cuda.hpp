// Host-side entry points of the CUDA kernels: plain C++ (no CUDA types), so that the pybind11
// module is compiled by the host compiler and only the .cu files by nvcc.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace facesel {
namespace cuda {

/// Any CUDA failure: the message names the step (a runtime call, or the kernel) and CUDA's error.
class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad input found only on the device (caller memory): maps to ValueError, not to a CUDA failure.
class InputError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class ProbeStatus {
  Ok = 0,
  Unavailable = 1,  ///< no NVIDIA driver or no device: the CPU is the expected path, silently
  Failed = 2,       ///< a device is there but does not work for facesel: worth a warning
};

struct ProbeResult {
  ProbeStatus status;
  std::string message;  ///< empty when Ok
};

/// Whether `device` can run facesel's kernels: the driver and device exist, a context can be
/// created (not refused by exclusive compute mode or a lack of memory), the build holds a kernel
/// image for the GPU, and a tiny kernel runs and returns the right values. Never throws.
/// `inject_failure` is a test hook: "", or the step to fail on purpose ("driver", "context",
/// "launch"), so that the fallback paths are tested on machines without a GPU.
ProbeResult probe(int device, const std::string& inject_failure = "");

/// Number of CUDA devices; 0 when there is no device or no driver (never throws).
int device_count();

/// gaussian_log_rp (see facesel/gaussian_ll.hpp) on `device`, with host arrays in and out.
/// Inputs go through pinned staging buffers in chunks of bounded size (so that any N fits and
/// the host copy of one chunk overlaps the transfer and kernel of the previous one); device and
/// staging buffers persist between calls. `stream` is a cudaStream_t as an integer, or 0 for the
/// module's own non-blocking stream on that device. Throws CudaError.
void gaussian_log_rp(const float* x, const float* mu, const float* log_sigma, std::int64_t n, std::int64_t l,
                     std::int64_t d, double* out, int device, std::uintptr_t stream);

/// The same on the caller's device memory (e.g. a CUDA tensor's data pointer): x (n, d), mu and
/// log_sigma (n, l, d), float32, C-contiguous, all on `device`; no staging, no copy of the inputs.
/// Only the (n, l) per-sample values come back to the host. Throws InputError when a pointer is
/// not memory of `device` or an input holds inf/NaN (checked in the kernel), CudaError otherwise.
void gaussian_log_rp_device_memory(const float* x, const float* mu, const float* log_sigma, std::int64_t n,
                                   std::int64_t l, std::int64_t d, double* out, int device, std::uintptr_t stream);

/// Milliseconds per launch of the kernel alone (inputs copied to the device once, outside the
/// timing; CUDA events around `repeats` launches on the legacy stream), for benchmarks/gpu_check.
double time_kernel_ms(const float* x, const float* mu, const float* log_sigma, std::int64_t n, std::int64_t l,
                      std::int64_t d, int device, int repeats);

}  // namespace cuda
}  // namespace facesel
