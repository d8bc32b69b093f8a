// Tracks two faces that walk past each other, keeps the best observation of each with a
// BestCropStore, and scores one toy "reconstruction" with gaussian_log_rp: the three pieces of
// facesel's core, used from C++ without Python. Exits non-zero if a result is wrong.
#include <cmath>
#include <cstdio>
#include <vector>

#include "facesel/best_crop_store.hpp"
#include "facesel/gaussian_ll.hpp"
#include "facesel/tracker.hpp"

int main() {
  facesel::Tracker tracker;  // the paper's centre-distance association
  facesel::BestCropStore store(/*top_k=*/2, /*clip_window=*/1);
  std::vector<std::int64_t> first_ids;
  int errors = 0;
  std::int64_t handle = 0;
  for (int frame = 0; frame < 30; ++frame) {
    const float a = 10.0f + 5.0f * frame, b = 160.0f - 5.0f * frame;
    const std::vector<float> boxes = {a, 50, a + 30, 80, b, 52, b + 26, 78};
    const facesel::TrackerUpdate u = tracker.update(boxes.data(), 2);
    if (frame == 0) first_ids = u.track_ids;
    if (u.track_ids != first_ids) ++errors;
    for (std::size_t i = 0; i < u.track_ids.size(); ++i) {
      // A stand-in quality that peaks at frame 12 for the first face and 20 for the second.
      const double quality = -std::abs(frame - (i == 0 ? 12 : 20));
      store.push(u.track_ids[i], frame, quality, handle++);
    }
  }
  for (std::int64_t id : tracker.flush().closed) {
    const facesel::ClosedTrack c = store.close(id);
    std::printf("track %lld: best frame %lld (quality %.1f), clip of %zu frames\n", static_cast<long long>(id),
                static_cast<long long>(c.best.frame_index), c.best.quality, c.clip.size());
    const std::int64_t want = id == first_ids[0] ? 12 : 20;
    if (c.best.frame_index != want || c.clip.size() != 3) ++errors;
  }

  // log RP of x under N(mu, 1) with mu = x: every pixel contributes -log sqrt(2 pi).
  const std::int64_t d = 16;
  std::vector<float> x(d, 0.5f), mu(d, 0.5f), log_sigma(d, 0.0f);
  double log_rp = 0.0;
  facesel::gaussian_log_rp(x.data(), mu.data(), log_sigma.data(), 1, 1, d, &log_rp);
  const double want = -0.5 * std::log(2.0 * 3.14159265358979323846) * d;
  std::printf("log RP %.6f (expected %.6f)\n", log_rp, want);
  if (std::abs(log_rp - want) > 1e-9 * std::abs(want)) ++errors;

  std::printf(errors == 0 ? "facesel example: OK\n" : "facesel example: %d errors\n", errors);
  return errors == 0 ? 0 : 1;
}
