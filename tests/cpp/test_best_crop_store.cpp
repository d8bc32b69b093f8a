// BestCropStore against a keep-everything reference, and its memory bound.
#include <algorithm>
#include <random>
#include <vector>

#include "check.hpp"
#include "facesel/best_crop_store.hpp"

namespace {

void test_against_reference(std::int64_t k, std::int64_t w, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> quality(0, 9), gap(1, 3);
  facesel::BestCropStore store(k, w);
  std::vector<facesel::Observation> all;
  std::vector<std::int64_t> released;
  std::int64_t frame = 0;
  for (int i = 0; i < 80; ++i) {
    frame += gap(gen);
    const facesel::Observation o{frame, double(quality(gen)), 500 + i};
    all.push_back(o);
    const bool admitted = store.admits(9, o.quality);
    const auto r = store.push(9, o.frame_index, o.quality, o.handle);
    // Admitted exactly when it ranks among the top K of everything pushed so far (earlier first on ties).
    const auto beaten_by = std::count_if(all.begin(), all.end() - 1, [&o](const auto& a) { return a.quality >= o.quality; });
    CHECK(admitted == (beaten_by < k), "admits(" << o.quality << ") " << admitted << " at frame " << frame);
    released.insert(released.end(), r.begin(), r.end());
  }
  std::vector<facesel::Observation> order = all;
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.quality > b.quality; });
  const auto closed = store.close(9);
  CHECK(closed.best.frame_index == order[0].frame_index, "best frame " << closed.best.frame_index);
  CHECK(closed.top.size() == std::size_t(std::min<std::int64_t>(k, 80)), "top size " << closed.top.size());
  for (std::size_t i = 0; i < closed.top.size(); ++i) {
    CHECK(closed.top[i].frame_index == order[i].frame_index, "top[" << i << "] " << closed.top[i].frame_index);
  }
  std::vector<std::int64_t> clip_want;
  for (const auto& o : all)
    if (std::abs(o.frame_index - order[0].frame_index) <= w) clip_want.push_back(o.frame_index);
  std::vector<std::int64_t> clip_got;
  for (const auto& o : closed.clip) clip_got.push_back(o.frame_index);
  CHECK(clip_got == clip_want, "clip of " << clip_got.size() << " frames, want " << clip_want.size());
  released.insert(released.end(), closed.released.begin(), closed.released.end());
  std::sort(released.begin(), released.end());
  CHECK(released.size() == all.size() && std::adjacent_find(released.begin(), released.end()) == released.end(),
        "every handle released exactly once");
  CHECK(store.held_handles() == 0 && store.size() == 0, "empty after close");
}

void test_bounded() {
  const std::int64_t k = 3, w = 4;
  facesel::BestCropStore store(k, w);
  std::mt19937 gen(1);
  std::uniform_real_distribution<double> q(0.0, 1.0);
  std::size_t peak = 0;
  for (std::int64_t f = 0; f < 200000; ++f) {
    store.push(1, f, q(gen), f);
    peak = std::max(peak, store.held_handles());
  }
  CHECK(peak <= std::size_t(k + 3 * w + 2), "peak " << peak);
}

}  // namespace

int main() {
  for (std::int64_t k : {1, 3, 8})
    for (std::int64_t w : {0, 2, 5}) test_against_reference(k, w, unsigned(k * 10 + w));
  test_bounded();
  facesel::BestCropStore store(1, 0);
  CHECK_THROWS(facesel::BestCropStore(0, 0), std::invalid_argument);
  CHECK_THROWS(store.close(4), std::invalid_argument);
  store.push(1, 3, 1.0, 7);
  CHECK_THROWS(store.push(1, 3, 1.0, 8), std::invalid_argument);
  CHECK_THROWS(store.push(2, 0, 1.0, 7), std::invalid_argument);
  return facesel_test::finish("test_best_crop_store");
}
