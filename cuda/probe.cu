// The lazy probe: run once per process and device by facesel._backend, at the first use of the
// GPU (never at import, so that a process can fork workers before touching CUDA).
#include <cuda_runtime.h>

#include <string>

#include "cuda_check.hpp"
#include "gaussian_ll_cuda.hpp"

namespace facesel {
namespace cuda {

namespace {

constexpr int kProbeThreads = 64;

__global__ void probe_kernel(int* out) { out[threadIdx.x] = static_cast<int>(threadIdx.x) * 3 + 1; }

ProbeResult failed(const std::string& what, cudaError_t status) {
  cudaGetLastError();  // clear a non-sticky error so that later calls are not blamed for it
  return ProbeResult{ProbeStatus::Failed, what + ": " + error_text(status)};
}

// The device and the current context are restored on every exit path.
struct DeviceGuard {
  int previous = -1;
  DeviceGuard() {
    if (cudaGetDevice(&previous) != cudaSuccess) previous = -1;
  }
  ~DeviceGuard() {
    if (previous >= 0) cudaSetDevice(previous);
  }
};

ProbeResult probe_steps(int device, const std::string& inject) {
  // Checked first so that the hook works on machines without a driver too.
  if (inject == "driver") return failed("injected driver failure", cudaErrorInsufficientDriver);
  int driver = 0;
  cudaDriverGetVersion(&driver);
  if (driver == 0) return ProbeResult{ProbeStatus::Unavailable, "no NVIDIA driver is installed"};
  int count = 0;
  const cudaError_t counted = cudaGetDeviceCount(&count);
  if (counted == cudaErrorNoDevice || (counted == cudaSuccess && count == 0)) {
    cudaGetLastError();
    return ProbeResult{ProbeStatus::Unavailable, "no CUDA device"};
  }
  if (counted == cudaErrorInsufficientDriver) {
    return failed("the NVIDIA driver (CUDA " + std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10) +
                      ") is older than this build of facesel needs (CUDA " + std::to_string(CUDART_VERSION / 1000) + "." +
                      std::to_string(CUDART_VERSION % 1000 / 10) + ")",
                  counted);
  }
  if (counted != cudaSuccess) return failed("cudaGetDeviceCount", counted);
  if (device < 0 || device >= count) {
    return ProbeResult{ProbeStatus::Failed,
                       "device " + std::to_string(device) + " does not exist (" + std::to_string(count) + " devices)"};
  }
  DeviceGuard guard;
  cudaError_t status = cudaSetDevice(device);
  if (status != cudaSuccess) return failed("cudaSetDevice(" + std::to_string(device) + ")", status);
  // Creates the context: refused in exclusive-process mode when another process holds the GPU,
  // or when the device is out of memory.
  status = inject == "context" ? cudaErrorDevicesUnavailable : cudaFree(nullptr);
  if (status != cudaSuccess) return failed("creating a CUDA context on device " + std::to_string(device), status);
  int* buffer = nullptr;
  status = cudaMalloc(&buffer, kProbeThreads * sizeof(int));
  if (status != cudaSuccess) return failed("cudaMalloc", status);
  probe_kernel<<<1, kProbeThreads>>>(buffer);
  // No kernel image for this GPU (a compute capability outside FACESEL_CUDA_ARCHITECTURES) shows here.
  status = inject == "launch" ? cudaErrorNoKernelImageForDevice : cudaGetLastError();
  int host[kProbeThreads] = {};
  if (status == cudaSuccess) status = cudaMemcpy(host, buffer, sizeof host, cudaMemcpyDeviceToHost);
  cudaFree(buffer);
  if (status != cudaSuccess) return failed("a test kernel on device " + std::to_string(device), status);
  for (int i = 0; i < kProbeThreads; ++i) {
    if (host[i] != i * 3 + 1) return ProbeResult{ProbeStatus::Failed, "a test kernel returned wrong values"};
  }
  return ProbeResult{ProbeStatus::Ok, ""};
}

}  // namespace

ProbeResult probe(int device, const std::string& inject_failure) {
  try {
    return probe_steps(device, inject_failure);
  } catch (const std::exception& e) {  // e.g. std::bad_alloc building a message
    return ProbeResult{ProbeStatus::Failed, e.what()};
  }
}

int device_count() {
  int driver = 0;
  cudaDriverGetVersion(&driver);
  if (driver == 0) return 0;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count;
}

}  // namespace cuda
}  // namespace facesel
