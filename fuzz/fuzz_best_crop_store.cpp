// libFuzzer harness: facesel::BestCropStore with any top_k / clip_window, then a sequence of
// push / close / discard / best / admits on a few tracks with any frame indices, qualities
// (NaN, inf) and handles. Invariants: only std::invalid_argument escapes; the store holds
// exactly the handles pushed and not yet released (a model kept here); a handle is released
// only once; a refused call changes nothing; a closed track's best is in its top and clip.
#include <algorithm>
#include <memory>
#include <set>
#include <stdexcept>
#include <vector>

#include "facesel/best_crop_store.hpp"
#include "fuzz_input.hpp"

namespace {

void release(std::set<std::int64_t>& held, const std::vector<std::int64_t>& released) {
  for (std::int64_t h : released) FUZZ_CHECK(held.erase(h) == 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  facesel_fuzz::FuzzInput in(data, size);
  const std::int64_t top_k = in.flag() ? in.any_i64() : in.in_range(0, 4);
  const std::int64_t window = in.flag() ? in.any_i64() : in.in_range(-1, 4);
  std::unique_ptr<facesel::BestCropStore> store;
  try {
    store = std::make_unique<facesel::BestCropStore>(top_k, window);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  std::set<std::int64_t> held;  // the model: handles pushed and not released
  std::int64_t next_frame[4] = {0, 0, 0, 0};
  std::int64_t next_handle = 0;
  for (int step = 0; step < 200 && !in.empty(); ++step) {
    const int op = in.byte() % 8;
    const std::int64_t track = in.flag() ? in.any_i64() : in.in_range(0, 3);
    const std::size_t slot = static_cast<std::size_t>(track & 3);
    const std::size_t held_before = store->held_handles();
    try {
      if (op <= 3) {
        std::int64_t frame = next_frame[slot] + in.in_range(0, 3);
        if (in.byte() % 8 == 0) frame = in.any_i64();
        const double quality = in.flag() ? in.any_double() : static_cast<double>(in.byte());
        std::int64_t handle = next_handle;
        if (in.byte() % 8 == 0) handle = in.flag() ? in.any_i64() : in.in_range(0, next_handle);
        const auto released = store->push(track, frame, quality, handle);
        FUZZ_CHECK(held.insert(handle).second);
        if (handle == next_handle) ++next_handle;
        next_frame[slot] = frame + 1;
        release(held, released);
      } else if (op == 4) {
        const auto closed = store->close(track);
        FUZZ_CHECK(!closed.top.empty() && closed.top.front().frame_index == closed.best.frame_index);
        FUZZ_CHECK(static_cast<std::int64_t>(closed.top.size()) <= store->top_k());
        bool best_in_clip = false;
        for (const auto& o : closed.clip) best_in_clip = best_in_clip || o.frame_index == closed.best.frame_index;
        FUZZ_CHECK(best_in_clip);
        release(held, closed.released);
      } else if (op == 5) {
        release(held, store->discard(track));
      } else if (op == 6) {
        (void)store->best(track);
      } else {
        (void)store->admits(track, in.any_double());
      }
    } catch (const std::invalid_argument&) {
      FUZZ_CHECK(store->held_handles() == held_before);
    }
    FUZZ_CHECK(store->held_handles() == held.size());
  }
  return 0;
}
