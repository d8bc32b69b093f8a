// Per-track memory of the best observations: the top K by quality and the observations within
// +-W frames of the best one (for clip export), in memory bounded by O(K + W) per track however
// long the track lives.
//
// The store never sees images: each observation carries a caller-chosen int64 handle (e.g. a key
// into the caller's crop cache). Every call returns the handles the store no longer needs, so the
// caller can free those crops at once.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace facesel {

struct Observation {
  std::int64_t frame_index;
  double quality;
  std::int64_t handle;
};

struct ClosedTrack {
  Observation best;                   ///< highest quality; the earliest one on ties
  std::vector<Observation> top;       ///< <= K observations, quality descending (earlier first on ties)
  std::vector<Observation> clip;      ///< observations with |frame - best.frame| <= W, frame order
  std::vector<std::int64_t> released; ///< every handle the track still held (top, clip and others)
};

class BestCropStore {
 public:
  /// top_k >= 1, clip_window >= 0; throws std::invalid_argument naming the bad one.
  explicit BestCropStore(std::int64_t top_k = 1, std::int64_t clip_window = 0);

  /// Adds an observation to `track_id` (opening the track on its first observation).
  /// Per track, frame indices must increase strictly; quality must be finite; `handle` must not be
  /// held by the store already (throws std::invalid_argument otherwise, changing nothing).
  /// Returns the handles the store has let go of (possibly `handle` itself).
  std::vector<std::int64_t> push(std::int64_t track_id, std::int64_t frame_index, double quality,
                                 std::int64_t handle);

  /// Ends a track and hands back its best, top K and clip; throws std::invalid_argument when the
  /// track is not open.
  ClosedTrack close(std::int64_t track_id);

  /// Ends a track without a result (e.g. a tentative track that died); returns its handles.
  std::vector<std::int64_t> discard(std::int64_t track_id);

  /// The current best observation of an open track (throws std::invalid_argument if not open).
  Observation best(std::int64_t track_id) const;

  /// Whether an observation of `quality`, pushed next to `track_id`, would join its top K: true
  /// for a track not open yet, one holding fewer than K, or a quality above the worst of its K
  /// (a later observation loses a tie). With clip_window 0 an observation it refuses is never part
  /// of a result, so a caller may skip the work of making it (e.g. aligning its crop); with
  /// clip_window > 0 it may still be needed for the clip, which this does not answer.
  /// `quality` must be finite.
  bool admits(std::int64_t track_id, double quality) const;

  bool contains(std::int64_t track_id) const { return tracks_.count(track_id) != 0; }
  std::size_t size() const { return tracks_.size(); }
  std::size_t held_handles() const { return held_.size(); }
  std::vector<std::int64_t> track_ids() const;
  std::int64_t top_k() const { return top_k_; }
  std::int64_t clip_window() const { return clip_window_; }

 private:
  // Why an entry is still held; it is released when no reason is left.
  enum : std::uint8_t { kInTop = 1, kInRecent = 2, kInBestWindow = 4 };

  struct Entry {
    double quality;
    std::int64_t handle;
    std::uint8_t reasons;
  };

  struct TrackState {
    std::map<std::int64_t, Entry> entries;  // by frame index: at most K + 3W + 2 of them
    std::vector<std::int64_t> top;          // heap of frame indices, the worst of the top K in front
    std::deque<std::int64_t> recent;        // frames in [last - W, last]: the clip's past if a new best comes
    std::int64_t best_frame = 0;
    double best_quality = 0.0;
    std::int64_t last_frame = 0;
  };

  TrackState& open_track(std::int64_t track_id, const char* what);
  const TrackState& open_track(std::int64_t track_id, const char* what) const;
  void drop_reason(TrackState& tr, std::int64_t frame, std::uint8_t reason, std::vector<std::int64_t>& released);

  std::int64_t top_k_;
  std::int64_t clip_window_;
  std::unordered_map<std::int64_t, TrackState> tracks_;
  std::unordered_set<std::int64_t> held_;
};

}  // namespace facesel
