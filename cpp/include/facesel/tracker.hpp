// Multi-object tracker for face boxes: associates each frame's detections with open tracks,
// one-to-one, and runs the track life cycle (tentative -> confirmed -> closed).
//
// Association follows Baert et al. (AAAI-21): the Euclidean distance between box centres, relative
// to box size, must stay under a threshold. IoU association is the alternative, chosen by a setting.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace facesel {

enum class TrackMetric {
  /// |centre_track - centre_det| / sqrt(size_track * size_det) <= max_distance, with
  /// size = sqrt(width * height): the geometric mean of the two box sizes. Among pairs within
  /// that gate, the assignment cost also weighs 0.1 * |log(size_track / size_det)| (breaks ties
  /// when a face passes in front of another).
  Euclidean,
  /// IoU(track box, det box) >= min_iou.
  IoU,
};

/// Parses "euclidean" or "iou"; throws std::invalid_argument naming `metric` otherwise.
TrackMetric parse_track_metric(const std::string& name);
const char* track_metric_name(TrackMetric metric);

enum class Association {
  /// Only pairs inside the gate are considered (found through a sort of the detections by x),
  /// and each connected component of the feasible pairs is solved on its own: the optimum of
  /// Dense at the cost of the components.
  Components,
  /// The former solver: the full (tracks x detections) matrix, infeasible pairs at a big cost.
  /// Same optimum; kept as a setting so that tests and benchmarks can compare the two.
  Dense,
};

/// Parses "components" or "dense"; throws std::invalid_argument naming `association` otherwise.
Association parse_association(const std::string& name);
const char* association_name(Association association);

/// Upper bounds of the settings: max_age beyond a few minutes of video is not the same passer-by
/// any more, and the bound on open tracks is what keeps one update's cost bounded.
constexpr std::int64_t kMaxMaxAge = 10000;
constexpr std::int64_t kMaxMaxTracks = 1 << 20;

struct TrackerConfig {
  TrackMetric metric = TrackMetric::Euclidean;
  double max_distance = 0.5;  ///< Euclidean gate, in box sizes (> 0)
  double min_iou = 0.3;       ///< IoU gate, in (0, 1]
  std::int64_t min_hits = 3;  ///< detections before a track is confirmed (>= 1)
  std::int64_t max_age = 10;  ///< a track closes when unseen for more than this many updates, in [0, 10000]
  /// At most this many open tracks, in [1, 2^20]. When an update would leave more, tracks are
  /// ended (reported in closed / dropped like any other end, and listed in `evicted`) in this
  /// order: unseen for longest first; then tentative before confirmed; then fewer hits; then the
  /// newest id. So a crowd with churn ends stale tracks first, and when the detections of one frame
  /// alone exceed the bound, the new tentative tracks of that frame go first.
  std::int64_t max_tracks = 4096;
  Association association = Association::Components;
  /// Predict each track's box with its smoothed velocity before association. Keeps identities
  /// apart when two faces cross; with false the last seen box is used as is (the paper's rule).
  bool predict_motion = true;
  /// Detections whose score is below this never start a track, in [0, 1]. 0 (the default): every
  /// detection may start one (and scores are not needed).
  double start_score = 0.0;
  /// What becomes of a detection below `start_score` (ByteTrack's second association pass):
  /// true: after the other detections are assigned, it may continue a confirmed track that none
  /// of them took (same gate and cost), so a partly covered face, which the detector scores low,
  /// keeps its track; false: it is ignored (as if the detector had dropped it).
  bool second_pass = true;

  /// Throws std::invalid_argument naming the first bad field and its value.
  void validate() const;
};

/// What one update (or flush) did.
struct TrackerUpdate {
  std::vector<std::int64_t> track_ids;  ///< (N) the track each input box was assigned to (-1: none)
  std::vector<std::uint8_t> confirmed;  ///< (N) 1 if that track has >= min_hits detections
  std::vector<std::int64_t> closed;     ///< ids of confirmed tracks that closed on this call
  std::vector<std::int64_t> dropped;    ///< ids of tentative tracks that died on this call
  std::vector<std::int64_t> evicted;    ///< ids in closed or dropped that max_tracks ended early
};

class Tracker {
 public:
  explicit Tracker(const TrackerConfig& config = TrackerConfig());

  /// boxes: (n, 4) float32 x1, y1, x2, y2, row-major, finite, with x2 > x1 and y2 > y1.
  /// scores: (n) float32 detector confidences, or nullptr (every box may start a track). A box
  /// below config().start_score gets a track only through the second pass; otherwise its
  /// track_ids entry is -1 (it neither starts nor continues a track).
  /// Throws std::invalid_argument (naming the row) for a bad box or a non-finite score, and for
  /// n < 0 or a null `boxes` with n > 0; the tracker is then unchanged.
  TrackerUpdate update(const float* boxes, std::int64_t n, const float* scores = nullptr);

  /// Ends every open track: confirmed ones are reported in `closed`, tentative ones in `dropped`.
  /// The tracker is empty afterwards; ids keep counting (never reused).
  TrackerUpdate flush();

  std::vector<std::int64_t> open_track_ids() const;
  std::size_t size() const { return tracks_.size(); }
  const TrackerConfig& config() const { return config_; }

 private:
  struct Track {
    std::int64_t id;
    double cx, cy, w, h;  // last matched box (centre and size)
    double vx, vy;        // smoothed centre velocity, pixels per update
    std::int64_t hits;
    std::int64_t unseen;  // updates since the last match
    bool confirmed;
  };

  void predicted_box(const Track& t, double out[4]) const;
  double cost(const Track& t, const float* box) const;  // +inf when the pair fails the gate
  // The column each track takes (or -1), optimal over the pairs inside the gate.
  std::vector<std::int64_t> associate(const float* boxes, std::int64_t n) const;
  // The second pass: for each entry of `tracks` (indices into tracks_), the entry of `rows` (rows
  // of `boxes`) it takes, or -1; optimal over the pairs inside the same gate.
  std::vector<std::int64_t> associate_second(const float* boxes, const std::vector<std::int64_t>& tracks,
                                             const std::vector<std::int64_t>& rows) const;
  void evict_beyond_bound(std::vector<Track>& tracks, TrackerUpdate& result) const;

  TrackerConfig config_;
  std::vector<Track> tracks_;
  std::int64_t next_id_ = 1;  // ids start at 1 so that 0 never looks like "no track"
};

}  // namespace facesel
