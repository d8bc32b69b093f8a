#include "facesel/best_crop_store.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace facesel {

namespace {

// Frame indices and the window stay below 2^62 so that frame +- window never overflows int64.
constexpr std::int64_t kMaxIndex = std::int64_t{1} << 62;

}  // namespace

BestCropStore::BestCropStore(std::int64_t top_k, std::int64_t clip_window) : top_k_(top_k), clip_window_(clip_window) {
  if (top_k < 1) throw std::invalid_argument("top_k must be >= 1, got " + std::to_string(top_k));
  if (clip_window < 0 || clip_window >= kMaxIndex) {
    throw std::invalid_argument("clip_window must be in [0, 2^62), got " + std::to_string(clip_window));
  }
}

BestCropStore::TrackState& BestCropStore::open_track(std::int64_t track_id, const char* what) {
  auto it = tracks_.find(track_id);
  if (it == tracks_.end()) {
    throw std::invalid_argument(std::string(what) + ": track_id " + std::to_string(track_id) +
                                " is not open in this store");
  }
  return it->second;
}

const BestCropStore::TrackState& BestCropStore::open_track(std::int64_t track_id, const char* what) const {
  return const_cast<BestCropStore*>(this)->open_track(track_id, what);
}

void BestCropStore::drop_reason(TrackState& tr, std::int64_t frame, std::uint8_t reason,
                                std::vector<std::int64_t>& released) {
  auto it = tr.entries.find(frame);
  it->second.reasons = static_cast<std::uint8_t>(it->second.reasons & ~reason);
  if (it->second.reasons == 0) {
    released.push_back(it->second.handle);
    held_.erase(it->second.handle);
    tr.entries.erase(it);
  }
}

std::vector<std::int64_t> BestCropStore::push(std::int64_t track_id, std::int64_t frame_index, double quality,
                                              std::int64_t handle) {
  if (!std::isfinite(quality)) {
    std::ostringstream s;
    s << "quality must be finite, got " << quality;
    throw std::invalid_argument(s.str());
  }
  if (frame_index < 0 || frame_index >= kMaxIndex) {
    throw std::invalid_argument("frame_index must be in [0, 2^62), got " + std::to_string(frame_index));
  }
  if (held_.count(handle)) {
    throw std::invalid_argument("handle " + std::to_string(handle) + " is already held by the store");
  }
  auto found = tracks_.find(track_id);
  if (found != tracks_.end() && frame_index <= found->second.last_frame) {
    throw std::invalid_argument("frame_index must increase within a track: track_id " + std::to_string(track_id) +
                                " last had frame " + std::to_string(found->second.last_frame) + ", got " +
                                std::to_string(frame_index));
  }
  const bool first = found == tracks_.end();
  TrackState& tr = first ? tracks_[track_id] : found->second;
  std::vector<std::int64_t> released;

  tr.entries.emplace(frame_index, Entry{quality, handle, kInRecent});
  held_.insert(handle);
  tr.last_frame = frame_index;

  // `recent` keeps the frames a new best would need as the past half of its clip.
  tr.recent.push_back(frame_index);
  while (tr.recent.front() < frame_index - clip_window_) {
    const std::int64_t old = tr.recent.front();
    tr.recent.pop_front();
    drop_reason(tr, old, kInRecent, released);
  }

  // Top K: a fixed-capacity heap, O(log K) per push. `better(a, b)`: a has the higher quality,
  // or the same quality seen earlier. With it as the heap order, the front is the element better
  // than none, i.e. the worst of the K: the one to evict.
  auto better = [&tr](std::int64_t a, std::int64_t b) {
    const double qa = tr.entries.at(a).quality, qb = tr.entries.at(b).quality;
    return qa > qb || (qa == qb && a < b);
  };
  if (static_cast<std::int64_t>(tr.top.size()) < top_k_) {
    tr.top.push_back(frame_index);
    std::push_heap(tr.top.begin(), tr.top.end(), better);
    tr.entries.at(frame_index).reasons |= kInTop;
  } else if (better(frame_index, tr.top.front())) {
    std::pop_heap(tr.top.begin(), tr.top.end(), better);
    const std::int64_t evicted = tr.top.back();
    tr.top.back() = frame_index;
    std::push_heap(tr.top.begin(), tr.top.end(), better);
    tr.entries.at(frame_index).reasons |= kInTop;
    drop_reason(tr, evicted, kInTop, released);
  }

  // Best and its clip window. A new best is always the newest observation, so the past half of its
  // window is exactly `recent`; the future half is collected by the pushes that follow.
  if (first || quality > tr.best_quality) {
    if (!first) {
      const std::int64_t lo = tr.best_frame - clip_window_;
      std::vector<std::int64_t> old_window;
      for (auto it = tr.entries.lower_bound(lo); it != tr.entries.end(); ++it) {
        if (it->second.reasons & kInBestWindow) old_window.push_back(it->first);
      }
      for (std::int64_t f : old_window) drop_reason(tr, f, kInBestWindow, released);
    }
    tr.best_frame = frame_index;
    tr.best_quality = quality;
    for (std::int64_t f : tr.recent) tr.entries.at(f).reasons |= kInBestWindow;
  } else if (frame_index <= tr.best_frame + clip_window_) {
    tr.entries.at(frame_index).reasons |= kInBestWindow;
  }
  return released;
}

ClosedTrack BestCropStore::close(std::int64_t track_id) {
  TrackState& tr = open_track(track_id, "close");
  ClosedTrack out;
  const Entry& b = tr.entries.at(tr.best_frame);
  out.best = Observation{tr.best_frame, b.quality, b.handle};
  for (std::int64_t f : tr.top) {
    const Entry& e = tr.entries.at(f);
    out.top.push_back(Observation{f, e.quality, e.handle});
  }
  std::sort(out.top.begin(), out.top.end(), [](const Observation& a, const Observation& c) {
    return a.quality > c.quality || (a.quality == c.quality && a.frame_index < c.frame_index);
  });
  for (const auto& [frame, e] : tr.entries) {
    if (e.reasons & kInBestWindow) out.clip.push_back(Observation{frame, e.quality, e.handle});
    out.released.push_back(e.handle);
    held_.erase(e.handle);
  }
  tracks_.erase(track_id);
  return out;
}

std::vector<std::int64_t> BestCropStore::discard(std::int64_t track_id) {
  TrackState& tr = open_track(track_id, "discard");
  std::vector<std::int64_t> released;
  for (const auto& kv : tr.entries) {
    released.push_back(kv.second.handle);
    held_.erase(kv.second.handle);
  }
  tracks_.erase(track_id);
  return released;
}

Observation BestCropStore::best(std::int64_t track_id) const {
  const TrackState& tr = open_track(track_id, "best");
  const Entry& e = tr.entries.at(tr.best_frame);
  return Observation{tr.best_frame, e.quality, e.handle};
}

bool BestCropStore::admits(std::int64_t track_id, double quality) const {
  if (!std::isfinite(quality)) {
    std::ostringstream s;
    s << "quality must be finite, got " << quality;
    throw std::invalid_argument(s.str());
  }
  const auto found = tracks_.find(track_id);
  if (found == tracks_.end()) return true;
  const TrackState& tr = found->second;
  if (static_cast<std::int64_t>(tr.top.size()) < top_k_) return true;
  // The heap's front is the worst of the K; a newer observation beats it only with a higher quality.
  return quality > tr.entries.at(tr.top.front()).quality;
}

std::vector<std::int64_t> BestCropStore::track_ids() const {
  std::vector<std::int64_t> ids;
  ids.reserve(tracks_.size());
  for (const auto& kv : tracks_) ids.push_back(kv.first);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace facesel
