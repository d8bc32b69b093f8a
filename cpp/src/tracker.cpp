#include "facesel/tracker.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "facesel/sparse_assignment.hpp"

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

Association parse_association(const std::string& name) {
  if (name == "components") return Association::Components;
  if (name == "dense") return Association::Dense;
  throw std::invalid_argument("association must be 'components' or 'dense', got '" + name + "'");
}

const char* association_name(Association association) {
  return association == Association::Dense ? "dense" : "components";
}

void TrackerConfig::validate() const {
  std::ostringstream s;
  if (!(std::isfinite(max_distance) && max_distance > 0.0)) {
    s << "max_distance must be a finite number > 0, got " << max_distance;
  } else if (!(min_iou > 0.0 && min_iou <= 1.0)) {
    s << "min_iou must be in (0, 1], got " << min_iou;
  } else if (min_hits < 1) {
    s << "min_hits must be >= 1, got " << min_hits;
  } else if (max_age < 0 || max_age > kMaxMaxAge) {
    s << "max_age must be in [0, " << kMaxMaxAge << "], got " << max_age;
  } else if (max_tracks < 1 || max_tracks > kMaxMaxTracks) {
    s << "max_tracks must be in [1, " << kMaxMaxTracks << "], got " << max_tracks;
  } else if (!(start_score >= 0.0 && start_score <= 1.0)) {
    s << "start_score must be in [0, 1], got " << start_score;
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

TrackerUpdate Tracker::update(const float* boxes, std::int64_t n, const float* scores) {
  if (n < 0) throw std::invalid_argument("boxes: the number of boxes must be >= 0, got " + std::to_string(n));
  // A null pointer with boxes to read was a segmentation fault (ux22): refused like a bad row.
  if (boxes == nullptr && n > 0) {
    throw std::invalid_argument("boxes must not be a null pointer when n > 0, got nullptr with n = " + std::to_string(n));
  }
  for (std::int64_t i = 0; i < n; ++i) {
    const float* b = boxes + 4 * i;
    const bool finite = std::isfinite(b[0]) && std::isfinite(b[1]) && std::isfinite(b[2]) && std::isfinite(b[3]);
    if (!finite || !(b[2] > b[0]) || !(b[3] > b[1])) {
      throw std::invalid_argument("boxes row " + std::to_string(i) +
                                  " must be finite x1, y1, x2, y2 with x2 > x1 and y2 > y1, got " + box_str(b));
    }
    if (scores != nullptr && !std::isfinite(scores[i])) {
      throw std::invalid_argument("scores row " + std::to_string(i) + " must be finite, got " +
                                  std::to_string(scores[i]));
    }
  }

  // Which boxes may start a track (high) and which may only continue one (low, below start_score).
  std::vector<std::int64_t> high, low;
  high.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const bool is_low = scores != nullptr && static_cast<double>(scores[i]) < config_.start_score;
    (is_low ? low : high).push_back(i);
  }
  std::vector<float> high_boxes;
  const float* first_boxes = boxes;
  if (!low.empty()) {  // the first pass sees the high boxes only, packed
    high_boxes.resize(4 * high.size());
    for (std::size_t k = 0; k < high.size(); ++k) {
      std::copy(boxes + 4 * high[k], boxes + 4 * high[k] + 4, high_boxes.begin() + 4 * static_cast<std::ptrdiff_t>(k));
    }
    first_boxes = high_boxes.data();
  }

  // One-to-one assignment by the Hungarian method (Jonker-Volgenant shortest augmenting paths)
  // rather than greedy-by-cost: when two faces pass close to each other, the greedy choice of the
  // single cheapest pair can force the other face onto a wrong or no track, which is exactly an id
  // swap; the optimal assignment minimises the total cost instead.
  const std::int64_t t_count = static_cast<std::int64_t>(tracks_.size());
  std::vector<std::int64_t> det_of_track = associate(first_boxes, static_cast<std::int64_t>(high.size()));
  for (std::int64_t& d : det_of_track) {
    if (d >= 0) d = high[static_cast<std::size_t>(d)];
  }
  if (config_.second_pass && !low.empty()) {
    // ByteTrack's second pass: the confirmed tracks no confident box took may continue on a low
    // one (a face half behind someone else). A low box never starts a track, so junk the detector
    // is unsure of cannot open one, and a low box cannot take a track a confident box wanted.
    // Tentative tracks are left out, as in ByteTrack: a hand or a patch of background the detector
    // scored 0.6 once would otherwise be carried to confirmation on low boxes (measured on the
    // tiled signers: three such tracks confirmed, 8 snapshots for 5 people instead of 6).
    std::vector<std::int64_t> waiting;
    for (std::int64_t t = 0; t < t_count; ++t) {
      if (det_of_track[t] < 0 && tracks_[static_cast<std::size_t>(t)].confirmed) waiting.push_back(t);
    }
    if (!waiting.empty()) {
      const std::vector<std::int64_t> taken = associate_second(boxes, waiting, low);
      for (std::size_t k = 0; k < waiting.size(); ++k) {
        if (taken[k] >= 0) det_of_track[waiting[k]] = low[static_cast<std::size_t>(taken[k])];
      }
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
  for (const std::int64_t d : high) {
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
  evict_beyond_bound(kept, result);
  tracks_.swap(kept);
  return result;
}

std::vector<std::int64_t> Tracker::associate(const float* boxes, std::int64_t n) const {
  const std::int64_t t_count = static_cast<std::int64_t>(tracks_.size());
  std::vector<AssignmentEdge> edges;
  if (t_count == 0 || n == 0) return std::vector<std::int64_t>(static_cast<std::size_t>(t_count), -1);
  if (config_.association == Association::Dense) {
    for (std::int64_t t = 0; t < t_count; ++t) {
      for (std::int64_t d = 0; d < n; ++d) {
        const double c = cost(tracks_[t], boxes + 4 * d);
        if (std::isfinite(c)) edges.push_back({t, d, c});
      }
    }
    return dense_gated_assignment(t_count, n, edges);
  }

  // Candidates through the detections sorted by centre x: a pair can only pass the gate when
  // |dx| is within a radius that depends on the track and on the largest detection of the frame
  // (Euclidean: max_distance * sqrt(size_track * size_det) bounds the centre distance; IoU: the
  // boxes must overlap, so |dx| < (w_track + w_det) / 2). Each candidate then gets the exact gate,
  // so the feasible pairs are the dense solver's, found in O(T log N + candidates).
  std::vector<std::int64_t> by_x(static_cast<std::size_t>(n));
  std::vector<double> det_cx(static_cast<std::size_t>(n));
  double max_w = 0.0, max_size = 0.0;
  for (std::int64_t d = 0; d < n; ++d) {
    const float* b = boxes + 4 * d;
    const double w = static_cast<double>(b[2]) - b[0], h = static_cast<double>(b[3]) - b[1];
    det_cx[d] = 0.5 * (static_cast<double>(b[0]) + b[2]);
    max_w = std::max(max_w, w);
    max_size = std::max(max_size, std::sqrt(w * h));
    by_x[d] = d;
  }
  std::sort(by_x.begin(), by_x.end(), [&](std::int64_t a, std::int64_t b) { return det_cx[a] < det_cx[b]; });
  std::vector<double> sorted_cx(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) sorted_cx[k] = det_cx[by_x[k]];

  for (std::int64_t t = 0; t < t_count; ++t) {
    const Track& tr = tracks_[t];
    double p[4];
    predicted_box(tr, p);
    const double cx = 0.5 * (p[0] + p[2]);
    double radius = config_.metric == TrackMetric::IoU
                        ? 0.5 * (tr.w + max_w)
                        : config_.max_distance * std::sqrt(std::sqrt(tr.w * tr.h) * max_size);
    // A margin far above rounding error, so that a pair on the gate's edge is never cut here.
    radius = radius * (1.0 + 1e-9) + 1e-9 * (1.0 + std::abs(cx));
    const auto lo = std::lower_bound(sorted_cx.begin(), sorted_cx.end(), cx - radius);
    const auto hi = std::upper_bound(lo, sorted_cx.end(), cx + radius);
    for (auto it = lo; it != hi; ++it) {
      const std::int64_t d = by_x[it - sorted_cx.begin()];
      const double c = cost(tr, boxes + 4 * d);
      if (std::isfinite(c)) edges.push_back({t, d, c});
    }
  }
  return sparse_assignment(t_count, n, edges);
}

std::vector<std::int64_t> Tracker::associate_second(const float* boxes, const std::vector<std::int64_t>& tracks,
                                                    const std::vector<std::int64_t>& rows) const {
  // Every (track, low box) pair is tried: the low boxes of a frame are few (YuNet gives a handful
  // between 0.3 and 0.6 on a crowded frame), so this stays far below the first pass's cost.
  const std::int64_t r = static_cast<std::int64_t>(tracks.size()), c = static_cast<std::int64_t>(rows.size());
  std::vector<AssignmentEdge> edges;
  for (std::int64_t i = 0; i < r; ++i) {
    for (std::int64_t j = 0; j < c; ++j) {
      const double cst = cost(tracks_[static_cast<std::size_t>(tracks[i])], boxes + 4 * rows[j]);
      if (std::isfinite(cst)) edges.push_back({i, j, cst});
    }
  }
  if (edges.empty()) return std::vector<std::int64_t>(static_cast<std::size_t>(r), -1);
  return sparse_assignment(r, c, edges);
}

void Tracker::evict_beyond_bound(std::vector<Track>& tracks, TrackerUpdate& result) const {
  const std::size_t bound = static_cast<std::size_t>(config_.max_tracks);
  if (tracks.size() <= bound) return;
  // The order of TrackerConfig::max_tracks: unseen longest, tentative, fewer hits, newest id.
  std::vector<std::size_t> order(tracks.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  const auto ends_first = [&](std::size_t a, std::size_t b) {
    const Track& x = tracks[a];
    const Track& y = tracks[b];
    if (x.unseen != y.unseen) return x.unseen > y.unseen;
    if (x.confirmed != y.confirmed) return !x.confirmed;
    if (x.hits != y.hits) return x.hits < y.hits;
    return x.id > y.id;
  };
  const std::size_t excess = tracks.size() - bound;
  std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(excess - 1), order.end(), ends_first);
  std::vector<char> ends(tracks.size(), 0);
  for (std::size_t k = 0; k < excess; ++k) ends[order[k]] = 1;
  std::vector<Track> kept;
  kept.reserve(bound);
  for (std::size_t k = 0; k < tracks.size(); ++k) {
    if (!ends[k]) {
      kept.push_back(tracks[k]);
      continue;
    }
    (tracks[k].confirmed ? result.closed : result.dropped).push_back(tracks[k].id);
    result.evicted.push_back(tracks[k].id);
  }
  tracks.swap(kept);
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
