// CUDA version of facesel::gaussian_log_rp. One warp per (input, latent sample): its 32 lanes
// read the D pixels of x, mu and log_sigma with 16-byte vector loads (when D % 4 == 0), apply the
// per-element math of gaussian_ll_math.hpp (the header the CPU core uses) and sum in double
// through warp shuffles, with no shared memory and no barriers. The L-way log-sum-exp per input,
// O(N * L), runs on the host with the same header.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "device_state.hpp"
#include "facesel/detail/gaussian_ll_math.hpp"
#include "gaussian_ll_cuda.hpp"

namespace facesel {
namespace cuda {

namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kWarp = 32;
constexpr std::size_t kAlign = 256;

std::size_t align_up(std::size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

// Bits of the non-finite flag: which input held an inf or NaN (checked on the device only for
// caller device memory; host inputs were checked by the binding).
constexpr unsigned kBadX = 1u, kBadMu = 2u, kBadLogSigma = 4u;

template <bool kCheckFinite>
__device__ __forceinline__ void add_pixel(float x, float mu, float log_sigma, double& sum_ls, double& sum_sq,
                                          unsigned& bad) {
  if (kCheckFinite) {
    bad |= (isfinite(x) ? 0u : kBadX) | (isfinite(mu) ? 0u : kBadMu) | (isfinite(log_sigma) ? 0u : kBadLogSigma);
  }
  sum_ls += static_cast<double>(log_sigma);
  sum_sq += detail::squared_residual(x, mu, log_sigma);
}

// samples: the (row, sample) pairs of this launch, numbered from the launch's first row.
template <bool kCheckFinite>
__global__ void __launch_bounds__(kWarpsPerBlock * kWarp)
    sample_log_likelihoods(const float* __restrict__ x, const float* __restrict__ mu,
                           const float* __restrict__ log_sigma, std::int64_t samples, std::int64_t l,
                           std::int64_t d, bool vector_loads, double* __restrict__ sample_ll,
                           unsigned* __restrict__ nonfinite) {
  const std::int64_t sample = static_cast<std::int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
  if (sample >= samples) return;  // the same for all lanes of a warp: the shuffles below stay full
  const int lane = threadIdx.x % kWarp;
  const float* xr = x + (sample / l) * d;
  const float* m = mu + sample * d;
  const float* ls = log_sigma + sample * d;
  double sum_ls = 0.0, sum_sq = 0.0;
  unsigned bad = 0;
  if (vector_loads) {
    const float4* x4 = reinterpret_cast<const float4*>(xr);
    const float4* m4 = reinterpret_cast<const float4*>(m);
    const float4* s4 = reinterpret_cast<const float4*>(ls);
    for (std::int64_t i = lane; i < d / 4; i += kWarp) {  // one 512-byte transaction per warp and array
      const float4 xv = __ldg(x4 + i), mv = __ldg(m4 + i), sv = __ldg(s4 + i);
      add_pixel<kCheckFinite>(xv.x, mv.x, sv.x, sum_ls, sum_sq, bad);
      add_pixel<kCheckFinite>(xv.y, mv.y, sv.y, sum_ls, sum_sq, bad);
      add_pixel<kCheckFinite>(xv.z, mv.z, sv.z, sum_ls, sum_sq, bad);
      add_pixel<kCheckFinite>(xv.w, mv.w, sv.w, sum_ls, sum_sq, bad);
    }
  } else {
    for (std::int64_t i = lane; i < d; i += kWarp) {
      add_pixel<kCheckFinite>(__ldg(xr + i), __ldg(m + i), __ldg(ls + i), sum_ls, sum_sq, bad);
    }
  }
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    sum_ls += __shfl_down_sync(0xffffffffu, sum_ls, offset);
    sum_sq += __shfl_down_sync(0xffffffffu, sum_sq, offset);
    if (kCheckFinite) bad |= __shfl_down_sync(0xffffffffu, bad, offset);
  }
  if (lane != 0) return;
  sample_ll[sample] = detail::sample_log_likelihood(d, sum_ls, sum_sq);
  if (kCheckFinite && bad) atomicOr(nonfinite, bad);
}

// nonfinite: null for inputs already checked on the host, else a device flag to OR the bits into.
void launch(const float* x, const float* mu, const float* log_sigma, std::int64_t rows, std::int64_t l, std::int64_t d,
            double* sample_ll, cudaStream_t stream, unsigned* nonfinite = nullptr) {
  const std::int64_t samples = rows * l;
  if (samples == 0) return;
  const std::int64_t blocks = (samples + kWarpsPerBlock - 1) / kWarpsPerBlock;
  // 16-byte loads need every row and sample to start on a 16-byte boundary: D % 4 == 0 and
  // aligned base pointers (the staging layout aligns them to 256 bytes; caller memory may not be).
  const bool vector_loads = d % 4 == 0 && reinterpret_cast<std::uintptr_t>(x) % 16 == 0 &&
                            reinterpret_cast<std::uintptr_t>(mu) % 16 == 0 &&
                            reinterpret_cast<std::uintptr_t>(log_sigma) % 16 == 0;
  const unsigned grid = static_cast<unsigned>(blocks), block = kWarpsPerBlock * kWarp;
  if (nonfinite) {
    sample_log_likelihoods<true><<<grid, block, 0, stream>>>(x, mu, log_sigma, samples, l, d, vector_loads, sample_ll,
                                                            nonfinite);
  } else {
    sample_log_likelihoods<false><<<grid, block, 0, stream>>>(x, mu, log_sigma, samples, l, d, vector_loads,
                                                             sample_ll, nullptr);
  }
  check(cudaGetLastError(), "launch of kernel sample_log_likelihoods");
}

// The L-way log-sum-exp per row, on the host, with the CPU core's header.
void reduce_rows(const double* sample_ll, std::int64_t n, std::int64_t l, double* out) {
  const double log_l = std::log(static_cast<double>(l));
  for (std::int64_t row = 0; row < n; ++row) {
    detail::LogSumExp acc = detail::lse_init();
    for (std::int64_t s = 0; s < l; ++s) acc = detail::lse_push(acc, sample_ll[row * l + s]);
    out[row] = detail::lse_value(acc) - log_l;
  }
}

// Waits for the stream; a kernel fault is named as such by check().
void finish(cudaStream_t stream) { check(cudaStreamSynchronize(stream), "cudaStreamSynchronize"); }

struct DeviceGuard {
  int previous = -1;
  explicit DeviceGuard(int device) {
    check(cudaGetDevice(&previous), "cudaGetDevice");
    check(cudaSetDevice(device), ("cudaSetDevice(" + std::to_string(device) + ")").c_str());
  }
  ~DeviceGuard() { cudaSetDevice(previous); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;
};

// Byte offsets of x, mu and log_sigma of `rows` rows inside one staging slot / device buffer.
struct ChunkLayout {
  std::size_t x_bytes, s_bytes, mu_at, ls_at, total;
  ChunkLayout(std::int64_t rows, std::int64_t l, std::int64_t d) {
    x_bytes = static_cast<std::size_t>(rows * d) * sizeof(float);
    s_bytes = static_cast<std::size_t>(rows * l * d) * sizeof(float);
    mu_at = align_up(x_bytes);
    ls_at = mu_at + align_up(s_bytes);
    total = ls_at + s_bytes;
  }
};

// Stages the inputs chunk by chunk, launches the kernel per chunk and brings the per-sample log
// likelihoods back into state.host_ll (defined below, after the public entry points).
void stage_and_reduce(DeviceState& state, const float* x, const float* mu, const float* log_sigma, std::int64_t n,
                      std::int64_t l, std::int64_t d, std::int64_t chunk_rows, cudaStream_t stream);

}  // namespace

void gaussian_log_rp(const float* x, const float* mu, const float* log_sigma, std::int64_t n, std::int64_t l,
                     std::int64_t d, double* out, int device, std::uintptr_t stream_handle) {
  if (n == 0) return;
  DeviceGuard current(device);
  DeviceState& state = device_state(device);
  std::lock_guard<std::mutex> guard(state.lock);
  cudaStream_t stream = stream_handle ? reinterpret_cast<cudaStream_t>(stream_handle) : state.own_stream;

  const std::size_t row_bytes = static_cast<std::size_t>(d * (1 + 2 * l)) * sizeof(float);
  const std::int64_t chunk_rows = std::max<std::int64_t>(1, static_cast<std::int64_t>(kChunkBytes / row_bytes));
  reserve_device_inputs(state, ChunkLayout(std::min(chunk_rows, n), l, d).total);
  reserve_ll(state, static_cast<std::size_t>(n * l));

  // On an error part-way, work already queued may still read the staging slots and buffers that
  // the next call reuses: wait for it (best effort) before reporting.
  try {
    stage_and_reduce(state, x, mu, log_sigma, n, l, d, chunk_rows, stream);
  } catch (...) {
    cudaStreamSynchronize(stream);
    throw;
  }
  reduce_rows(state.host_ll, n, l, out);
}

namespace {

void stage_and_reduce(DeviceState& state, const float* x, const float* mu, const float* log_sigma, std::int64_t n,
                      std::int64_t l, std::int64_t d, std::int64_t chunk_rows, cudaStream_t stream) {
  const ChunkLayout full(std::min(chunk_rows, n), l, d);
  char* dev = static_cast<char*>(state.device_inputs);
  std::int64_t chunk = 0;
  for (std::int64_t first = 0; first < n; first += chunk_rows, ++chunk) {
    const std::int64_t rows = std::min(chunk_rows, n - first);
    const ChunkLayout at(rows, l, d);
    PinnedSlot& slot = state.slots[chunk % 2];
    reserve_slot(slot, full.total);
    // The copy that last read this slot (two chunks ago) must be done before it is overwritten;
    // meanwhile the other slot's copy and kernel run.
    check(cudaEventSynchronize(slot.consumed), "cudaEventSynchronize(staging)");
    char* host = static_cast<char*>(slot.host);
    std::memcpy(host, x + first * d, at.x_bytes);
    std::memcpy(host + at.mu_at, mu + first * l * d, at.s_bytes);
    std::memcpy(host + at.ls_at, log_sigma + first * l * d, at.s_bytes);
    check(cudaMemcpyAsync(dev, host, at.total, cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync(inputs)");
    check(cudaEventRecord(slot.consumed, stream), "cudaEventRecord");
    launch(reinterpret_cast<const float*>(dev), reinterpret_cast<const float*>(dev + at.mu_at),
           reinterpret_cast<const float*>(dev + at.ls_at), rows, l, d, state.device_ll + first * l, stream);
  }
  const std::size_t samples = static_cast<std::size_t>(n * l);
  check(cudaMemcpyAsync(state.host_ll, state.device_ll, samples * sizeof(double), cudaMemcpyDeviceToHost, stream),
        "cudaMemcpyAsync(log likelihoods)");
  finish(stream);
}

// The caller's pointer must be device (or managed) memory of `device`.
void require_device_memory(const void* ptr, const char* name, int device) {
  cudaPointerAttributes attr{};
  const cudaError_t status = cudaPointerGetAttributes(&attr, ptr);
  if (status != cudaSuccess) {
    cudaGetLastError();
    throw InputError(std::string(name) + ": cudaPointerGetAttributes failed: " + error_text(status));
  }
  const bool on_device = attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged;
  if (!on_device || attr.device != device) {
    throw InputError(std::string(name) + " must be memory of CUDA device " + std::to_string(device) + ", got " +
                     (on_device ? "memory of device " + std::to_string(attr.device) : std::string("host memory")));
  }
}

}  // namespace

void gaussian_log_rp_device_memory(const float* x, const float* mu, const float* log_sigma, std::int64_t n,
                                   std::int64_t l, std::int64_t d, double* out, int device,
                                   std::uintptr_t stream_handle) {
  if (n == 0) return;
  DeviceGuard current(device);
  require_device_memory(x, "x", device);
  require_device_memory(mu, "mu", device);
  require_device_memory(log_sigma, "log_sigma", device);
  DeviceState& state = device_state(device);
  std::lock_guard<std::mutex> guard(state.lock);
  cudaStream_t stream = stream_handle ? reinterpret_cast<cudaStream_t>(stream_handle) : state.own_stream;
  reserve_ll(state, static_cast<std::size_t>(n * l));
  try {
    check(cudaMemsetAsync(state.device_flag, 0, sizeof(unsigned), stream), "cudaMemsetAsync(flag)");
    launch(x, mu, log_sigma, n, l, d, state.device_ll, stream, state.device_flag);
    const std::size_t samples = static_cast<std::size_t>(n * l);
    check(cudaMemcpyAsync(state.host_ll, state.device_ll, samples * sizeof(double), cudaMemcpyDeviceToHost, stream),
          "cudaMemcpyAsync(log likelihoods)");
    check(cudaMemcpyAsync(state.host_flag, state.device_flag, sizeof(unsigned), cudaMemcpyDeviceToHost, stream),
          "cudaMemcpyAsync(flag)");
    finish(stream);
  } catch (...) {
    cudaStreamSynchronize(stream);  // as in gaussian_log_rp: nothing queued may outlive the call
    throw;
  }
  const unsigned bad = *state.host_flag;
  if (bad) {
    const char* name = (bad & kBadX) ? "x" : (bad & kBadMu) ? "mu" : "log_sigma";
    throw InputError(std::string(name) + " must hold finite values, found inf or NaN (checked on the device)");
  }
  reduce_rows(state.host_ll, n, l, out);
}

double time_kernel_ms(const float* x, const float* mu, const float* log_sigma, std::int64_t n, std::int64_t l,
                      std::int64_t d, int device, int repeats) {
  DeviceGuard current(device);
  const ChunkLayout at(n, l, d);
  char* dev = nullptr;
  double* ll = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  float ms = 0.0f;
  const auto release = [&] {
    cudaFree(dev);
    cudaFree(ll);
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
  };
  cudaError_t status = cudaMalloc(&dev, at.total);
  if (status == cudaSuccess) status = cudaMalloc(&ll, static_cast<std::size_t>(n * l) * sizeof(double));
  if (status == cudaSuccess) status = cudaEventCreate(&start);
  if (status == cudaSuccess) status = cudaEventCreate(&stop);
  if (status == cudaSuccess) status = cudaMemcpy(dev, x, at.x_bytes, cudaMemcpyHostToDevice);
  if (status == cudaSuccess) status = cudaMemcpy(dev + at.mu_at, mu, at.s_bytes, cudaMemcpyHostToDevice);
  if (status == cudaSuccess) status = cudaMemcpy(dev + at.ls_at, log_sigma, at.s_bytes, cudaMemcpyHostToDevice);
  try {
    check(status, "setting up the kernel timing");
    const auto run = [&] {
      launch(reinterpret_cast<const float*>(dev), reinterpret_cast<const float*>(dev + at.mu_at),
             reinterpret_cast<const float*>(dev + at.ls_at), n, l, d, ll, nullptr);
    };
    run();  // warm-up
    check(cudaEventRecord(start), "cudaEventRecord");
    for (int r = 0; r < repeats; ++r) run();
    check(cudaEventRecord(stop), "cudaEventRecord");
    finish(nullptr);
    check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
  } catch (...) {
    release();
    throw;
  }
  release();
  return static_cast<double>(ms) / repeats;
}

}  // namespace cuda
}  // namespace facesel
