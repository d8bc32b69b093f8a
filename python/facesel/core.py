"""Typed Python wrappers over the compiled core, so that users never touch ``facesel._core``."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from facesel import _backend, _core, _device_arrays


def gaussian_log_rp(
    x: np.ndarray,
    mu: np.ndarray,
    log_sigma: np.ndarray,
    *,
    device: str = "auto",
    threads: int = 1,
    stream: int | None = None,
) -> np.ndarray:
    """Gaussian log reconstruction probability of a VAE, averaged over L latent samples.

    ``log RP = logsumexp_l( sum_i log N(x_i | mu_li, exp(log_sigma_li)) ) - log L``

    Parameters
    ----------
    x : (N, D) float32
        The inputs, flattened (e.g. D = 64*64 grey pixels scaled to [0, 1]).
    mu, log_sigma : (N, L, D) float32
        Decoder means and log standard deviations for L latent samples per input.
    device : {"auto", "cpu", "cuda", "cuda:N"}
        "cpu" never touches the GPU. "cuda" / "cuda:N" runs the CUDA kernel on device 0 / N and
        raises RuntimeError when that device is not usable or fails. "auto" uses CUDA device 0
        when it passed the probe, else the CPU; if CUDA fails (at the probe or during a call), it
        warns once (:class:`facesel.CudaFallbackWarning`) and computes on the CPU from then on.
    threads : int in [1, 256]
        CPU threads (rows are split between them; the result does not depend on it). Default 1:
        on a busy machine more threads can be slower. Not used on the GPU.
    stream : int or stream object, optional
        A ``cudaStream_t`` as an integer in [0, 2**64) (e.g. ``torch.cuda.current_stream().cuda_stream``),
        or an object carrying one (a ``torch.cuda.Stream``'s ``cuda_stream``, a CuPy stream's
        ``ptr``), to order the GPU work after the caller's; 0 or None: facesel's own stream. GPU
        only. A raw handle cannot be checked: it must be a live stream on the chosen device, as
        with any CUDA library that takes one.

    x, mu and log_sigma may also be CUDA device arrays (anything with ``__cuda_array_interface__``:
    CuPy arrays, PyTorch CUDA tensors), all three float32, C-contiguous, on the chosen GPU: they
    are then reduced where they are, with no copy of the inputs, and inf/NaN is detected on the
    device. There is no CPU fallback for device arrays: "auto" behaves as "cuda".

    Returns
    -------
    (N,) float64
        Never NaN; -inf where every sample's likelihood is below the double range.

    Raises
    ------
    ValueError, TypeError
        For a wrong shape, dtype, rank or a non-finite value, naming the argument.
    RuntimeError
        For ``device="cuda"`` when CUDA is not usable or fails.
    """
    kind, index = _backend.parse_device(device)
    # Checked here too, so that a bad value fails the same way on the GPU path (which ignores it).
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(f"threads must be an int, got {threads!r} of type {type(threads).__name__}")
    if not 1 <= threads <= 256:
        raise ValueError(f"threads must be in [1, 256], got {threads}")
    if stream is not None and kind == "cpu":
        raise ValueError(f"stream is for the GPU only, got stream={stream!r} with device='cpu'")
    stream = _stream_handle(stream)
    if any(_device_arrays.is_device_array(a) for a in (x, mu, log_sigma)):
        return _log_rp_of_device_arrays(x, mu, log_sigma, kind, index, stream)
    if kind == "cuda":
        _backend.require_cuda(index)
        return _backend._cuda.gaussian_log_rp(x, mu, log_sigma, index, stream)
    if kind == "auto":
        if _backend.cuda_usable(index):
            try:
                return _backend._cuda.gaussian_log_rp(x, mu, log_sigma, index, stream)
            except _backend._cuda.CudaError as err:
                _backend.mark_failed(index, str(err))
        _backend.warn_fallback_once(index)
    return _core.gaussian_log_rp(x, mu, log_sigma, threads)


def _stream_handle(stream) -> int | None:
    """``stream`` as the integer handle the CUDA binding takes (None: facesel's own stream).

    Raises TypeError / ValueError naming ``stream`` for anything that is not a handle: a bool, a
    float, a negative number or one wider than a pointer would be reinterpreted as an address."""
    if stream is None:
        return None
    for attribute in ("cuda_stream", "ptr"):  # torch.cuda.Stream, cupy.cuda.Stream
        if not isinstance(stream, numbers.Integral) and hasattr(stream, attribute):
            stream = getattr(stream, attribute)
            break
    if isinstance(stream, bool) or not isinstance(stream, numbers.Integral):
        raise TypeError(f"stream must be a CUDA stream handle (an int) or a stream object, got {stream!r} "
                        f"of type {type(stream).__name__}")
    if not 0 <= int(stream) < 2 ** 64:
        raise ValueError(f"stream must be a CUDA stream handle in [0, 2**64), got {int(stream)}")
    return int(stream)


def _log_rp_of_device_arrays(x, mu, log_sigma, kind: str, index: int, stream) -> np.ndarray:
    names = ("x", "mu", "log_sigma")
    host = [n for n, a in zip(names, (x, mu, log_sigma)) if not _device_arrays.is_device_array(a)]
    if host:
        raise TypeError(
            f"x, mu and log_sigma must all be CUDA device arrays or all host arrays; {', '.join(host)} not on the GPU"
        )
    if kind == "cpu":
        raise ValueError(
            "x, mu and log_sigma are CUDA device arrays: device='cpu' cannot read them (use 'cuda' or 'auto')"
        )
    dx = _device_arrays.read_device_array(x, "x", 2)
    dmu = _device_arrays.read_device_array(mu, "mu", 3)
    dls = _device_arrays.read_device_array(log_sigma, "log_sigma", 3)
    n, d = dx.shape
    if dmu.shape[0] != n or dmu.shape[2] != d:
        raise ValueError(f"mu must have shape (N, L, D) = ({n}, L, {d}) to match x {dx.shape}, got {dmu.shape}")
    if dls.shape != dmu.shape:
        raise ValueError(f"log_sigma must have the shape of mu {dmu.shape}, got {dls.shape}")
    if dmu.shape[1] < 1 or d < 1:
        raise ValueError(f"mu must hold L >= 1 samples of D >= 1 pixels, got shape {dmu.shape}")
    _backend.require_cuda(index)
    if n == 0:
        return np.zeros(0, np.float64)
    pointers = (dx.pointer, dmu.pointer, dls.pointer)
    return _backend._cuda.gaussian_log_rp_device(*pointers, n, dmu.shape[1], d, index, stream)


@dataclass(frozen=True)
class TrackerUpdate:
    """What one :meth:`Tracker.update` (or :meth:`Tracker.flush`) did.

    Attributes
    ----------
    track_ids : (N,) int64
        The track each input box was assigned to; a new id for a box that opened a track. Ids
        start at 1 and are never reused; -1 for a box below ``start_score`` that no track took.
    confirmed : (N,) bool
        Whether that track has at least ``min_hits`` detections.
    closed : (M,) int64
        Ids of confirmed tracks that closed on this call (unseen for more than ``max_age`` updates).
    dropped : (K,) int64
        Ids of tentative (never confirmed) tracks that died on this call.
    evicted : (E,) int64
        The ids in ``closed`` or ``dropped`` that ended early because the tracker holds at most
        ``max_tracks`` open tracks (see :class:`Tracker`); empty in normal operation.
    """

    track_ids: np.ndarray
    confirmed: np.ndarray
    closed: np.ndarray
    dropped: np.ndarray
    evicted: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


class Tracker:
    """Associates face boxes frame to frame and runs the track life cycle.

    Association is one-to-one and optimal (Hungarian method, Jonker-Volgenant shortest augmenting
    paths, on the gated costs), so that two faces passing close to each other do not swap ids. Only
    the pairs inside the gate are considered and each connected group of them is solved on its own
    (the same optimum as solving the whole matrix), so a crowd costs about as much as its groups.

    Parameters
    ----------
    metric : {"euclidean", "iou"}
        "euclidean" (the paper's rule): the distance between box centres divided by the geometric
        mean of the two box sizes (size = sqrt(w * h)) must be <= ``max_distance``.
        "iou": the boxes' intersection over union must be >= ``min_iou``.
    max_distance : float > 0
    min_iou : float in (0, 1]
    min_hits : int >= 1
        Detections after which a track is confirmed.
    max_age : int in [0, 10000]
        A track ends when it has been unseen for more than this many updates: reported in
        ``closed`` if it was confirmed, in ``dropped`` if it was still tentative.
    predict_motion : bool
        Move each track's box by its smoothed velocity before association (keeps crossing faces
        apart). False uses the last seen box, as in the paper.
    max_tracks : int in [1, 2**20]
        At most this many open tracks, which bounds the cost of one update. When an update would
        leave more, tracks end early (in ``closed`` or ``dropped`` as usual, and listed in
        ``evicted``) in this order: unseen for longest first, then tentative before confirmed,
        then fewer detections, then the newest. With churn, stale tracks go first; when one frame
        alone has more detections than the bound, that frame's new tentative tracks go first.
    association : {"components", "dense"}
        "components" (default) solves each connected group of feasible pairs on its own;
        "dense" solves the whole (tracks x detections) matrix, the former solver, kept to compare.
    start_score : float in [0, 1]
        Boxes whose score (``update``'s ``scores``) is below this never start a track. 0 (the
        default): every box may start one.
    second_pass : bool
        ByteTrack's second association pass for the boxes below ``start_score``: True (default)
        lets each of them continue a confirmed track that no other box of the frame took (same gate and
        cost), so a partly covered face, which the detector scores low, keeps its track; False
        ignores them, as if the detector had dropped them (the behaviour before, kept to compare).

    Raises
    ------
    ValueError, TypeError
        For an unknown metric or an out-of-range or wrongly typed setting (naming it and its value).

    Notes
    -----
    Each ``update`` is one frame: a frame without detections still needs ``update`` with an
    empty (0, 4) array, so that unseen tracks age. One tracker per stream; calls on the same
    tracker from several threads are serialised.
    """

    def __init__(
        self,
        metric: str = "euclidean",
        max_distance: float = 0.5,
        min_iou: float = 0.3,
        min_hits: int = 3,
        max_age: int = 10,
        *,
        predict_motion: bool = True,
        max_tracks: int = 4096,
        association: str = "components",
        start_score: float = 0.0,
        second_pass: bool = True,
    ) -> None:
        self._impl = _core.Tracker(
            metric, max_distance, min_iou, min_hits, max_age, predict_motion, max_tracks, association, start_score,
            second_pass,
        )
        self.metric = metric
        self.max_distance = float(max_distance)
        self.min_iou = float(min_iou)
        self.min_hits = int(min_hits)
        self.max_age = int(max_age)
        self.predict_motion = predict_motion
        self.max_tracks = int(max_tracks)
        self.association = association
        self.start_score = float(start_score)
        self.second_pass = second_pass

    def update(self, boxes: np.ndarray, scores: np.ndarray | None = None) -> TrackerUpdate:
        """Advance by one frame.

        Parameters
        ----------
        boxes : (N, 4) float32
            This frame's boxes, x1, y1, x2, y2, with x2 > x1 and y2 > y1; N may be 0.
        scores : (N,) float32, optional
            The detector's confidence of each box (finite). None: every box may start a track.

        Returns
        -------
        TrackerUpdate
            ``track_ids`` is -1 for a box below ``start_score`` that no track took (it starts none).
        """
        return TrackerUpdate(*self._impl.update(boxes, scores))

    def flush(self) -> TrackerUpdate:
        """End every open track (end of stream): confirmed ones in ``closed``, tentative ones in
        ``dropped``; ``track_ids`` and ``confirmed`` are empty. The tracker is empty afterwards."""
        return TrackerUpdate(*self._impl.flush())

    @property
    def open_track_ids(self) -> np.ndarray:
        """(T,) int64: the ids of the open (tentative and confirmed) tracks."""
        return self._impl.open_track_ids

    def __len__(self) -> int:
        return len(self._impl)

    def __repr__(self) -> str:
        return (
            f"Tracker(metric={self.metric!r}, max_distance={self.max_distance}, min_iou={self.min_iou}, "
            f"min_hits={self.min_hits}, max_age={self.max_age}, predict_motion={self.predict_motion}, "
            f"max_tracks={self.max_tracks}, association={self.association!r}, start_score={self.start_score}, "
            f"second_pass={self.second_pass})"
        )


@dataclass(frozen=True)
class Observation:
    """One scored observation of a track.

    Attributes
    ----------
    frame_index : int
    quality : float
    handle : int
        The caller's key for the crop (e.g. into a dict of crops).
    """

    frame_index: int
    quality: float
    handle: int


@dataclass(frozen=True)
class ClosedTrack:
    """What :meth:`BestCropStore.close` hands back.

    Attributes
    ----------
    best : Observation
        The highest quality (the earliest one on ties).
    top : list of Observation
        Up to ``top_k`` observations, quality descending.
    clip : list of Observation
        The observations within +-``clip_window`` frames of the best, in frame order.
    released : (R,) int64
        Every handle the track still held (including those above): free them after reading.
    """

    best: Observation
    top: list[Observation]
    clip: list[Observation]
    released: np.ndarray


class BestCropStore:
    """Per track, the best ``top_k`` observations and the clip around the best, in bounded memory.

    Memory per track is at most ``top_k + 3 * clip_window + 2`` observations however long the
    track lives; ``push`` is O(log top_k), plus O(clip_window) when the best changes.

    Parameters
    ----------
    top_k : int >= 1
    clip_window : int >= 0
        W: the clip holds the observations with frame index within +-W of the best.
    """

    def __init__(self, top_k: int = 1, clip_window: int = 0) -> None:
        self._impl = _core.BestCropStore(top_k, clip_window)

    @property
    def top_k(self) -> int:
        """Finalists kept per track (>= 1)."""
        return self._impl.top_k

    @property
    def clip_window(self) -> int:
        """W: a closed track's clip holds the observations within +-W frames of its best (0: none)."""
        return self._impl.clip_window

    def push(self, track_id: int, frame_index: int, quality: float, handle: int) -> np.ndarray:
        """Add an observation (the first one opens the track).

        Parameters
        ----------
        track_id : int
        frame_index : int in [0, 2**62)
            Must increase strictly within a track.
        quality : float
            Finite; higher is better.
        handle : int
            The caller's key for this observation's crop; must not be held by the store already.

        Returns
        -------
        (R,) int64
            Handles the store no longer needs (possibly ``handle`` itself): free them now.
        """
        return self._impl.push(track_id, frame_index, quality, handle)

    def close(self, track_id: int) -> ClosedTrack:
        """End an open track and return its best, top K and clip (ValueError if not open)."""
        best, top, clip, released = self._impl.close(track_id)
        return ClosedTrack(
            best=Observation(*best),
            top=[Observation(*o) for o in top],
            clip=[Observation(*o) for o in clip],
            released=released,
        )

    def discard(self, track_id: int) -> np.ndarray:
        """End an open track without a result; returns its (R,) int64 handles to free."""
        return self._impl.discard(track_id)

    def best(self, track_id: int) -> Observation:
        """The current best observation of an open track (ValueError if not open)."""
        return Observation(*self._impl.best(track_id))

    def admits(self, track_id: int, quality: float) -> bool:
        """Whether an observation of ``quality`` pushed next to ``track_id`` would join its top K
        (a track not open yet, one holding fewer than K, or a quality above the worst of its K; a
        later observation loses a tie). With ``clip_window`` 0 an observation it refuses is never
        part of a result, so its crop need not be made. ``quality`` must be finite."""
        return self._impl.admits(track_id, quality)

    @property
    def track_ids(self) -> np.ndarray:
        """(T,) int64: the open tracks, ascending."""
        return self._impl.track_ids

    @property
    def held_handles(self) -> int:
        """Total number of handles held across all tracks."""
        return self._impl.held_handles

    def __contains__(self, track_id: object) -> bool:
        return track_id in self._impl

    def __len__(self) -> int:
        return len(self._impl)

    def __repr__(self) -> str:
        return f"BestCropStore(top_k={self.top_k}, clip_window={self.clip_window}, open_tracks={len(self)})"
