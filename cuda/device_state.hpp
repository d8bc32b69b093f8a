// Per-device resources that persist between calls: a non-blocking stream, one device buffer and
// two pinned staging slots, grown on demand (never shrunk), so that a steady stream of batches
// allocates nothing after the first call. Included by the .cu files only.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <mutex>

namespace facesel {
namespace cuda {

/// Inputs are staged in chunks of at most this many bytes: large enough that the per-chunk
/// overheads are small against a copy at PCIe speed, small enough to bound pinned memory
/// (2 slots) and device memory (1 chunk) whatever the batch size.
constexpr std::size_t kChunkBytes = std::size_t{32} << 20;

struct PinnedSlot {
  void* host = nullptr;  // cudaMallocHost
  std::size_t capacity = 0;
  cudaEvent_t consumed = nullptr;  // recorded after the copy that reads this slot
};

struct DeviceState {
  std::mutex lock;  // one call at a time per device: the buffers are shared
  int device = -1;
  cudaStream_t own_stream = nullptr;
  void* device_inputs = nullptr;  // x | mu | log_sigma of one chunk
  std::size_t device_inputs_capacity = 0;
  double* device_ll = nullptr;  // one log likelihood per (row, sample) of the whole call
  std::size_t device_ll_capacity = 0;
  double* host_ll = nullptr;  // pinned
  std::size_t host_ll_capacity = 0;
  PinnedSlot slots[2];
  unsigned* device_flag = nullptr;  // non-finite input bits, for caller device memory
  unsigned* host_flag = nullptr;    // pinned
};

/// The state of `device`, created on first use (its stream and events); the caller holds
/// state.lock while using it and has made `device` current. Throws CudaError.
DeviceState& device_state(int device);

/// Make sure the buffers hold at least these many bytes / values (reallocating when smaller).
void reserve_device_inputs(DeviceState& s, std::size_t bytes);
void reserve_ll(DeviceState& s, std::size_t samples);
void reserve_slot(PinnedSlot& slot, std::size_t bytes);

}  // namespace cuda
}  // namespace facesel
