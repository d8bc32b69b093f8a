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
from facesel.serve.pipeline_adapter import PipelineAdapter
from facesel.sinks import VaultSink
from facesel.sources import Backoff, EpochSegments, is_live_target, make_source

_log = logging.getLogger("facesel.serve")


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
    """

    def __init__(self, config: CameraConfig, open_vault=None, on_sealed=None):
        self.config = config
        self._open_vault = open_vault or _default_vault
        self._on_sealed = on_sealed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.source = None
        self.adapter: PipelineAdapter | None = None
        self.state = "starting"
        self.reason = ""
        self.sealed = 0
        self.processed = 0
        self.pipeline_restarts = 0
        self.flushed_on_gap = 0
        self.frame_seconds_sum = 0.0
        self.last_frame_latency = 0.0
        self._processed_times: deque[float] = deque(maxlen=64)
        self._handed: dict[int, float] = {}  # frame index -> when the source handed it over
        self._next_index = 0
        self._finished = threading.Event()

    # -- control -------------------------------------------------------------------------------
    def start(self) -> Camera:
        self._thread = threading.Thread(target=self._run, name=f"camera:{self.config.name}", daemon=True)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Ask the camera to close its tracks, seal them and finish (does not wait)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the camera has finished; True when it has."""
        return self._finished.wait(timeout)

    def stop(self, timeout: float | None = None) -> bool:
        self.request_stop()
        return self.join(timeout)

    # -- status (read by metrics and health from other threads) -------------------------------
    @property
    def up(self) -> bool:
        return self.state == "running"

    def frames_per_second(self) -> float:
        """Frames processed per second over the last (up to) 64 frames, up to now: a camera that
        stopped processing falls towards 0 instead of showing its last rate."""
        times = list(self._processed_times)
        if len(times) < 2:
            return 0.0
        span = time.monotonic() - times[0]
        return (len(times) - 1) / span if span > 0 else 0.0

    def health(self) -> dict:
        info = {"up": self.up, "state": self.state}
        if self.reason:
            info["reason"] = self.reason
        source = self.source
        if source is not None:
            age = source.frame_age()
            info["last_frame_age_s"] = None if age is None else round(age, 3)
            if self.state == "running" and (age is None or age > self.config.stall_timeout):
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
                    self.state, self.reason = "down", redact_url(f"{type(err).__name__}: {err}")
                    self.pipeline_restarts += 1
                    _log.error("camera %s: %s; retrying", self.config.name, self.reason,
                               extra={"camera": self.config.name})
                    self._stop.wait(backoff.next_delay())
                    continue
                break
        finally:
            self.state = "stopped"
            self._finished.set()

    def _serve_once(self) -> None:
        config = self.config
        vault = self._open_vault(config)
        source = None
        self._next_index = 0
        try:
            sink = _CameraVaultSink(vault, self._sealed)
            self.adapter = PipelineAdapter(config.settings, sinks=[sink])
            source = make_source(
                config.source, loop=config.loop, live=config.live, backend=config.backend,
                open_timeout=config.open_timeout, read_timeout=config.read_timeout,
                stall_timeout=config.stall_timeout, backoff=Backoff(base=0.5, cap=config.reconnect_max_delay),
            )
            self.source = source.start()
            self.state, self.reason = "connecting", ""
            segments = EpochSegments(source, self._stop.is_set, keep=self._received,
                                     waiting=lambda: self._waiting(source, sink), on_end=lambda: self._ended(source))
            for _, _, view in self.adapter.views(segments, on_gap=self._closed_on_gap):
                done = time.monotonic()
                started = self._handed.pop(view.frame_index, done)
                self.processed += 1
                self.frame_seconds_sum += done - started
                self.last_frame_latency = done - started
                self._processed_times.append(done)
        finally:
            try:
                if self.adapter is not None:
                    self.adapter.flush()  # the sinks seal what is still open
            finally:
                self._handed.clear()
                if source is not None:
                    source.stop(timeout=config.read_timeout + 1.0)
                vault.close()

    # -- hooks of the segments and the sink (see EpochSegments for the thread of each) ---------
    def _received(self, frame) -> bool:
        # The thread reading the segment: mark the frame's hand-over time for its latency.
        self.state, self.reason = "running", ""
        self._handed[self._next_index] = time.monotonic()
        self._next_index += 1
        return True

    def _waiting(self, source, sink) -> None:
        # Between segments, on the camera's thread (no stage thread runs).
        if not source.stats.connected:
            self.state, self.reason = "reconnecting", redact_url(source.stats.last_error)
        sink.tick(0.0)  # retention keeps running while nothing comes

    def _ended(self, source) -> None:
        if self.config.loop or is_live_target(self.config.source):
            # a camera or stream never ends by itself: restart it all
            raise RuntimeError(f"the source stopped: {source.stats.last_error or 'no reason given'}")
        self.state, self.reason = "ended", "the video file ended"

    def _closed_on_gap(self, closed) -> None:
        self.flushed_on_gap += len(closed)

    def _sealed(self, result, record_id) -> None:
        self.sealed += 1
        if self._on_sealed is not None:
            self._on_sealed(self.config.name, result, record_id)
        _log.info("camera %s: sealed track %d", self.config.name, int(result.track_id),
                  extra={"camera": self.config.name, "event": "sealed", "track_id": int(result.track_id),
                         "record_id": record_id})


class _CameraVaultSink(VaultSink):
    """:class:`facesel.sinks.VaultSink` that also reports each record id (logs, ``on_sealed``)."""

    def __init__(self, vault, on_sealed):
        super().__init__(vault)
        self._on_sealed = on_sealed

    def write(self, result) -> None:
        record_id = self.vault.seal(result)
        self.sealed += 1
        self._on_sealed(result, record_id)


def _default_vault(config: CameraConfig):
    from facesel.vault import Vault

    return Vault(config.vault, config.authority, camera=config.camera_key, camera_id=config.camera_id)
