#include "facesel/tracker.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "facesel/linear_assignment.hpp"

namespace facesel {

namespace {

// Weight of the newest displacement in the velocity average: 0.5 follows a face that speeds up
// within two or three frames while halving the effect of detector jitter on the prediction.
constexpr double kVelocitySmoothing = 0.5;

// Euclidean metric: the gate is the paper's centre distance alone, but among pairs that pass it
// the assignment cost adds this much per unit of |log(size ratio)|. When two faces of different
// sizes are at the same spot (one passing in front of the other) centre distance ties, and the
// size term still gives each box to the track of its size.
constexpr double kSizeWeight = 0.1;

double iou(const double a[4], const float* b) {
  const double ix = std::min(a[2], static_cast<double>(b[2])) - std::max(a[0], static_cast<double>(b[0]));
  const double iy = std::min(a[3], static_cast<double>(b[3])) - std::max(a[1], static_cast<double>(b[1]));
  if (ix <= 0.0 || iy <= 0.0) return 0.0;
  const double inter = ix * iy;
  const double area_a = (a[2] - a[0]) * (a[3] - a[1]);
  const double area_b = (static_cast<double>(b[2]) - b[0]) * (static_cast<double>(b[3]) - b[1]);
  return inter / (area_a + area_b - inter);
}

std::string box_str(const float* b) {
  std::ostringstream s;
  s << "[" << b[0] << ", " << b[1] << ", " << b[2] << ", " << b[3] << "]";
  return s.str();
}

}  // namespace

TrackMetric parse_track_metric(const std::string& name) {
  if (name == "euclidean") return TrackMetric::Euclidean;
  if (name == "iou") return TrackMetric::IoU;
  throw std::invalid_argument("metric must be 'euclidean' or 'iou', got '" + name + "'");
}

const char* track_metric_name(TrackMetric metric) {
  return metric == TrackMetric::IoU ? "iou" : "euclidean";
}

void TrackerConfig::validate() const {
  std::ostringstream s;
  if (!(std::isfinite(max_distance) && max_distance > 0.0)) {
    s << "max_distance must be a finite number > 0, got " << max_distance;
  } else if (!(min_iou > 0.0 && min_iou <= 1.0)) {
    s << "min_iou must be in (0, 1], got " << min_iou;
  } else if (min_hits < 1) {
    s << "min_hits must be >= 1, got " << min_hits;
  } else if (max_age < 0) {
    s << "max_age must be >= 0, got " << max_age;
  } else {
    return;
  }
  throw std::invalid_argument(s.str());
}

Tracker::Tracker(const TrackerConfig& config) : config_(config) { config_.validate(); }

void Tracker::predicted_box(const Track& t, double out[4]) const {
  double cx = t.cx, cy = t.cy;
  if (config_.predict_motion) {
    // The track was last seen `unseen` updates ago; this update is one more step ahead.
    const double steps = static_cast<double>(t.unseen + 1);
    cx += t.vx * steps;
    cy += t.vy * steps;
  }
  out[0] = cx - 0.5 * t.w;
  out[1] = cy - 0.5 * t.h;
  out[2] = cx + 0.5 * t.w;
  out[3] = cy + 0.5 * t.h;
}

double Tracker::cost(const Track& t, const float* box) const {
  double p[4];
  predicted_box(t, p);
  if (config_.metric == TrackMetric::IoU) {
    const double overlap = iou(p, box);
    return overlap >= config_.min_iou ? 1.0 - overlap : std::numeric_limits<double>::infinity();
  }
  const double bw = static_cast<double>(box[2]) - box[0], bh = static_cast<double>(box[3]) - box[1];
  const double dx = 0.5 * (p[0] + p[2]) - 0.5 * (static_cast<double>(box[0]) + box[2]);
  const double dy = 0.5 * (p[1] + p[3]) - 0.5 * (static_cast<double>(box[1]) + box[3]);
  // sqrt(size_t * size_d) with size = sqrt(w * h): a scale-free distance, so that the same
  // threshold works for a face close to the camera and one far away.
  const double track_size = std::sqrt(t.w * t.h), det_size = std::sqrt(bw * bh);
  const double distance = std::sqrt(dx * dx + dy * dy) / std::sqrt(track_size * det_size);
  if (!(distance <= config_.max_distance)) return std::numeric_limits<double>::infinity();
  return distance + kSizeWeight * std::abs(std::log(track_size / det_size));
}

TrackerUpdate Tracker::update(const float* boxes, std::int64_t n) {
  if (n < 0) throw std::invalid_argument("boxes: the number of boxes must be >= 0, got " + std::to_string(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const float* b = boxes + 4 * i;
    const bool finite = std::isfinite(b[0]) && std::isfinite(b[1]) && std::isfinite(b[2]) && std::isfinite(b[3]);
    if (!finite || !(b[2] > b[0]) || !(b[3] > b[1])) {
      throw std::invalid_argument("boxes row " + std::to_string(i) +
                                  " must be finite x1, y1, x2, y2 with x2 > x1 and y2 > y1, got " + box_str(b));
    }
  }

  // One-to-one assignment by the Hungarian method (Jonker-Volgenant shortest augmenting paths)
  // rather than greedy-by-cost: when two faces pass close to each other, the greedy choice of the
  // single cheapest pair can force the other face onto a wrong or no track, which is exactly an id
  // swap; the optimal assignment minimises the total cost instead. With at most a few tens of
  // faces per frame the O(n^3) cost is microseconds.
  const std::int64_t t_count = static_cast<std::int64_t>(tracks_.size());
  std::vector<std::int64_t> det_of_track(t_count, -1);
  if (t_count > 0 && n > 0) {
    std::vector<double> cost_matrix(static_cast<std::size_t>(t_count * n));
    std::vector<char> feasible(cost_matrix.size());
    double max_feasible = 0.0;
    for (std::int64_t t = 0; t < t_count; ++t) {
      for (std::int64_t d = 0; d < n; ++d) {
        const double c = cost(tracks_[t], boxes + 4 * d);
        const std::size_t k = static_cast<std::size_t>(t * n + d);
        feasible[k] = std::isfinite(c);
        cost_matrix[k] = c;
        if (feasible[k]) max_feasible = std::max(max_feasible, c);
      }
    }
    // Pairs that fail the gate get a cost above any sum of feasible costs, so that the solver
    // first maximises the number of feasible pairs and only then minimises their total cost.
    const double infeasible = (static_cast<double>(std::min(t_count, n)) + 1.0) * (max_feasible + 1.0);
    for (std::size_t k = 0; k < cost_matrix.size(); ++k) {
      if (!feasible[k]) cost_matrix[k] = infeasible;
    }
    const std::vector<std::int64_t> assigned = linear_assignment(cost_matrix.data(), t_count, n);
    for (std::int64_t t = 0; t < t_count; ++t) {
      if (assigned[t] >= 0 && feasible[static_cast<std::size_t>(t * n + assigned[t])]) det_of_track[t] = assigned[t];
    }
  }

  TrackerUpdate result;
  result.track_ids.assign(static_cast<std::size_t>(n), -1);
  result.confirmed.assign(static_cast<std::size_t>(n), 0);

  std::vector<Track> kept;
  kept.reserve(tracks_.size() + static_cast<std::size_t>(n));
  for (std::int64_t t = 0; t < t_count; ++t) {
    Track tr = tracks_[t];
    const std::int64_t d = det_of_track[t];
    if (d < 0) {
      if (++tr.unseen > config_.max_age) {
        (tr.confirmed ? result.closed : result.dropped).push_back(tr.id);
      } else {
        kept.push_back(tr);
      }
      continue;
    }
    const float* b = boxes + 4 * d;
    const double cx = 0.5 * (static_cast<double>(b[0]) + b[2]), cy = 0.5 * (static_cast<double>(b[1]) + b[3]);
    const double steps = static_cast<double>(tr.unseen + 1);
    tr.vx += kVelocitySmoothing * ((cx - tr.cx) / steps - tr.vx);
    tr.vy += kVelocitySmoothing * ((cy - tr.cy) / steps - tr.vy);
    tr.cx = cx;
    tr.cy = cy;
    tr.w = static_cast<double>(b[2]) - b[0];
    tr.h = static_cast<double>(b[3]) - b[1];
    tr.unseen = 0;
    tr.hits += 1;
    tr.confirmed = tr.confirmed || tr.hits >= config_.min_hits;
    result.track_ids[d] = tr.id;
    result.confirmed[d] = tr.confirmed ? 1 : 0;
    kept.push_back(tr);
  }
  for (std::int64_t d = 0; d < n; ++d) {
    if (result.track_ids[d] >= 0) continue;
    const float* b = boxes + 4 * d;
    Track tr{};
    tr.id = next_id_++;
    tr.cx = 0.5 * (static_cast<double>(b[0]) + b[2]);
    tr.cy = 0.5 * (static_cast<double>(b[1]) + b[3]);
    tr.w = static_cast<double>(b[2]) - b[0];
    tr.h = static_cast<double>(b[3]) - b[1];
    tr.hits = 1;
    tr.confirmed = config_.min_hits <= 1;
    result.track_ids[d] = tr.id;
    result.confirmed[d] = tr.confirmed ? 1 : 0;
    kept.push_back(tr);
  }
  tracks_.swap(kept);
  return result;
}

TrackerUpdate Tracker::flush() {
  TrackerUpdate result;
  for (const Track& tr : tracks_) (tr.confirmed ? result.closed : result.dropped).push_back(tr.id);
  tracks_.clear();
  return result;
}

std::vector<std::int64_t> Tracker::open_track_ids() const {
  std::vector<std::int64_t> ids;
  ids.reserve(tracks_.size());
  for (const Track& tr : tracks_) ids.push_back(tr.id);
  return ids;
}

}  // namespace facesel
