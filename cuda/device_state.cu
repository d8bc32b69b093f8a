#include "device_state.hpp"

#include <map>
#include <memory>

#include "cuda_check.hpp"

namespace facesel {
namespace cuda {

namespace {

std::mutex registry_lock;

// States live until the process ends: freeing CUDA memory from a static destructor after the
// driver has shut down is an error, and the OS reclaims everything at exit anyway.
std::map<int, std::unique_ptr<DeviceState>>& registry() {
  static auto* states = new std::map<int, std::unique_ptr<DeviceState>>();
  return *states;
}

}  // namespace

DeviceState& device_state(int device) {
  std::lock_guard<std::mutex> guard(registry_lock);
  auto& states = registry();
  auto found = states.find(device);
  if (found != states.end()) return *found->second;
  auto state = std::make_unique<DeviceState>();
  state->device = device;
  check(cudaStreamCreateWithFlags(&state->own_stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  for (PinnedSlot& slot : state->slots) {
    // Timing off: these events only order work, and timing makes each record more expensive.
    check(cudaEventCreateWithFlags(&slot.consumed, cudaEventDisableTiming), "cudaEventCreateWithFlags");
  }
  check(cudaMalloc(&state->device_flag, sizeof(unsigned)), "cudaMalloc(flag)");
  check(cudaMallocHost(&state->host_flag, sizeof(unsigned)), "cudaMallocHost(flag)");
  DeviceState& ref = *state;
  states.emplace(device, std::move(state));
  return ref;
}

void reserve_device_inputs(DeviceState& s, std::size_t bytes) {
  if (bytes <= s.device_inputs_capacity) return;
  if (s.device_inputs) check(cudaFree(s.device_inputs), "cudaFree(inputs)");
  s.device_inputs = nullptr;
  s.device_inputs_capacity = 0;
  check(cudaMalloc(&s.device_inputs, bytes), "cudaMalloc(inputs)");
  s.device_inputs_capacity = bytes;
}

void reserve_ll(DeviceState& s, std::size_t samples) {
  if (samples <= s.device_ll_capacity && samples <= s.host_ll_capacity) return;
  // Grow by at least half again, so that slowly growing batches do not reallocate every call.
  const std::size_t count = std::max(samples, s.device_ll_capacity + s.device_ll_capacity / 2);
  if (s.device_ll) check(cudaFree(s.device_ll), "cudaFree(ll)");
  if (s.host_ll) check(cudaFreeHost(s.host_ll), "cudaFreeHost(ll)");
  s.device_ll = nullptr;
  s.host_ll = nullptr;
  s.device_ll_capacity = s.host_ll_capacity = 0;
  check(cudaMalloc(&s.device_ll, count * sizeof(double)), "cudaMalloc(ll)");
  s.device_ll_capacity = count;
  check(cudaMallocHost(&s.host_ll, count * sizeof(double)), "cudaMallocHost(ll)");
  s.host_ll_capacity = count;
}

void reserve_slot(PinnedSlot& slot, std::size_t bytes) {
  if (bytes <= slot.capacity) return;
  // The slot's previous copy must be done before its memory goes.
  check(cudaEventSynchronize(slot.consumed), "cudaEventSynchronize(staging)");
  if (slot.host) check(cudaFreeHost(slot.host), "cudaFreeHost(staging)");
  slot.host = nullptr;
  slot.capacity = 0;
  check(cudaMallocHost(&slot.host, bytes), "cudaMallocHost(staging)");
  slot.capacity = bytes;
}

}  // namespace cuda
}  // namespace facesel
