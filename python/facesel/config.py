"""The pipeline's settings: one dataclass, every default written once.

:class:`PipelineConfig` is what :class:`facesel.Selector` runs on; ``facesel run``'s flags are
generated from its fields (:func:`add_arguments`, :func:`from_arguments`), so a default changed
here changes the library and the command line together. Each field's ``metadata`` carries its
help text and, for the command line, its group.

The measured reasons behind the defaults are in ``docs/architecture.md``.
"""

from __future__ import annotations

import argparse
import difflib
import math
import numbers
from dataclasses import MISSING, asdict, dataclass, field, fields, replace

MODES = ("sparse", "exhaustive")

INT64_MAX = 2**63 - 1
"""Largest whole-number setting taken: the C++ core (tracker, crop store) holds them in int64."""


def _setting(default, help: str, group: str, **limits):
    return field(default=default, metadata={"help": help, "group": group, **limits})


@dataclass(frozen=True)
class PipelineConfig:
    """Every setting of the frame-selection pipeline (see each field's help, ``facesel run -h``).

    Raises
    ------
    ValueError, TypeError
        On construction, for a setting out of range or of the wrong type, naming it and its value.
    """

    # -- how much work: the yardstick and the default -------------------------------------------
    mode: str = _setting("sparse", "'sparse': full-frame detection on a schedule, tracks re-detected in small "
                         "regions in between, crops screened cheaply and fully scored only when they might "
                         "beat their track's best. 'exhaustive': detect every frame, score every face fully "
                         "(the paper's pipeline; the yardstick)", "work", choices=MODES)
    # -- detection -------------------------------------------------------------------------------
    detector: str = _setting("yunet", "face detector: yunet, mtcnn or haar", "detection",
                             choices=("yunet", "mtcnn", "haar"))
    yunet_engine: str = _setting("onnxruntime", "what runs YuNet: 'onnxruntime' (its weights as an ONNX graph, "
                                 "about 4x faster where the CPU has AVX2) or 'yuface' (the package's own portable "
                                 "C++, facesel's engine before 0.5)", "detection", choices=("onnxruntime", "yuface"))
    max_side: int = _setting(1280, "full-frame detection on frames shrunk to at most this many pixels on "
                             "their longer side (crops stay full resolution; 0 = never shrink)", "detection", low=0,
                             least_when_on=32)
    detect_every: int = _setting(4, "sparse mode: full-frame detection every N frames (a face in view for "
                                 "fewer frames than this may be missed)", "detection", low=1)
    scene_change: float = _setting(30.0, "sparse mode: also detect on the full frame when the mean absolute grey "
                                   "difference to the last fully detected frame exceeds this (0-255 scale; "
                                   "0 = off; a crowd walking past the arcade camera moves it 10-24 in 7 frames, "
                                   "a cut to another scene far more)", "detection", low=0.0)
    motion_gate: float = _setting(0.0, "sparse mode: put off a due full-frame detection while no pixel of a "
                                  "160-pixel-wide grey thumbnail outside the tracks' region squares changed by more "
                                  "than this many grey levels from one frame to the next since the last one (0 = off: "
                                  "today's schedule; a still scene then costs the full-frame network once every "
                                  "motion_max_every frames)", "detection", low=0.0, high=255.0)
    motion_max_every: int = _setting(16, "sparse mode with motion_gate: a full-frame detection at least every N "
                                     "frames whatever the motion (a face new to a still scene is found at most "
                                     "this many frames late)", "detection", low=1)
    still_region_every: int = _setting(1, "sparse mode: search the square of a still track (its box's centre moved "
                                       "at most a twentieth of its side a frame between its last two detections) on one "
                                       "frame in N between full-frame detections, and with motion_gate on only while "
                                       "nothing moved outside the tracks (1: every frame; on the others the "
                                       "tracker carries its box and no crop is taken)", "detection", low=1)
    region_miss_limit: int = _setting(0, "sparse mode: stop searching the square of a track that was not found on "
                                      "its last N frames (region searches or full-frame detections) until the next "
                                      "full-frame detection finds it again (0: every open track's square on every "
                                      "frame, up to max_age frames unseen)", "detection", low=0)
    peak_detect: bool = _setting(False, "sparse mode: when a frame searched in region squares gives a track a "
                                 "screen value above its best so far, move the next scheduled full-frame detection "
                                 "to the next frame if it was due at most detect_every // 2 frames later, searched at "
                                 "max_side (the fine tier); the one after stays on the schedule's grid, so the count "
                                 "of full-frame detections is the schedule's (issue 27, session 19)", "detection")
    coarse_max_side: int = _setting(0, "sparse mode, two-tier full-frame detection: when > 0, full-frame detections "
                                    "search the frame shrunk to at most this many pixels on its longer side (640: a "
                                    "quarter of the network's pixels at max_side 1280), except one in fine_every, the "
                                    "first and those a scene change forces, which search it at max_side; on the coarse "
                                    "ones the tracked faces are searched in their region squares as between full "
                                    "detections, so only new faces are found coarsely (0 = off: every full-frame "
                                    "detection at max_side)", "detection", low=0, least_when_on=32)
    fine_every: int = _setting(4, "sparse mode with coarse_max_side: one full-frame detection in N searches the whole "
                               "frame at max_side (a new face too small for the coarse pass is found at most "
                               "N * detect_every frames late)", "detection", low=1)
    region_scale: float = _setting(2.5, "sparse mode: side of the square searched around each track, in face-box "
                                   "sides", "detection", low=1.0)
    region_face_px: float = _setting(64.0, "sparse mode: regions are shrunk so that the face box is at most this "
                                     "many pixels (the detector's cost follows the region's pixels)",
                                     "detection", low=16.0)
    region_min_px: int = _setting(128, "sparse mode: smallest region side given to the detector (small faces "
                                  "need context to be found)", "detection", low=32,
                                  high=32768)  # the region search's own limit
    region_shrink: str = _setting("area", "sparse mode: how a region square is shrunk to the detector's size: 'area' "
                                  "(OpenCV's INTER_AREA, 0.26-0.77 ms a square from 1080p) or 'fast' (INTER_AREA "
                                  "by a whole factor, then bilinear: 0.04-0.35 ms, 1-4 grey levels apart)",
                                  "detection", choices=("area", "fast"))
    min_face_size: float = _setting(16.0, "ignore faces smaller than this many pixels on their shorter side",
                                    "detection", low=0.0)
    # -- tracking (mirrors facesel.Tracker / the C++ TrackerConfig) ------------------------------
    min_hits: int = _setting(3, "detections before a track counts", "tracking", low=1)
    max_age: int = _setting(10, "frames a track may go unseen before it closes", "tracking", low=0,
                            high=10000)  # the C++ tracker's own limit
    limits_in_seconds: bool = _setting(True, "below 25 fps (the rate min_hits and max_age were measured at) hold "
                                       "both to their length in seconds at 25 fps, never above the value set (needs "
                                       "the stream's frame rate, fps; facesel.frame_rate)", "tracking")
    metric: str = _setting("euclidean", "track association rule", "tracking", choices=("euclidean", "iou"))
    max_distance: float = _setting(0.5, "euclidean association: largest centre distance, in box sizes",
                                   "tracking", low=0.0, low_open=True)
    min_iou: float = _setting(0.3, "iou association: smallest overlap", "tracking", low=0.0,
                              low_open=True, high=1.0)
    predict_motion: bool = _setting(False, "move unseen tracks by their velocity (off: the paper's rule)",
                                    "tracking")
    second_pass: bool = _setting(False, "keep a partly covered face on its track: the default detector also "
                                 "returns boxes down to --low-confidence, and one below --start-confidence may "
                                 "only continue a confirmed track that no confident box took, never start one "
                                 "(ByteTrack's second pass; off by default: on the occluded tiled crowds it gave "
                                 "more snapshots per person, docs/persons.md)", "tracking")
    low_confidence: float = _setting(0.3, "second pass: the default YuNet detector's threshold", "tracking",
                                     low=0.0, high=1.0)
    start_confidence: float = _setting(0.6, "detections below this confidence never start a track (second pass "
                                       "only; the default YuNet threshold without it)", "tracking", low=0.0, high=1.0)
    switch_cues: bool = _setting(True, "end a track's segment when the box moves onto someone else: a scene cut "
                                 "under it, a jump of its size, aspect or colours of the box and the band below "
                                 "(facesel.track_cues; no identity computed; off: the tracker's tracks as they are)",
                                 "tracking")
    # -- scoring: gates, screen, budget ----------------------------------------------------------
    finalists: int = _setting(3, "sparse mode with a scorer that has a cheap screen: crops kept per track by the "
                              "screen, fully scored when the track closes (the shipped scorer's full-score "
                              "best is its screen's first or second in every arcade track); the store keeps "
                              "max(finalists, consensus_finalists)", "scoring", low=1)
    consensus_finalists: int = _setting(32, "keep this many finalists per track by "
                                        "the screen (by score in the exhaustive mode) and keep the one that agrees "
                                        "most with the track's reference crop (facesel.scoring.consensus; no identity "
                                        "computed). 32 with the other consensus_* defaults is the variant chosen held "
                                        "out by source: 0.008 better than the context rule alone, and it keeps no "
                                        "blurred frame on the selfie where that rule did (docs/model_card.md); "
                                        "0 = off, the behaviour before: the best by the full score", "scoring", low=0)
    consensus_signature: str = _setting("hog", "consensus pick: what a crop is compared by: 'hog' (gradient-orientation "
                                        "histograms, each 8x8 cell at unit length: a face half in shadow still matches) or 'edges' "
                                        "(the Sobel edge image, session 9's rule)", "scoring", choices=("hog", "edges"))
    consensus_reference: str = _setting("median", "consensus pick: the track's reference: 'median' (per coordinate, of "
                                        "the signatures of the crops aligned for the track, at most 1024 kept) or 'mean' "
                                        "(a running sum)", "scoring", choices=("median", "mean"))
    consensus_gate: str = _setting("gradient", "consensus pick: choose only among the finalists at least as sharp, "
                                   "in the native frame, as the track's median crop (facesel.scoring.native_blur: "
                                   "'gradient' or 'band_ratio'; 'off': no gate). Consensus alone keeps blurred "
                                   "frames where blur is the norm (the selfie)", "scoring",
                                   choices=("gradient", "band_ratio", "off"))
    consensus_impl: str = _setting("batched", "consensus pick: how its per-crop work is computed: 'batched' (a "
                                   "frame's landmark fits in one batch, the histograms with fewer temporaries; "
                                   "session 12; it also aligns the crops of a scorer that reads pixels) or "
                                   "'reference' (face by face, session 11's code): the same crops, signatures and "
                                   "picks bit for bit (tests/test_consensus_cost.py)", "scoring",
                                   choices=("batched", "reference"))
    screen_every: int = _setting(1, "sparse mode: look at (screen or score) the crop of a track whose last value would "
                                 "not have made its finalists on one frame in N (others: every frame)",
                                 "scoring", low=1)
    min_score_side: float = _setting(0.0, "sparse mode: do not score faces smaller than this many pixels (0 = "
                                     "off)", "scoring", low=0.0)
    min_score_confidence: float = _setting(0.0, "sparse mode: do not score detections below this detector "
                                           "confidence (0 = off)", "scoring", low=0.0, high=1.0)
    max_yaw: float = _setting(0.0, "sparse mode: do not score faces turned further than this (nose offset from "
                              "the eyes' midpoint in eye distances; 0 = off)", "scoring", low=0.0)
    # -- selection -------------------------------------------------------------------------------
    top_k: int = _setting(1, "best observations kept per track", "selection", low=1)
    # ux22: the help said only "also keep"; a clip moves the pick (demo clip, W = 2: frames 26, 30 -> 32, 34).
    clip_window: int = _setting(0, "also keep the track's crops within +-W frames of the kept crop (0: none); "
                                "the pick then chooses among the finalists within W of the best-scored crop, "
                                "so the kept crop may differ from a run without a clip",
                                "selection", low=0)
    margin: float = _setting(0.25, "margin of the kept colour crop, in box sizes on each side", "selection", low=0.0,
                            high=10.0, high_open=True)
    series_capacity: int = _setting(1024, "most points kept of a track's quality series", "selection", low=2)
    thumbnails: int = _setting(0, "small crops kept per track for reports (0: none)", "selection", low=0)
    thumbnail_height: int = _setting(96, "rows of each thumbnail", "selection", low=8)
    fps: float = _setting(0.0, "frame rate that dates frames fed without a timestamp (0: the monotonic clock)",
                          "selection", low=0.0)
    # -- after a track closes (persons, issue 12: facesel.select.finalise) -------------------------
    finalise: bool = _setting(True, "hold each closed track for a grace period, re-link fragments of one person "
                              "and drop, counted, tracks that are not faces (off: every closed track is "
                              "delivered at once, unjudged; for comparisons)", "finalising")
    keep_static: bool = _setting(False, "keep tracks that never move (posters, screens); off: they are dropped, "
                                 "counted", "finalising")
    shot_return: bool = _setting(True, "continue a track a scene cut ended when the cut comes back to its shot "
                                 "(whole-frame thumbnail) and a face starts at its place and size with close "
                                 "colours: TV shot / reverse shot (facesel.select.shot_return; no identity computed; "
                                 "a result a cut ended is held up to 10 s)", "finalising")
    cut_veto: bool = _setting(False, "no ordinary re-link across any scene cut: a track lost at a cut is not "
                              "continued by the face that starts at its place after it (the shot-return link "
                              "still may); off: a sudden occluder that fires the cut cue would split a genuine "
                              "track (docs/persons.md)", "finalising")
    shot_cut_veto: bool = _setting(True, "the cut veto only where the face after the cut starts on another shot "
                                   "than the one the track before it ended on (whole-frame thumbnails; an "
                                   "occluder that comes and goes returns to the same shot; on since session 21: "
                                   "intercut wrong joins 7 -> 4, nothing split); cut_veto wins when both are on "
                                   "(docs/persons.md)", "finalising")
    link_ambiguity: float = _setting(0.0, "the short link's ambiguity test, a ratio test as in feature matching: a "
                                     "fragment is not joined to the one that ended just before it when another track "
                                     "seen at the same time as either of them would be a partner nearly as near (within "
                                     "1/ratio of the link's distance; same time, size and colour gates; no identity); "
                                     "0 = off, the default (session 23, held out by family: it removed none of the "
                                     "short link's wrong joins; docs/persons.md)", "finalising", low=0.0, high=1.0)
    continuity_bridge: float = _setting(0.0, "the visual-continuity bridge: while a track's face is not detected, its "
                                        "grey patch (face box and the band below it) is followed frame by frame by "
                                        "normalised cross-correlation; a new track that starts where the patch is, "
                                        "followed at least this well on every frame of the gap, continues the track "
                                        "(pixels, not identity; still under the shot-change cut veto); the NCC floor, "
                                        "0 = off, the default (docs/persons.md, 'A patch followed through the gap')",
                                        "finalising", low=0.0, high=1.0)
    continuity_bridge_gap: float = _setting(2.0, "the continuity bridge's longest gap in seconds (from the track's last "
                                            "detection to the new track's first)", "finalising", low=0.0, high=60.0)
    continuity_bridge_patch: str = _setting("band", "the continuity bridge's patch: 'band' (the face box and the band "
                                            "below it: neck, collar, shoulders) or 'head' (the face box only)",
                                            "finalising", choices=("band", "head"))
    # -- threads ---------------------------------------------------------------------------------
    threads: int = _setting(2, "stage threads of Selector.run: 1 runs every stage in turn; 2 runs decoding "
                            "and detection + tracking beside scoring + selection + sinks", "threads", low=1, high=2)
    detect_ahead: bool = _setting(True, "with 2 threads: start each full-frame detection in a thread of its own as "
                                  "soon as the frame is decoded, ahead of tracking, for detectors marked thread_safe "
                                  "(off: in the tracking thread)",
                                  "threads")
    onnx_threads: int = _setting(1, "ONNX Runtime intra-op threads of the scorer (spinning is off)", "threads",
                                 low=1, high=256)  # facesel.detect.base.MAX_ONNX_THREADS
    queue_size: int = _setting(4, "frames each queue between stages may hold (bounds memory)", "threads", low=1)

    def __post_init__(self) -> None:
        for f in fields(self):
            _check(f, getattr(self, f.name))
        if self.coarse_max_side and self.max_side and self.coarse_max_side >= self.max_side:
            # a coarse pass at max_side or above would cost what the fine one does and find no more
            raise ValueError(f"coarse_max_side must be below max_side ({self.max_side}), got {self.coarse_max_side!r}")

    @property
    def kept_finalists(self) -> int:
        """Crops kept per track by the screen in the sparse mode: ``finalists``, or more when the
        consensus pick needs a wider choice (``consensus_finalists``)."""
        return max(self.finalists, self.consensus_finalists)

    def replace(self, **changes) -> PipelineConfig:
        """A copy with ``changes`` (unknown names raise TypeError naming them)."""
        known = [f.name for f in fields(self)]
        unknown = sorted(set(changes) - set(known))
        if unknown:
            # as the command line's "did you mean": Selector(min_hit=3) named the typo only (ux16)
            hints = [f"{name} (did you mean {close[0]}?)" if (close := difflib.get_close_matches(name, known, 1)) else name
                     for name in unknown]
            raise TypeError(f"PipelineConfig has no setting {', '.join(hints)}")
        return replace(self, **changes)

    def as_dict(self) -> dict:
        """Every setting as {name: value} (a plain dict: for reports and JSON)."""
        return asdict(self)


def _check(f, value) -> None:
    meta = f.metadata
    if isinstance(f.default, bool):
        if not isinstance(value, bool):
            raise TypeError(f"{f.name} must be True or False, got {value!r}")
        return
    if isinstance(f.default, str):
        if value not in meta.get("choices", (value,)):
            raise ValueError(f"{f.name} must be one of {', '.join(meta['choices'])}; got {value!r}")
        return
    kind = numbers.Integral if isinstance(f.default, int) else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{f.name} must be {'an integer' if kind is numbers.Integral else 'a number'}, got {value!r}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond a float's range (10**400): whole, but no number of frames per second
        finite = kind is numbers.Integral
    if not finite:
        raise ValueError(f"{f.name} must be finite, got {value!r}")
    # The stages check these again (the C++ tracker, the region search, the crop store) but only once
    # a Selector is built: here a bad value is refused by `facesel serve --check` and by the flags.
    low, high = meta.get("low"), meta.get("high")
    low_open, high_open = meta.get("low_open", False), meta.get("high_open", False)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        span = (f"{'(' if low_open else '['}{low if low is not None else '-inf'}, "
                f"{high if high is not None else 'inf'}{')' if high_open else ']'}")
        raise ValueError(f"{f.name} must be in {span}, got {value!r}")
    if kind is numbers.Integral and not -INT64_MAX - 1 <= value <= INT64_MAX:
        # the C++ core holds these in int64: beyond it `run --max-side 1000...` ended in a traceback
        # from a detector's float() and `--consensus-finalists` named the store's own `top_k` (ux19)
        raise ValueError(f"{f.name} must fit in a 64-bit integer (at most {INT64_MAX}), got {value!r}")
    # 0 turns these off; a side below 32 px is refused by the detectors (check_max_side), which
    # `facesel run --max-side 10` reached only after the models loaded, naming no flag (ux16)
    least = meta.get("least_when_on")
    if least is not None and value != 0 and value < least:
        raise ValueError(f"{f.name} must be 0 (off) or at least {least}, got {value!r}")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_arguments(parser: argparse.ArgumentParser, exclude: tuple[str, ...] = ()) -> None:
    """Add one ``--flag`` per :class:`PipelineConfig` field (except ``exclude``), grouped, with
    the field's default and help; parse them back with :func:`from_arguments`."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    for f in fields(PipelineConfig):
        if f.name in exclude:
            continue
        group = groups.get(f.metadata["group"])
        if group is None:
            group = groups[f.metadata["group"]] = parser.add_argument_group(f"{f.metadata['group']} settings")
        text = f"{f.metadata['help']} (default {f.default})"
        if isinstance(f.default, bool):
            group.add_argument(_flag(f.name), dest=f.name, action=argparse.BooleanOptionalAction,
                               default=f.default, help=text)
        elif isinstance(f.default, str):
            group.add_argument(_flag(f.name), dest=f.name, default=f.default, choices=f.metadata["choices"], help=text)
        else:
            group.add_argument(_flag(f.name), dest=f.name, type=_checked_number(f), default=f.default,
                               metavar=f.name.upper(), help=text)


def _checked_number(f):
    """argparse ``type`` for a numeric field: converted and range-checked while the command line
    is parsed, so that ``--min-hits 0`` is a usage error naming the flag (exit 2, like
    ``--max-frames 0``), given before any model is loaded or input opened."""
    kind = type(f.default)

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: {text!r}") from None
        try:
            _check(f, value)
        except (TypeError, ValueError) as err:
            raise argparse.ArgumentTypeError(str(err).removeprefix(f"{f.name} ")) from None
        return value

    parse.__name__ = kind.__name__
    return parse


def from_arguments(args: argparse.Namespace, exclude: tuple[str, ...] = ()) -> PipelineConfig:
    """The :class:`PipelineConfig` of parsed flags; ``exclude`` as given to :func:`add_arguments`
    (those fields keep their default)."""
    given = {f.name: getattr(args, f.name) for f in fields(PipelineConfig)
             if f.name not in exclude and hasattr(args, f.name)}
    return PipelineConfig(**given)


def defaults() -> dict:
    """``{name: default}`` of every setting."""
    return {f.name: f.default for f in fields(PipelineConfig) if f.default is not MISSING}
