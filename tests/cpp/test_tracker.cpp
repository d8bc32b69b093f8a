// Tracker life cycle, crossing faces, and the assignment solver against brute force.
#include <algorithm>
#include <cmath>
#include <utility>
#include <numeric>
#include <random>
#include <limits>
#include <vector>

#include "check.hpp"
#include "facesel/linear_assignment.hpp"
#include "facesel/sparse_assignment.hpp"
#include "facesel/tracker.hpp"

namespace {

std::vector<float> square(float cx, float cy, float size) {
  return {cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2};
}

void test_assignment_matches_brute_force() {
  std::mt19937 gen(3);
  std::uniform_real_distribution<double> u(0.0, 10.0);
  for (int rows = 1; rows <= 6; ++rows) {
    for (int cols = 1; cols <= 6; ++cols) {
      std::vector<double> cost(rows * cols);
      for (auto& c : cost) c = u(gen);
      const auto got = facesel::linear_assignment(cost.data(), rows, cols);
      double got_total = 0.0;
      std::vector<char> used(cols, 0);
      int assigned = 0;
      for (int r = 0; r < rows; ++r) {
        if (got[r] < 0) continue;
        CHECK(!used[got[r]], "column " << got[r] << " used twice");
        used[got[r]] = 1;
        got_total += cost[r * cols + got[r]];
        ++assigned;
      }
      CHECK(assigned == std::min(rows, cols), rows << "x" << cols << ": " << assigned << " assigned");
      // Brute force: every injection of the smaller side into the larger.
      const int small = std::min(rows, cols), large = std::max(rows, cols);
      std::vector<int> perm(large);
      std::iota(perm.begin(), perm.end(), 0);
      double best = 1e300;
      do {
        double total = 0.0;
        for (int k = 0; k < small; ++k) total += rows <= cols ? cost[k * cols + perm[k]] : cost[perm[k] * cols + k];
        best = std::min(best, total);
      } while (std::next_permutation(perm.begin(), perm.end()));
      CHECK(std::abs(got_total - best) < 1e-9, rows << "x" << cols << ": total " << got_total << " vs optimum " << best);
    }
  }
}

// (pairs, total cost) of an assignment over the given edges.
std::pair<int, double> objective(const std::vector<facesel::AssignmentEdge>& edges, const std::vector<std::int64_t>& got) {
  int pairs = 0;
  double total = 0.0;
  for (const auto& e : edges) {
    if (got[e.row] == e.col) {
      ++pairs;
      total += e.cost;
    }
  }
  return {pairs, total};
}

void test_sparse_assignment_matches_dense() {
  std::mt19937 gen(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int trial = 0; trial < 200; ++trial) {
    const int rows = 1 + trial % 23, cols = 1 + (trial * 7) % 19;
    const double density = 0.05 + 0.3 * u(gen);
    std::vector<facesel::AssignmentEdge> edges;
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) {
        // Every fourth trial draws tied costs, the case that made the dense solver slow.
        if (u(gen) < density) edges.push_back({r, c, trial % 4 == 0 ? 1.0 : 3.0 * u(gen)});
      }
    }
    const auto sparse = facesel::sparse_assignment(rows, cols, edges);
    const auto dense = facesel::dense_gated_assignment(rows, cols, edges);
    const auto a = objective(edges, sparse), b = objective(edges, dense);
    int assigned = 0;
    for (auto col : sparse) assigned += col >= 0;
    CHECK(assigned == a.first, "trial " << trial << ": an assigned pair is not an edge");
    CHECK(a.first == b.first && std::abs(a.second - b.second) < 1e-9,
          "trial " << trial << ": sparse " << a.first << "/" << a.second << " vs dense " << b.first << "/" << b.second);
  }
  const std::vector<facesel::AssignmentEdge> twice = {{0, 0, 1.0}, {0, 0, 2.0}};
  CHECK_THROWS(facesel::sparse_assignment(1, 1, twice), std::invalid_argument);
  const std::vector<facesel::AssignmentEdge> outside = {{0, 3, 1.0}};
  CHECK_THROWS(facesel::sparse_assignment(1, 1, outside), std::invalid_argument);
}

void test_crossing_keeps_ids() {
  facesel::Tracker tracker;
  std::int64_t id_a = -1, id_b = -1;
  for (int t = 0; t < 40; ++t) {
    std::vector<float> boxes = square(20 + 4.0f * t, 100, 40);
    const std::vector<float> b = square(176 - 4.0f * t, 100, 34);
    // Alternate the row order, so that the answer cannot come from the order.
    if (t % 2) boxes.insert(boxes.begin(), b.begin(), b.end());
    else boxes.insert(boxes.end(), b.begin(), b.end());
    const auto u = tracker.update(boxes.data(), 2);
    const std::int64_t a_now = u.track_ids[t % 2 ? 1 : 0], b_now = u.track_ids[t % 2 ? 0 : 1];
    if (t == 0) {
      id_a = a_now;
      id_b = b_now;
    }
    CHECK(a_now == id_a && b_now == id_b, "frame " << t << ": ids " << a_now << ", " << b_now);
  }
}

void test_life_cycle() {
  facesel::TrackerConfig c;
  c.min_hits = 2;
  c.max_age = 1;
  facesel::Tracker tracker(c);
  const auto box = square(50, 50, 20);
  const auto first = tracker.update(box.data(), 1);
  CHECK(first.track_ids[0] == 1 && !first.confirmed[0], "first update");
  CHECK(tracker.update(box.data(), 1).confirmed[0] == 1, "confirmed after min_hits");
  CHECK(tracker.update(nullptr, 0).closed.empty(), "unseen once: still open");
  const auto closed = tracker.update(nullptr, 0);
  CHECK(closed.closed.size() == 1 && closed.closed[0] == 1, "closed after max_age");
  tracker.update(box.data(), 1);
  const auto flushed = tracker.flush();
  CHECK(flushed.dropped.size() == 1 && flushed.dropped[0] == 2 && tracker.size() == 0, "flush drops the tentative");
  const std::vector<float> bad = {5, 5, 1, 9};
  CHECK_THROWS(tracker.update(bad.data(), 1), std::invalid_argument);
  CHECK_THROWS(tracker.update(nullptr, 2), std::invalid_argument);  // was a segmentation fault (ux22)
  facesel::TrackerConfig wrong;
  wrong.max_age = -1;
  CHECK_THROWS(facesel::Tracker{wrong}, std::invalid_argument);
  CHECK_THROWS(facesel::parse_track_metric("cosine"), std::invalid_argument);
}

void test_max_tracks_bound() {
  facesel::TrackerConfig c;
  c.min_hits = 1;
  c.max_tracks = 3;
  facesel::Tracker tracker(c);
  std::vector<float> boxes;
  for (int k = 0; k < 5; ++k) {
    const auto b = square(50.0f + 100.0f * k, 50, 20);
    boxes.insert(boxes.end(), b.begin(), b.end());
  }
  const auto first = tracker.update(boxes.data(), 5);
  // Five new tracks, all alike but their ids: the two newest end at once.
  CHECK(tracker.size() == 3 && first.evicted.size() == 2, "size " << tracker.size());
  CHECK(first.evicted.size() == 2 && first.evicted[0] + first.evicted[1] == first.track_ids[3] + first.track_ids[4],
        "the newest ids are evicted");
  CHECK(first.closed.size() == 2, "evicted confirmed tracks are reported as closed");
  for (int frame = 0; frame < 20; ++frame) {
    std::vector<float> one = square(1000.0f + 100.0f * frame, 500, 20);
    tracker.update(one.data(), 1);
    CHECK(tracker.size() <= 3, "frame " << frame << ": " << tracker.size() << " open tracks");
  }
  facesel::TrackerConfig wrong;
  wrong.max_tracks = 0;
  CHECK_THROWS(facesel::Tracker{wrong}, std::invalid_argument);
  wrong = facesel::TrackerConfig();
  wrong.max_age = facesel::kMaxMaxAge + 1;
  CHECK_THROWS(facesel::Tracker{wrong}, std::invalid_argument);
}

}  // namespace

void test_second_pass() {
  facesel::TrackerConfig c;
  c.min_hits = 2;
  c.start_score = 0.6;
  facesel::Tracker tracker(c);
  const auto box = square(50, 50, 20);
  const float sure = 0.9f, doubt = 0.4f;
  CHECK(tracker.update(box.data(), 1, &doubt).track_ids[0] == -1, "a low box starts no track");
  CHECK(tracker.size() == 0, "nothing open after a low box");
  tracker.update(box.data(), 1, &sure);
  CHECK(tracker.update(box.data(), 1, &doubt).track_ids[0] == -1, "a tentative track is not carried on a low box");
  tracker.update(box.data(), 1, &sure);  // second confident hit: confirmed
  CHECK(tracker.update(box.data(), 1, &doubt).track_ids[0] == 1, "a confirmed track continues on a low box");
  c.second_pass = false;
  facesel::Tracker off(c);
  off.update(box.data(), 1, &sure);
  off.update(box.data(), 1, &sure);
  CHECK(off.update(box.data(), 1, &doubt).track_ids[0] == -1, "without the second pass a low box is ignored");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS(off.update(box.data(), 1, &nan), std::invalid_argument);
  facesel::TrackerConfig wrong;
  wrong.start_score = 1.5;
  CHECK_THROWS(facesel::Tracker{wrong}, std::invalid_argument);
}

int main() {
  test_assignment_matches_brute_force();
  test_sparse_assignment_matches_dense();
  test_crossing_keeps_ids();
  test_life_cycle();
  test_max_tracks_bound();
  test_second_pass();
  return facesel_test::finish("test_tracker");
}
