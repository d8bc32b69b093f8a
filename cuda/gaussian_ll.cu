// CUDA version of facesel::gaussian_log_rp: one thread block per (input, latent sample) sums
// log_sigma and z^2 over the D pixels with the per-element math of gaussian_ll_math.hpp (the same
// header the CPU core uses); the L-way log-sum-exp per input, O(N * L), runs on the host.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "facesel/detail/gaussian_ll_math.hpp"
#include "gaussian_ll_cuda.hpp"

namespace facesel {
namespace cuda {

namespace {

constexpr int kThreads = 256;  // a power of two, for the tree reduction below

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string("CUDA ") + what + " failed: " + cudaGetErrorName(status) + ": " +
                             cudaGetErrorString(status));
  }
}

// Owns one device allocation, so that every exit path (including a thrown error) frees it.
template <typename T>
struct DeviceBuffer {
  T* ptr = nullptr;
  explicit DeviceBuffer(std::size_t count) {
    if (count > 0) check(cudaMalloc(&ptr, count * sizeof(T)), "cudaMalloc");
  }
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

__global__ void sample_log_likelihoods(const float* __restrict__ x, const float* __restrict__ mu,
                                       const float* __restrict__ log_sigma, std::int64_t l, std::int64_t d,
                                       double* __restrict__ sample_ll) {
  __shared__ double s_ls[kThreads];
  __shared__ double s_sq[kThreads];
  const std::int64_t sample = blockIdx.x;  // = row * l + s
  const std::int64_t row = sample / l;
  const float* xr = x + row * d;
  const float* m = mu + sample * d;
  const float* ls = log_sigma + sample * d;
  double sum_ls = 0.0, sum_sq = 0.0;
  for (std::int64_t i = threadIdx.x; i < d; i += kThreads) {  // coalesced: neighbours read neighbours
    sum_ls += static_cast<double>(ls[i]);
    sum_sq += detail::squared_residual(xr[i], m[i], ls[i]);
  }
  s_ls[threadIdx.x] = sum_ls;
  s_sq[threadIdx.x] = sum_sq;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) {
      s_ls[threadIdx.x] += s_ls[threadIdx.x + stride];
      s_sq[threadIdx.x] += s_sq[threadIdx.x + stride];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) sample_ll[sample] = detail::sample_log_likelihood(d, s_ls[0], s_sq[0]);
}

}  // namespace

int device_count() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status == cudaErrorNoDevice || status == cudaErrorInsufficientDriver) {
    cudaGetLastError();  // clear the sticky error state
    return 0;
  }
  check(status, "cudaGetDeviceCount");
  return count;
}

void gaussian_log_rp(const float* x, const float* mu, const float* log_sigma, std::int64_t n, std::int64_t l,
                     std::int64_t d, double* out) {
  if (n == 0) return;
  const std::size_t samples = static_cast<std::size_t>(n * l);
  if (samples > 0x7fffffffu) throw std::runtime_error("gaussian_log_rp (CUDA): N * L must be < 2^31");
  const std::size_t x_count = static_cast<std::size_t>(n * d), s_count = samples * static_cast<std::size_t>(d);
  DeviceBuffer<float> dx(x_count), dmu(s_count), dls(s_count);
  DeviceBuffer<double> dll(samples);
  check(cudaMemcpy(dx.ptr, x, x_count * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy(x)");
  check(cudaMemcpy(dmu.ptr, mu, s_count * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy(mu)");
  check(cudaMemcpy(dls.ptr, log_sigma, s_count * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy(log_sigma)");
  sample_log_likelihoods<<<static_cast<unsigned>(samples), kThreads>>>(dx.ptr, dmu.ptr, dls.ptr, l, d, dll.ptr);
  check(cudaGetLastError(), "kernel launch");
  std::vector<double> sample_ll(samples);
  check(cudaMemcpy(sample_ll.data(), dll.ptr, samples * sizeof(double), cudaMemcpyDeviceToHost), "cudaMemcpy(out)");
  const double log_l = std::log(static_cast<double>(l));
  for (std::int64_t row = 0; row < n; ++row) {
    detail::LogSumExp acc = detail::lse_init();
    for (std::int64_t s = 0; s < l; ++s) acc = detail::lse_push(acc, sample_ll[static_cast<std::size_t>(row * l + s)]);
    out[row] = detail::lse_value(acc) - log_l;
  }
}

}  // namespace cuda
}  // namespace facesel
