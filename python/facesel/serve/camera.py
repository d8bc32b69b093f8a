"""One camera of ``facesel serve``: source -> pipeline -> vault, in its own thread.

A camera never takes the others down: every failure (the source, the vault, the pipeline) is
caught here, logged, shown in ``/healthz`` and retried after a jittered backoff.

What a reconnection does to open tracks: the frames before and after a gap in the stream are not
continuous (the gap lasted anything from a second to hours, and the tracker counts its patience
in frames), so when a new epoch starts (:class:`facesel.sources.Frame`) the open tracks are
closed and sealed at once (already when the connection is lost, without waiting for it to
come back). A person still in view after the reconnection starts a new track, so
they may be sealed twice; none is lost and no track joins two people across a gap.

The pipeline runs ``Selector.run``'s stage threads (``threads = 2``, the default); the stream is
cut at each gap into segments (:class:`facesel.sources.EpochSegments`), and the tracks are closed
between two segments on the camera's thread, when no stage thread runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from facesel.redaction import redact_url
from facesel.serve.config import CameraConfig
from facesel.serve.held_results import DeferSealFailures, Held, HeldResults
from facesel.serve.pipeline_adapter import PipelineAdapter
from facesel.serve.scheduler import TIER_COARSE_SIDE, ScheduleGovernor
from facesel.serve.sealer import BackgroundSealer
from facesel.serve.zones import masked_segments
from facesel.sinks import VaultSink
from facesel.sources import Backoff, EpochSegments, is_live_target, make_source
from facesel.vault.errors import EpochUnavailableError, VaultWriteError

_log = logging.getLogger("facesel.serve")

SEAL_FAILURES = (VaultWriteError, EpochUnavailableError)
"""A camera that restarts on one of these cannot seal (a full disk, no epoch key): it stays "not
sealing" in :meth:`Camera.health` until a seal succeeds."""


class Camera:
    """Runs one :class:`CameraConfig` until :meth:`stop`.

    Parameters
    ----------
    config : CameraConfig
    open_vault : callable, optional
        ``open_vault(config) -> vault`` (with ``seal``, ``maybe_purge``, ``close``); the default
        opens a :class:`facesel.vault.Vault`.
    on_sealed : callable, optional
        Called with ``(camera_name, result, record_id)`` after each seal (metadata only).
    carried : dict, optional
        :meth:`counters` of the camera this one replaces (a reload that changed it): the counters
        go on from there, so that Prometheus sees no reset and the exit summary counts it all.
    events : facesel.serve.events.EventBus, optional
        Where the metadata-only events go (MQTT, webhook): tracks opened/closed/sealed, camera
        up/down, dropped frames.
    keep_frames : bool
        Keep a reference to the newest frame for the privacy-safe view (``serve.view``).
    models : SharedModels, optional
        Where the camera's detector and scorer come from (:mod:`facesel.serve.shared_models`: one
        per process for all cameras with the same settings); None builds the camera's own.
    held : list of TrackResult, optional
        Closed tracks not sealed yet that the camera this one replaces handed over
        (:meth:`hand_over_held`: a reload that changed the camera but not its vault); sealed first,
        in the order given.
    """

    LATENCIES_KEPT = 4096
    """Most recent frame-to-decision latencies kept (for percentiles)."""

    HELD_LIMIT = 128
    """Closed tracks whose seal failed kept in memory for the next try, at most
    (:mod:`facesel.serve.held_results`; their bytes are bounded too, by the camera's
    ``held_max_bytes``); beyond it the oldest is lost and counted."""

    def __init__(self, config: CameraConfig, open_vault=None, on_sealed=None, carried: dict | None = None,
                 events=None, keep_frames: bool = False, models=None, slot: tuple[int, int] = (0, 1),
                 held: list | None = None):
        from facesel.serve.zones import ZoneMask

        self.config = config
        self._open_vault = open_vault or _default_vault
        self._on_sealed = on_sealed
        self._models = models
        self.slot = (int(slot[0]), max(1, int(slot[1])))
        """``(i, n)``: camera i of the service's n (:meth:`detection_phase`)."""
        self.governor: ScheduleGovernor | None = None
        self.latencies: deque[float] = deque(maxlen=self.LATENCIES_KEPT)
        """Seconds from the source's hand-over of a frame to its decision (the pipeline's view)."""
        self.events = events
        self.keep_frames = bool(keep_frames)
        self.newest_frame = None
        """The newest frame received, as the source gave it (before the zone mask), when
        ``keep_frames``: only the privacy-safe view reads it (:mod:`facesel.serve.view`)."""
        self.zones = ZoneMask(config.zones)
        carried = dict(carried or {})
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.source = None
        self.adapter: PipelineAdapter | None = None
        # (state, reason) as one value: /healthz and /metrics read it from other threads while the
        # camera's thread changes it, and must never see a new state with the last one's reason
        self._status = ("starting", "")
        self._stop_why = ""  # request_stop's why
        self._down_since: float | None = None  # when the camera last went down while running (its log)
        self.seal_failing = ""
        """Why the last seal failed, until a seal succeeds again ("" when sealing works): a full disk
        made the camera flip between down (the failing seal restarted it) and up (frames flowing
        again), so /healthz said "ok" most of the time while every record was lost (ux17)."""
        self.stop_failure = ""
        """Why the camera's last cycle failed after a stop was asked for ("" when it finished
        cleanly): its open tracks were then not all sealed, and nothing will retry them. Before
        (ux20), a full disk at SIGTERM was logged as "retrying" and the service said "stopped", exit 0."""
        self.held = HeldResults(self.HELD_LIMIT, config.held_max_bytes)
        """Closed tracks whose seal failed, retried when the vault writes again (never on disk)."""
        # A reload's hand-over (hand_over_held): whether a stop keeps what is still held for the
        # camera that replaces this one, and whether the camera's thread has done so. One lock, so
        # that the service and the camera's thread agree on who owns the held results at the end.
        self._hand_over_lock = threading.Lock()
        self._hand_over = False
        self._kept_for_successor = False
        self._lost_before = int(carried.pop("tracks_lost", 0))  # lost by the camera this one replaces
        self._opened: set[int] = set()  # confirmed track ids announced as opened (events)
        self._dropped_reported = 0
        self._dropped_reported_at = 0.0
        self.sealed = int(carried.pop("sealed", 0))
        self.processed = int(carried.pop("processed", 0))
        self.pipeline_restarts = int(carried.pop("pipeline_restarts", 0))
        self.flushed_on_gap = int(carried.pop("flushed_on_gap", 0))
        self.frame_seconds_sum = float(carried.pop("frame_seconds_sum", 0.0))
        # The counters of earlier sources and pipelines (a restart after an error makes new ones,
        # a reload a new camera): what counters() adds to the live source's and pipeline's own.
        self._carried: dict[str, float] = carried
        self.last_frame_latency = 0.0
        self._processed_times: deque[float] = deque(maxlen=64)
        self._handed: dict[int, float] = {}  # frame index -> when the source handed it over
        self._next_index = 0
        self._finished = threading.Event()
        self.buffer_widened = 0  # breaks at which the source's queue was widened (flush_buffer_frames)
        self._widened_for: int | None = None  # frames still to take before the queue is narrowed back
        self._limits_held = False  # whether this pipeline's tracker limits were held at the stream's rate
        self.buffer_deepened = 0  # times the source's queue was deepened at the governor's cap (cap_buffer_frames)
        dropped = self.held.hold_all(held or ())
        if dropped:
            _log.error("camera %s: %d closed tracks lost: more were handed over by the camera it replaces than "
                       "%d, or %d bytes (held_max_bytes), hold", config.name, dropped, self.held.limit,
                       self.held.max_bytes, extra={"camera": config.name})

    # -- control -------------------------------------------------------------------------------
    def start(self) -> Camera:
        """Start the camera's thread (source, pipeline, sealing); returns the camera."""
        self._thread = threading.Thread(target=self._run, name=f"camera:{self.config.name}", daemon=True)
        self._thread.start()
        return self

    def request_stop(self, hand_over: bool = False, why: str = "") -> None:
        """Ask the camera to close its tracks, seal them and finish (does not wait).

        ``hand_over``: a reload replaces the camera with one on the same vault; the closed tracks
        whose seals still fail at the end are kept for :meth:`hand_over_held` instead of being
        counted as lost. ``why``: the stopped camera's reason (``/status``, the ``camera_down``
        event) when it had none of its own."""
        self._stop_why = str(why)
        if hand_over:
            with self._hand_over_lock:
                self._hand_over = True
        self._stop.set()

    def hand_over_held(self) -> list:
        """After :meth:`request_stop` with ``hand_over``: the closed tracks still unsealed that the
        camera kept for its successor (taken: the camera no longer counts them). [] when it kept
        none, or has not finished: a camera still busy then loses and counts them itself, as
        without a hand-over (its thread and this call decide under one lock, so that each result
        ends either handed over or counted, never both or neither)."""
        with self._hand_over_lock:
            self._hand_over = False
            if not self._kept_for_successor:
                return []
            self._kept_for_successor = False
            return self.held.take()

    @property
    def stopping(self) -> bool:
        """Whether a stop was asked for (:meth:`request_stop`)."""
        return self._stop.is_set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the camera has finished; True when it has."""
        return self._finished.wait(timeout)

    def stop(self, timeout: float | None = None) -> bool:
        """Ask the camera to finish (:meth:`request_stop`) and wait up to ``timeout`` seconds; True when it has."""
        self.request_stop()
        return self.join(timeout)

    # -- status (read by metrics and health from other threads) -------------------------------
    @property
    def state(self) -> str:
        """The camera's state now: ``starting``, ``connecting``, ``running`` (up), ``reconnecting``,
        ``down``, ``ended`` or ``stopped``."""
        return self._status[0]

    @property
    def reason(self) -> str:
        """Why the camera is in its state (empty when nothing is to be said)."""
        return self._status[1]

    def _set_state(self, state: str, reason: str = "") -> None:
        """Change the state; going up or down is an event (camera_up / camera_down)."""
        before = self._status[0]
        was_up = before == "running"
        self._status = (state, reason)
        self._log_state_change(before, state, reason)
        if self.events is not None and was_up != (state == "running"):
            self.events.publish(self.config.name, "camera_up" if state == "running" else "camera_down",
                                state=state, reason=reason)

    def _log_state_change(self, before: str, state: str, reason: str) -> None:
        # A camera that lost its stream went down in /status, /healthz and the events only; its log
        # said "source rtsp://...: cannot connect" (the URL, no camera) and, after it came back,
        # "reconnected": nothing in the log named the camera going down or for how long (ux24). A
        # failed pipeline ("down") and a stop are logged where they happen.
        # A camera that never connected since its start goes from "connecting" to "reconnecting":
        # said too, once, so that a dead camera at the start is named as well.
        if state == "reconnecting" and before in ("running", "connecting", "starting"):
            self._down_since = time.monotonic()
            _log.warning("camera %s: DOWN, reconnecting (%s)", self.config.name, reason or "no reason given",
                         extra={"camera": self.config.name})
        elif state == "running" and before != "running" and self._down_since is not None:
            _log.info("camera %s: up again after %.0f s down", self.config.name,
                      time.monotonic() - self._down_since, extra={"camera": self.config.name})
            self._down_since = None
        elif state == "down" and before == "running":
            self._down_since = time.monotonic()

    @property
    def up(self) -> bool:
        """Whether the camera is running."""
        return self.state == "running"

    def frames_per_second(self) -> float:
        """Frames processed per second over the last (up to) 64 frames, up to now: a camera that
        stopped processing falls towards 0 instead of showing its last rate."""
        times = list(self._processed_times)
        if len(times) < 2:
            return 0.0
        span = time.monotonic() - times[0]
        return (len(times) - 1) / span if span > 0 else 0.0

    def counters(self) -> dict[str, float]:
        """Every counter of this camera since the service started (across pipeline restarts and
        reloads): ``frames_received``, ``frames_dropped`` (``frames_skipped``: those the decoder
        skipped while behind), ``reconnects``, ``connect_failures``,
        ``stalls``, ``faces``, ``sealed``, ``processed``, ``pipeline_restarts``,
        ``flushed_on_gap``, ``frame_seconds_sum``, ``tracks_lost``, ``tracks_held`` (a gauge: held
        unsealed now), ``stage:NAME`` (seconds), ``work:KIND`` and
        ``schedule:coarser`` / ``schedule:finer`` (the load governor's steps)."""
        with self._lock:  # never the old objects and their folded counts together, nor neither
            totals = dict(self._carried)
            for key, value in _live_counters(self.source, self.adapter, self.governor).items():
                totals[key] = totals.get(key, 0) + value
        totals.update(sealed=self.sealed, processed=self.processed, pipeline_restarts=self.pipeline_restarts,
                      flushed_on_gap=self.flushed_on_gap, frame_seconds_sum=self.frame_seconds_sum,
                      tracks_lost=self.tracks_lost, tracks_held=len(self.held))
        return totals

    @property
    def tracks_lost(self) -> int:
        """Closed tracks never sealed since the service started: their seal failed and they were
        pushed out of :attr:`held` by its limit, or still held when the camera stopped."""
        return self._lost_before + self.held.lost

    def _fold_counters(self, source, adapter) -> None:
        """Keep a finished source's and pipeline's counts before they are replaced."""
        with self._lock:
            for key, value in _live_counters(source, adapter, self.governor).items():
                self._carried[key] = self._carried.get(key, 0) + value
            self.source = self.adapter = self.governor = None

    def health(self) -> dict:
        """What ``/healthz`` and ``status`` show of this camera: up, state, the reason when down and
        the age of its last frame (seconds), among others.
        """
        # One reading of the state: read twice, a change in between (a failed seal restarting the
        # pipeline) gave {"up": True, "state": "running"} for a camera that was down.
        state, reason = self._status
        failing, running = self.seal_failing, state == "running"
        info = {"up": running, "state": state}
        if reason:
            info["reason"] = reason
        if failing and running:  # frames flow, but nothing sealed since the last failure
            info.update(up=False, state="not sealing", reason=failing)
        source = self.source
        if source is not None:
            age = source.frame_age()
            info["last_frame_age_s"] = None if age is None else round(age, 3)
            if running and (age is None or age > self.config.stall_timeout):
                info["up"], info["state"] = False, "no frames"
        return info

    # -- the thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = Backoff(base=1.0, cap=self.config.reconnect_max_delay)
        try:
            while not self._stop.is_set():
                try:
                    self._serve_once()
                except Exception as err:  # noqa: BLE001 - one camera's failure must not end the others
                    # Any library's message may quote the source URL: mask its credentials.
                    self._set_state("down", redact_url(f"{type(err).__name__}: {err}"))
                    if isinstance(err, SEAL_FAILURES):
                        self.seal_failing = self.reason
                    if self._stop.is_set():  # nothing retries after a stop: the tracks it held are lost
                        self.stop_failure = self.reason
                        _log.error("camera %s: stopping failed, its open tracks are not all sealed: %s",
                                   self.config.name, self.reason, extra={"camera": self.config.name})
                        break
                    self.pipeline_restarts += 1
                    _log.error("camera %s: %s; retrying", self.config.name, self.reason,
                               extra={"camera": self.config.name})
                    self._stop.wait(backoff.next_delay())
                    continue
                break
            self._last_try_of_held()
        finally:
            if self.state != "ended":  # a file camera that reached its end says so, not just "stopped"
                # Why, when it was up: a reload or the service's stop sent camera_down with reason ""
                # (ux24), which an alert on camera_down could not tell from a fault.
                self._set_state("stopped", self.reason or self._stop_why)
            self._finished.set()

    def _last_try_of_held(self) -> None:
        # The camera's thread, after its last cycle. Tracks held from a failure while running that
        # no cycle retried (the stop came during the backoff): one synchronous try (with this
        # camera's vault, before it goes), then whatever is still held is handed over to the camera
        # that replaces this one (a reload on the same vault) or lost, counted and said.
        if len(self.held) and not self.stop_failure:
            vault = None
            try:
                vault = self._open_vault(self.config)
                sink = DeferSealFailures(self._vault_sink(vault), SEAL_FAILURES)
                for result in self.held.take():
                    sink.write(Held(result))
                sink.raise_deferred()
            except Exception as err:  # noqa: BLE001 - said below, with the count
                self.seal_failing = redact_url(f"{type(err).__name__}: {err}")
            finally:
                if vault is not None:
                    vault.close()
        with self._hand_over_lock:  # after this, only hand_over_held() touches the held results
            if self._hand_over and len(self.held):
                self._kept_for_successor = True
                _log.warning("camera %s: %d closed tracks not sealed yet (%s) handed to the camera that replaces it",
                             self.config.name, len(self.held), self.seal_failing or self.stop_failure or "not sealed",
                             extra={"camera": self.config.name})
                return
            lost = self.held.lose_all()
        if lost:
            why = self.seal_failing or self.stop_failure or "not sealed"
            self.stop_failure = self.stop_failure or f"{lost} closed tracks not sealed: {why}"
            _log.error("camera %s: %d closed tracks lost: their seals failed (%s) and the camera stopped "
                       "before its vault wrote again", self.config.name, lost, why, extra={"camera": self.config.name})

    def _vault_sink(self, vault) -> _CameraVaultSink:
        return _CameraVaultSink(vault, self._sealed, self._closed, self._seal_failed)

    def _seal_failed(self, result, error: BaseException) -> None:
        # The thread that sealed (the writer's or the camera's): kept for the next cycle.
        dropped = self.held.hold(result)
        if dropped:
            _log.error("camera %s: %d closed tracks lost: more than %d wait for a seal, or they hold more than %d "
                       "bytes (held_max_bytes) (%s)", self.config.name, dropped, self.held.limit, self.held.max_bytes,
                       redact_url(f"{type(error).__name__}: {error}"), extra={"camera": self.config.name})

    def _serve_once(self) -> None:
        config = self.config
        vault = sealer = None
        if config.seal_in_background:
            # seals off the frame path, in order (sealer.py); the writer thread opens and closes the
            # vault itself: its SQLite index may only be used from the thread that opened it
            sealer = BackgroundSealer(lambda: self._vault_sink(self._open_vault(config)),
                                      finish=lambda opened: opened.vault.close(), name=f"sealer:{config.name}")
            sink = DeferSealFailures(sealer, SEAL_FAILURES)
        else:
            vault = self._open_vault(config)
            sink = DeferSealFailures(self._vault_sink(vault), SEAL_FAILURES)
        source = None
        self._next_index = 0
        self._widened_for = None
        self._limits_held = False  # the new pipeline's tracker has not yet learned the stream's rate
        try:
            held = self.held.take()  # first, in the order they closed; a failure holds them again
            if held:
                _log.warning("camera %s: sealing %d closed tracks held since a seal failed", config.name, len(held),
                             extra={"camera": config.name})
            for result in held:
                sink.write(Held(result))
            detector, scorer = self._models.stages(config.settings) if self._models is not None else (None, None)
            self.adapter = PipelineAdapter(config.settings, sinks=[sink], detector=detector, scorer=scorer)
            self.adapter.selector.schedule.set_phase(self.detection_phase())
            self.governor = self._make_governor(self.adapter)
            source = make_source(
                config.source, loop=config.loop, realtime=config.realtime, live=config.live, backend=config.backend,
                open_timeout=config.open_timeout, read_timeout=config.read_timeout,
                shrink_in_decoder=config.shrink_in_decoder, buffer_frames=config.buffer_frames,
                skip_loop_filter=config.skip_loop_filter, convert_on_take=config.convert_on_take,
                skip_when_behind=config.skip_when_behind, max_frame_pixels=config.max_frame_pixels,
                stall_timeout=config.stall_timeout, backoff=Backoff(base=0.5, cap=config.reconnect_max_delay),
            )
            self.source = source.start()
            self._set_state("connecting", "")
            segments = EpochSegments(source, self._stop.is_set, keep=self._received,
                                     waiting=lambda: self._waiting(source, sink), on_end=lambda: self._ended(source))
            if self.zones.zones:
                segments = masked_segments(segments, self.zones)
            for _, _, view in self.adapter.views(segments, on_gap=self._closed_on_gap, before_gap=self._widen_buffer):
                if self.events is not None:
                    self._announce_opened(view)
                done = time.monotonic()
                started = self._handed.pop(view.frame_index, done)
                self.processed += 1
                self.frame_seconds_sum += done - started
                self.last_frame_latency = done - started
                self.latencies.append(done - started)
                self._processed_times.append(done)
        finally:
            try:
                try:
                    if self.adapter is not None:
                        self.adapter.flush()  # the sinks seal what is still open
                finally:
                    if sealer is not None:
                        sealer.drain()  # every track handed over is sealed, then the vault closed
                    sink.raise_deferred()  # the flush's own failures (the pipeline's next tick never comes)
            finally:
                self._handed.clear()
                if source is not None:
                    source.stop(timeout=config.read_timeout + 1.0)
                if vault is not None:
                    vault.close()
                # counters() now reads the carried totals only: the old objects are let go
                self._fold_counters(source, self.adapter)

    def detection_phase(self) -> int:
        """Frames after its first that this camera's schedule first searches a frame whole
        (:meth:`facesel.detect.schedule.DetectionSchedule.set_phase`): camera i of n takes
        ``round(i * detect_every / n) % detect_every``, so that n cameras started together do not
        all run their costliest frames at once; 0 with ``stagger_detection`` off, in the
        exhaustive mode, or for a camera alone."""
        settings = self.config.settings
        i, n = self.slot
        if not self.config.stagger_detection or settings.get("mode") != "sparse" or n <= 1:
            return 0
        every = int(settings["detect_every"])
        return round(i * every / n) % every

    def _make_governor(self, adapter) -> ScheduleGovernor | None:
        settings = self.config.settings
        if not self.config.coarsen_detection or settings.get("mode") != "sparse":
            return None  # the exhaustive mode is the yardstick: it detects every frame, always
        base = int(settings["detect_every"])
        # two tiers as the first step: only where the pipeline has them off (on, they stay on and the
        # governor steps detect_every only) and where a frame shrunk to TIER_COARSE_SIDE is smaller
        # than the fine pass's (max_side 0: the frame's own size, checked frame by frame by the stage)
        max_side = int(settings.get("max_side", 0))
        tiers = (self.config.coarsen_with_tiers and not settings.get("coarse_max_side")
                 and (max_side == 0 or max_side > TIER_COARSE_SIDE))
        return ScheduleGovernor(adapter.selector.schedule, base=base, cap=max(base, self.config.max_detect_every),
                                capacity=self.config.buffer_frames, refine_backoff=self.config.refine_backoff,
                                settle_coarsening=self.config.settle_coarsening,
                                stage=adapter.selector.detect_stage if tiers else None,
                                coarse_side=TIER_COARSE_SIDE, fine_every=int(settings.get("fine_every", 4)))

    # -- hooks of the segments and the sink (see EpochSegments for the thread of each) ---------
    def _received(self, frame) -> bool:
        # The thread reading the segment: the frame's latency counts from the source's hand-over,
        # and how long it waited for the pipeline is the governor's load signal.
        self._set_state("running", "")
        if not self._limits_held:
            self._hold_limits(self.source, self.adapter)
        if self.keep_frames:
            self.newest_frame = frame.image  # before the mask: the view shows the whole scene, blurred
        now = time.monotonic()
        arrived = frame.arrived or now
        self._handed[self._next_index] = arrived
        self._next_index += 1
        source, governor = self.source, self.governor
        if self._widened_for is not None and source is not None:
            self._narrow_buffer(source)
        if governor is not None and source is not None:
            fps = source.stats.fps
            governor.observe(now - arrived, 1.0 / fps if fps else None, frame.sequence, source.stats.frames_dropped)
            if self._widened_for is None and self.config.cap_buffer_frames > self.config.buffer_frames:
                self._deepen_at_cap(source, governor)
        if self.events is not None:
            self._report_drops()
        return True

    def _hold_limits(self, source, adapter) -> None:
        # The first frame of a pipeline, before the tracker sees it (the first frame of the first
        # segment is read on the camera's thread, before Selector.run starts): the source knows its
        # frame rate only once connected, after the pipeline was built. Below 25 fps the tracker's
        # max_age and min_hits are held to their seconds (facesel.frame_rate); a rate over 1000 is
        # a timebase, not a rate (as in facesel run). The pipeline keeps this rate across the
        # reconnections of its source; a restart builds a new pipeline that learns it again.
        self._limits_held = True
        fps = source.stats.fps if source is not None else None
        if adapter is None or not fps or not 0 < fps < 1000:
            return
        if adapter.hold_limits_at(float(fps)):
            limits = adapter.selector.track_limits
            _log.info("camera %s: %.4g frames/s: tracker limits held to max_age %d, min_hits %d frames",
                      self.config.name, fps, limits["max_age"], limits["min_hits"], extra={"camera": self.config.name})

    def _deepen_at_cap(self, source, governor) -> None:
        # The thread reading the segment, after the governor saw this frame. At the cap the governor
        # has no coarser step: a burst the queue cannot hold is a drop, so the queue deepens to
        # cap_buffer_frames (issue 27, session 15). The governor's span stays buffer_frames: its
        # steps judge the load as before. Back once it stepped finer and the backlog is under
        # buffer_frames, so that narrowing drops nothing.
        deep, base = self.config.cap_buffer_frames, self.config.buffer_frames
        if governor.at_cap:
            if source.buffer_frames < deep:
                source.buffer_frames = deep
                self.buffer_deepened += 1
        elif source.buffer_frames > base and source.pending < base:
            source.buffer_frames = base

    def _widen_buffer(self) -> None:
        # The camera's thread, after a segment that ended in a break, before its open tracks are
        # closed all at once: the frames of the new epoch wait for the flush instead of pushing
        # each other out (the queue reads buffer_frames on every hand-over).
        source, wide = self.source, self.config.flush_buffer_frames
        if source is not None and wide > max(self.config.buffer_frames, source.buffer_frames):
            source.buffer_frames = wide
            self._widened_for = wide
            self.buffer_widened += 1
            if self.governor is not None:  # the backlog of a break is a burst the wider queue absorbs:
                self.governor.capacity = wide  # waits count against the queue's span as it is now

    def _narrow_buffer(self, source) -> None:
        # Back to buffer_frames once the backlog is under it (nothing waiting is pushed out) or
        # flush_buffer_frames frames later whatever the backlog (then the oldest extra ones are
        # dropped, as they would have been without widening).
        self._widened_for -= 1
        if self._widened_for <= 0 or source.pending < self.config.buffer_frames:
            source.buffer_frames = self.config.buffer_frames
            self._widened_for = None
            if self.governor is not None:
                self.governor.capacity = self.config.buffer_frames

    DROP_EVENT_INTERVAL = 10.0
    """Seconds between two ``frames_dropped`` events of one camera (each gives the count since
    the one before): a slow machine drops frames all the time, and an event per frame would
    flood the broker."""

    def _report_drops(self) -> None:
        source = self.source
        if source is None:
            return
        dropped, now = source.stats.frames_dropped, time.monotonic()
        if dropped < self._dropped_reported:  # a new source after a restart counts from 0
            self._dropped_reported = 0
        if dropped > self._dropped_reported and now - self._dropped_reported_at >= self.DROP_EVENT_INTERVAL:
            self.events.publish(self.config.name, "frames_dropped", count=dropped - self._dropped_reported,
                                total=int(self.counters().get("frames_dropped", dropped)))
            self._dropped_reported, self._dropped_reported_at = dropped, now

    def _announce_opened(self, view) -> None:
        from facesel.serve.pipeline_adapter import confirmed_tracks

        for track in confirmed_tracks(view):
            if track.track_id not in self._opened:
                self._opened.add(track.track_id)
                self.events.publish(self.config.name, "track_opened", track_id=track.track_id,
                                    frame=int(view.frame_index), timestamp=round(float(view.timestamp), 3))

    def _closed(self, result) -> None:
        self._opened.discard(int(result.track_id))
        if self.events is not None:
            self.events.publish(self.config.name, "track_closed", **track_metadata(result))

    def _waiting(self, source, sink) -> None:
        # Between segments, on the camera's thread (no stage thread runs).
        if not source.stats.connected:
            self._set_state("reconnecting", redact_url(source.stats.last_error))
        sink.tick(0.0)  # retention keeps running while nothing comes

    def _ended(self, source) -> None:
        if self.config.loop or is_live_target(self.config.source):
            # a camera or stream never ends by itself: restart it all
            raise RuntimeError(f"the source stopped: {source.stats.last_error or 'no reason given'}")
        # A file that does not loop is not reopened after an error (a frame refused for its size,
        # review round 11): it ended there, and its status says why rather than "ended" alone.
        error = source.stats.last_error
        self._set_state("ended", f"the video file ended early: {redact_url(error)}" if error else "the video file ended")

    def _closed_on_gap(self, closed) -> None:
        self.flushed_on_gap += len(closed)

    def _sealed(self, result, record_id) -> None:
        self.sealed += 1
        self.seal_failing = ""
        if self._on_sealed is not None:
            self._on_sealed(self.config.name, result, record_id)
        if self.events is not None:
            self.events.publish(self.config.name, "track_sealed", track_id=int(result.track_id), record_id=record_id)
        _log.info("camera %s: sealed track %d", self.config.name, int(result.track_id),
                  extra={"camera": self.config.name, "event": "sealed", "track_id": int(result.track_id),
                         "record_id": record_id})


def _live_counters(source, adapter, governor=None) -> dict[str, float]:
    counts: dict[str, float] = {}
    if governor is not None:
        counts.update({"schedule:coarser": governor.coarsened, "schedule:finer": governor.refined,
                       "schedule:tiers_on": governor.tiers_on, "schedule:tiers_off": governor.tiers_off})
    if source is not None:
        # One snapshot under the source's lock: read field by field while the reader thread hands
        # over a frame, frames_dropped could already count a frame that frames_received does not.
        stats = source.snapshot()
        counts.update(frames_received=stats.frames_received, frames_dropped=stats.frames_dropped,
                      frames_skipped=stats.frames_skipped, reconnects=stats.reconnects, connect_failures=stats.connect_failures, stalls=stats.stalls)
    if adapter is not None:
        counts["faces"] = adapter.faces
        for key, seconds in adapter.timings.items():
            if key not in ("frames", "total"):
                counts[f"stage:{key}"] = seconds
        for kind, count in adapter.work.items():
            counts[f"work:{kind}"] = count
    return counts


def track_metadata(result) -> dict:
    """What a ``track_closed`` event says of a track: ids, frames, times and the best crop's
    quality value (what ``facesel list`` shows); never pixels, landmarks or the box."""
    return {"track_id": int(result.track_id), "first_frame": int(result.first_frame),
            "last_frame": int(result.last_frame), "first_timestamp": round(float(result.first_timestamp), 3),
            "last_timestamp": round(float(result.last_timestamp), 3), "quality": round(float(result.best.quality), 3)}


class _CameraVaultSink(VaultSink):
    """:class:`facesel.sinks.VaultSink` that also reports each closed track and record id (logs,
    events, ``on_sealed``)."""

    def __init__(self, vault, on_sealed, on_closed=lambda result: None, on_failed=lambda result, error: None):
        super().__init__(vault)
        self._on_sealed, self._on_closed, self._on_failed = on_sealed, on_closed, on_failed

    def write(self, result) -> None:
        """Seal ``result`` (a :class:`Held` one was announced closed at its first try); a seal that
        fails with one of :data:`SEAL_FAILURES` hands the result and the error to ``on_failed``
        and is raised."""
        if isinstance(result, Held):
            result = result.result
        else:
            self._on_closed(result)
        try:
            record_id = self.vault.seal(result)
        except SEAL_FAILURES as err:
            self._on_failed(result, err)
            raise
        self.sealed += 1
        self._on_sealed(result, record_id)


def _default_vault(config: CameraConfig):
    from facesel.serve.retention import open_camera_vault

    return open_camera_vault(config)
