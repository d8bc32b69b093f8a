// libFuzzer harness: facesel::Tracker with any configuration, then a sequence of updates (boxes
// and scores any float32: NaN, inf, inverted, huge; counts incl. negative; null pointers) and
// flushes. Invariants: only std::invalid_argument escapes; an update returns one entry per box,
// each id -1, an open track or one max_tracks ended on this call, no id twice; never more than max_tracks open; a refused update
// changes nothing.
#include <algorithm>
#include <memory>
#include <set>
#include <stdexcept>
#include <vector>

#include "facesel/tracker.hpp"
#include "fuzz_input.hpp"

namespace {

void check_update(const facesel::Tracker& tracker, const facesel::TrackerUpdate& u, std::int64_t n) {
  FUZZ_CHECK(static_cast<std::int64_t>(u.track_ids.size()) == n);
  FUZZ_CHECK(static_cast<std::int64_t>(u.confirmed.size()) == n);
  const auto open = tracker.open_track_ids();
  const std::set<std::int64_t> open_set(open.begin(), open.end());
  // A box's new track may be ended at once by max_tracks (TrackerConfig::max_tracks): its id is
  // then reported in `evicted` instead of staying open.
  const std::set<std::int64_t> evicted(u.evicted.begin(), u.evicted.end());
  std::set<std::int64_t> seen;
  for (std::int64_t id : u.track_ids) {
    if (id == -1) continue;
    FUZZ_CHECK(id >= 1);
    FUZZ_CHECK(seen.insert(id).second);
    FUZZ_CHECK(open_set.count(id) + evicted.count(id) == 1);
  }
  FUZZ_CHECK(static_cast<std::int64_t>(tracker.size()) <= tracker.config().max_tracks);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  facesel_fuzz::FuzzInput in(data, size);
  facesel::TrackerConfig config;
  config.metric = in.flag() ? facesel::TrackMetric::IoU : facesel::TrackMetric::Euclidean;
  config.association = in.flag() ? facesel::Association::Dense : facesel::Association::Components;
  config.predict_motion = in.flag();
  config.second_pass = in.flag();
  if (in.flag()) config.max_distance = in.any_double();
  if (in.flag()) config.min_iou = in.any_double();
  config.min_hits = in.flag() ? in.any_i64() : in.in_range(1, 4);
  config.max_age = in.flag() ? in.any_i64() : in.in_range(0, 5);
  config.max_tracks = in.flag() ? in.any_i64() : in.in_range(1, 8);
  if (in.flag()) config.start_score = in.any_double();
  std::unique_ptr<facesel::Tracker> tracker;
  try {
    tracker = std::make_unique<facesel::Tracker>(config);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  for (int step = 0; step < 64 && !in.empty(); ++step) {
    if (in.byte() % 16 == 0) {
      const auto u = tracker->flush();
      FUZZ_CHECK(u.track_ids.empty() && tracker->size() == 0);
      continue;
    }
    std::int64_t n = in.in_range(-1, 10);
    const bool null_boxes = in.byte() % 32 == 0;
    const bool with_scores = in.flag();
    std::vector<float> boxes(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)) * 4);
    std::vector<float> scores(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)));
    for (std::int64_t i = 0; i < n; ++i) {
      float* b = &boxes[static_cast<std::size_t>(4 * i)];
      if (in.byte() % 4 == 0) {
        for (int k = 0; k < 4; ++k) b[k] = in.any_float();
      } else {  // a plausible face: near the last ones, so that tracks form and age
        b[0] = static_cast<float>(in.in_range(0, 255)) * 4.0f;
        b[1] = static_cast<float>(in.in_range(0, 255)) * 4.0f;
        b[2] = b[0] + 1.0f + static_cast<float>(in.in_range(0, 127));
        b[3] = b[1] + 1.0f + static_cast<float>(in.in_range(0, 127));
      }
      scores[static_cast<std::size_t>(i)] = in.flag() ? in.any_float() : static_cast<float>(in.byte()) / 255.0f;
    }
    const auto before = tracker->open_track_ids();
    try {
      const auto u = tracker->update(null_boxes ? nullptr : boxes.data(), n, with_scores ? scores.data() : nullptr);
      check_update(*tracker, u, n);
    } catch (const std::invalid_argument&) {
      FUZZ_CHECK(tracker->open_track_ids() == before);
    }
  }
  return 0;
}
