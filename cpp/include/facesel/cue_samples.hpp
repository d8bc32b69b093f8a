// The switch cues' pixel samples (facesel.track_cues): the coarse colour histograms of a frame's
// boxes and the grey samples under them, each a fixed 12 x 12 grid of single pixels read straight
// from the frame. In Python these were a handful of numpy calls a frame on a few hundred pixels;
// here one pass, with the same integer grid and the same float64 / float32 operations, so every
// value equals the numpy definition bit for bit (tests/test_cue_samples_core.py).
#pragma once
#include <cstdint>

namespace facesel {

/// Pixels sampled per side of a region (facesel.track_cues.GRID).
constexpr std::int64_t kCueGrid = 12;
/// Levels per colour channel of a histogram (facesel.track_cues.BINS): kCueBins^3 bins.
constexpr std::int64_t kCueBins = 4;

/// The colour histograms of the face region (the box) and of the band below it of each box,
/// as facesel.track_cues.appearances computes them.
///
/// frame  (h, w, 3) uint8, row-major (BGR)
/// boxes  (n, 4) float64 x1, y1, x2, y2, finite
/// out    (n, 2, kCueBins^3) float32: per box the face's histogram, then the band's, each
///        summing to 1 (kCueGrid^2 samples)
///
/// The band is x1 - w/4, y2 + h/10, x2 + w/4, y2 + 1.1 h (w, h the box's sides); each region is
/// clipped to the frame (at least one pixel, truncated towards zero), sampled on a kCueGrid grid
/// (lo + s * (hi - 1 - lo) / (kCueGrid - 1), integers), gain-normalised (2.5 / max(1, mean byte)),
/// and each sample's channels quantised to kCueBins levels. The caller guarantees the sizes
/// (h, w >= 1, n >= 0) and finite boxes; the Python binding checks them. A band whose corners
/// overflow float64 (coordinates near 1e308) is clipped to the frame's edge here, where numpy's
/// cast of its NaN would fail: the only inputs on which the two differ.
void colour_histograms(const std::uint8_t* frame, std::int64_t h, std::int64_t w, const double* boxes,
                       std::int64_t n, float* out);

/// Grey levels on a kCueGrid x kCueGrid grid over each region, as
/// facesel.track_cues.grey_samples_many takes them (channel 1 of a 3-channel frame: its green,
/// near enough to grey; the frame itself when it has one channel).
///
/// frame    (h, w, channels) uint8, row-major; channels 1 or 3
/// regions  (k, 4) int64 x1, y1, x2, y2, clipped here to the frame (at least one pixel)
/// out      (k, kCueGrid * kCueGrid) float32, row by row of the grid
void grey_samples(const std::uint8_t* frame, std::int64_t h, std::int64_t w, std::int64_t channels,
                  const std::int64_t* regions, std::int64_t k, float* out);

/// The pinned-logo cue's samples of one frame (facesel.track_cues.pinned_patches): the middle of
/// each box (a fifth in from each side, truncated towards zero), its grey samples, and how much
/// the grey samples under each previous region changed against that region's stored patch.
///
/// boxes             (n, 4) float32 x1, y1, x2, y2, finite
/// previous_regions  (k, 4) int64; previous_patches (k, kCueGrid^2) float32 whole grey levels
/// regions           (n, 4) int64 out: the middles
/// patches           (n, kCueGrid^2) float32 out: their samples (grey_samples)
/// under             (k) float32 out: mean absolute difference of each previous region's samples
///                   on this frame to its patch (an exact integer sum divided by kCueGrid^2)
void pinned_patches(const std::uint8_t* frame, std::int64_t h, std::int64_t w, std::int64_t channels,
                    const float* boxes, std::int64_t n, const std::int64_t* previous_regions,
                    const float* previous_patches, std::int64_t k, std::int64_t* regions, float* patches,
                    float* under);

/// The size and aspect jumps of n pairs of float32 boxes (facesel.track_cues.box_jumps): per pair
/// the ratio (>= 1, larger over smaller) of the sizes sqrt(w * h) (the area in float32; 1e-9 where
/// it is not above float32(1e-9)), then of the width-to-height ratios (float64, sides floored at
/// 1e-9). NaN propagates as numpy's maximum and minimum propagate it.
void box_jumps(const float* previous, const float* boxes, std::int64_t n, double* size, double* aspect);

/// The crowding test (facesel.track_cues.crowded): per box, whether its face-and-band region
/// (x1 - w/4, y1, x2 + w/4, y2 + 1.1 h, in float64 as numpy computes it) meets another box's:
/// both regions wide (x2 > x1, y2 > y1) and each side strictly over the other's (a NaN meets
/// nothing, as numpy's comparisons with it are false).
///
/// boxes (n, 4) float64; out (n) bool as bytes (0 / 1)
void crowded(const double* boxes, std::int64_t n, std::uint8_t* out);

/// The finaliser's shadowing test (facesel.select.evidence._shadowed_pairs) of n finite boxes:
/// a box is shadowed when a box of a higher score covers at least `overlap` of the smaller one's
/// area (floored at 1e-9); equal scores shadow neither. float64 as the Python pairs compute it.
///
/// boxes (n, 4) float64, scores (n) float64, all finite (the caller's check); out (n) 0 / 1
void shadowed_pairs(const double* boxes, const double* scores, std::int64_t n, double overlap, std::uint8_t* out);

/// The scene-change cue's thumbnail (facesel.track_cues.thumbnail): the bytes of a frame at k
/// flat indices (each in [0, size), the caller's), as float32 grey levels.
void take_levels(const std::uint8_t* frame, const std::int64_t* index, std::int64_t k, float* out);

/// Mean absolute difference of two thumbnails of k whole grey levels (0-255) each, as
/// facesel.track_cues._mean_level computes it: the sum (exact in float32 up to 2^24 / 255 levels,
/// in any order) divided by k in float32.
float mean_level(const float* a, const float* b, std::int64_t k);

}  // namespace facesel
