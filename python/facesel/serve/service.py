"""``facesel serve``: N cameras in one process, signals, reload, the status endpoint.

- SIGTERM / SIGINT: every camera closes its open tracks and seals them, then the process exits 0.
  The cameras stop in parallel; ``serve.shutdown_timeout`` bounds the wait (a camera still busy
  then is reported and left behind, and the exit code is 1; 1 too when a camera's seals failed
  while it stopped). A second signal during the stop is logged, the sealing goes on.
- SIGHUP (or ``POST /reload``, ``facesel serve reload``): the config file is read again.
  Cameras that were removed stop (sealing their tracks), new ones start, changed ones restart,
  unchanged ones are not touched. A config with an error is refused as a whole and the running
  cameras go on; a running camera's own video file gone missing is not such an error (the camera
  says so itself; the reload applies the rest and names it, ux20). A changed camera's counters go on from the old one's (metrics and the summary).
  Closed tracks whose seals still fail when a camera stops for a reload are handed to its
  successor when the vault folder is the same (ops22; before, they were lost and counted); a
  removed camera, or one moved to another vault, tries them once with its own vault and loses
  (counts) what still fails. A stop asked for during a reload waits for it (its new cameras are
  stopped too); a reload asked for during a stop is refused.
  ``serve.listen``, ``serve.status_hosts``, ``serve.view``, ``[serve.mqtt]``, ``[serve.webhook]``, ``serve.log_format``
  and ``serve.log_level`` take a restart (a reload names those the file changed).
"""

from __future__ import annotations

import errno
import logging
import signal
import threading
import time
from pathlib import Path

from facesel.detect import heap
from facesel.serve.camera import Camera
from facesel.serve.config import ServeConfig, load_config
from facesel.sources import is_live_target
from facesel.serve.metrics import make_registry
from facesel.serve.shared_models import SharedModels
from facesel.serve.source_file import check_source_file
from facesel.serve.status_http import StatusServer
from facesel.serve.vault_claims import VaultClaims

_log = logging.getLogger("facesel.serve")

ARENAS = 2
"""glibc heaps the service's threads share (:func:`facesel.detect.heap.limit_arenas`)."""


RESTART_KEYS = ("listen", "status_hosts", "view", "mqtt", "webhook", "log_format", "log_level")
"""``[serve]`` keys a reload does not apply (the status port, its event buses and the logging are
made once, at the start). A reload that found one changed used to answer "changed none", exit 0,
as if the file had been taken whole (ux20); now the answer and the log name them."""


def unreadable_sources(config: ServeConfig, running: dict[str, str]) -> list[str]:
    """Why each camera of ``config`` that kept its running video file cannot read it now
    (``cameras.NAME.source: video file not found: PATH``): the reload applied the rest (ux20)."""
    problems = []
    for name, camera in config.cameras.items():
        if camera.enabled and running.get(name) == camera.source and not is_live_target(camera.source):
            try:
                check_source_file(Path(camera.source), camera.source, f"cameras.{name}.source", camera.max_frame_pixels)
            except ValueError as err:
                problems.append(str(err))
    return problems


class Service:
    """The cameras of one config and the status endpoint.

    Parameters
    ----------
    config : ServeConfig
    open_vault, on_sealed : callable, optional
        Passed to each :class:`Camera`.
    """

    def __init__(self, config: ServeConfig, open_vault=None, on_sealed=None):
        self.config = config
        self._open_vault, self._on_sealed = open_vault, on_sealed
        self.cameras: dict[str, Camera] = {}
        self._lock = threading.Lock()
        self._reload_lock = threading.RLock()  # reload_from_file holds it across reload(); stop() waits on it
        self._stop = threading.Event()
        self._stopped_by = ""  # the signal that asked the stop (its log line names it)
        self._reload = threading.Event()
        self.status: StatusServer | None = None
        self.reloads = 0
        self.models = SharedModels()  # one detector and scorer per settings for all cameras (issue 27)
        self.events = None
        self.started_at = time.monotonic()
        self._retired: dict[str, dict] = {}
        """Counters of cameras removed by a reload (the summary counts their records too)."""
        self.claims = VaultClaims()
        """The cameras' vault folders, held for the service's life (one service per vault)."""

    @property
    def stopping(self) -> bool:
        """Whether a stop was asked for."""
        return self._stop.is_set()

    def sealed_total(self) -> int:
        """Records sealed since the service started, by every camera it ran (reloads included)."""
        current = sum(int(cam.counters()["sealed"]) for cam in self.camera_list())
        return current + sum(int(counts.get("sealed", 0)) for counts in self._retired.values())

    def camera_list(self) -> list[Camera]:
        """The cameras running now (a copy: a reload may change them meanwhile)."""
        with self._lock:
            return list(self.cameras.values())

    def disabled_cameras(self) -> list[str]:
        """Names of the config's cameras with ``enabled = false`` (shown as disabled, not down)."""
        return [name for name, cam in self.config.cameras.items() if not cam.enabled]

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> Service:
        """Start the event bus, the status endpoint and every enabled camera; returns the service."""
        # Threads of all cameras share a few C heaps instead of each meeting one of its own (up
        # to 8 per core), which each kept freed frames: the largest part of an extra camera's memory.
        heap.limit_arenas(ARENAS)
        # Before anything starts: a second service on these vaults is refused here, instead of
        # running with every camera down, retrying the vault's lock (ux20).
        self.claims.claim_all(self.config.cameras.values())
        try:
            return self._start_claimed()
        except BaseException:
            self.claims.release_all_but()
            raise

    def _start_claimed(self) -> Service:
        from facesel.serve import control, view
        from facesel.serve.events import make_event_bus

        self.events = make_event_bus(self.config)
        if self.config.listen is not None:
            host, port = self.config.listen
            extra = [control.routes(self), view.routes(self)]

            def routes(method, path):
                return next((found for route in extra if (found := route(method, path)) is not None), None)
            try:
                self.status = StatusServer(self.config.listen, make_registry(self.camera_list), self.camera_list,
                                           routes=routes, disabled=self.disabled_cameras,
                                           allowed_hosts=self.config.status_hosts,
                                           hint=lambda: view.paths_hint(self)).start()
            except OSError as err:
                hint = ("; another program listens on that port (another facesel serve? 'facesel serve status "
                        "--config FILE' asks the one of FILE): stop it, or give serve.listen a free port"
                        if err.errno == errno.EADDRINUSE else "")
                raise RuntimeError(f"serve.listen = \"{host}:{port}\": cannot listen there "
                                   f"({err.strerror or err}){hint}") from None
            _log.info("metrics and health on http://%s:%d/metrics and /healthz", self.config.listen[0], self.status.port)
            if self.config.view:
                _log.warning("the privacy-safe view is on: http://%s:%d/cameras/NAME/view.jpg and view.mjpg "
                             "(faces hidden; every use is logged)", self.config.listen[0], self.status.port)
        for camera in self.config.cameras.values():
            self._start_camera(camera)
        return self

    def _start_camera(self, camera_config, carried: dict | None = None, held: list | None = None) -> None:
        if not camera_config.enabled:
            _log.info("camera %s is disabled", camera_config.name, extra={"camera": camera_config.name})
            return
        camera = Camera(camera_config, open_vault=self._open_vault, on_sealed=self._on_sealed, carried=carried,
                        events=self.events, keep_frames=self.config.view, models=self.models,
                        slot=self._detection_slot(camera_config.name), held=held).start()
        with self._lock:
            self.cameras[camera_config.name] = camera
        _log.info("camera %s started", camera_config.name, extra={"camera": camera_config.name})

    def _detection_slot(self, name: str) -> tuple[int, int]:
        """``(i, n)``: the camera's place among the config's n enabled cameras, in config order
        (its full-frame detections' phase: :attr:`CameraConfig.stagger_detection`)."""
        names = [c.name for c in self.config.cameras.values() if c.enabled]
        return (names.index(name), len(names)) if name in names else (0, 1)

    def stop(self, timeout: float | None = None) -> list[str]:
        """Stop every camera (in parallel); the names of those still busy after ``timeout``."""
        timeout = self.config.shutdown_timeout if timeout is None else timeout
        self._stop.set()  # also ends the view's streams, whose workers the status port waits for on close
        # A reload under way finishes first: the cameras it starts (with the tracks their
        # predecessors handed over) are stopped here too, not left running; later reloads are refused.
        with self._reload_lock:
            cameras = self.camera_list()
            for camera in cameras:
                camera.request_stop(why="the service is stopping")
        deadline = time.monotonic() + timeout
        late = [cam.config.name for cam in cameras if not cam.join(max(0.0, deadline - time.monotonic()))]
        if self.status is not None:
            self.status.close()
        if self.events is not None:
            self.events.close()
        # a camera still busy keeps its vault open: its folder stays held until the process ends
        self.claims.release_all_but({self.config.cameras[name].vault.resolve() for name in late
                                     if name in self.config.cameras})
        return late

    def reload(self, new: ServeConfig) -> dict:
        """Apply a new config: ``{"added", "removed", "changed"}`` camera names and ``"restart"``,
        the ``[serve]`` keys the file changed that only a restart applies (:data:`RESTART_KEYS`).

        Raises
        ------
        RuntimeError
            The service is stopping, or a new vault folder is held by another service; nothing changed.
        """
        with self._reload_lock:
            if self._stop.is_set():
                raise RuntimeError("the service is stopping: reload refused")
            return self._apply(new)

    def _apply(self, new: ServeConfig) -> dict:
        """:meth:`reload`'s work, under its lock: claim the new vault folders first (a refusal changes
        nothing), stop the removed and changed cameras (a changed camera on the same vault hands its
        held results to its successor, ops22), then start the added and changed ones with the
        counters of the cameras they replace."""
        restart = [f"serve.{key}" for key in RESTART_KEYS if getattr(new, key) != getattr(self.config, key)]
        old = self.config.cameras
        removed = sorted(set(old) - set(new.cameras))
        added = sorted(set(new.cameras) - set(old))
        changed = sorted(name for name in set(old) & set(new.cameras) if old[name] != new.cameras[name])
        # a new vault folder held by another service refuses the reload before anything stops
        try:
            self.claims.claim_all(new.cameras[name] for name in added + changed)
        except RuntimeError as err:
            _log.error("reload: config refused, cameras unchanged: %s", err)
            raise
        carried, handed = {}, {}
        for name in removed + changed:
            with self._lock:
                camera = self.cameras.pop(name, None)
            if camera is None:
                continue
            successor = new.cameras.get(name)
            # its unsealed closed tracks go to the camera that replaces it on the same vault
            camera.request_stop(hand_over=successor is not None and successor.enabled
                                and successor.vault.resolve() == camera.config.vault.resolve(),
                                why="reload: removed from the config" if name in removed
                                else "reload: its settings changed")
            if not camera.join(self.config.shutdown_timeout):
                _log.warning("camera %s did not stop within %.0f s", name, self.config.shutdown_timeout)
            handed[name] = camera.hand_over_held()
            carried[name] = camera.counters()
            if name in removed:
                self._retired[name] = carried[name]
        self.config = ServeConfig(cameras=new.cameras, listen=self.config.listen, log_format=self.config.log_format,
                                  log_level=self.config.log_level, shutdown_timeout=new.shutdown_timeout,
                                  path=self.config.path, view=self.config.view, mqtt=self.config.mqtt,
                                  webhook=self.config.webhook)
        self.claims.release_all_but({cam.vault.resolve() for cam in new.cameras.values() if cam.enabled}
                                    | {cam.config.vault.resolve() for cam in self.camera_list()})
        for name in added + changed:
            # a camera removed earlier and added back goes on counting too
            self._start_camera(new.cameras[name], carried.get(name) or self._retired.pop(name, None),
                               held=handed.get(name))
        self.reloads += 1
        # the names as `serve reload` prints them, not a Python list's repr ("changed ['door']", ux19)
        _log.info("reloaded: added %s, removed %s, changed %s",
                  *(", ".join(names) or "none" for names in (added, removed, changed)))
        if restart:
            _log.warning("reload: %s changed in the file, not applied: they take a restart", ", ".join(restart))
        return {"added": added, "removed": removed, "changed": changed, "restart": restart}

    # -- the main loop with signals ------------------------------------------------------------
    def run_until_signalled(self) -> int:
        """Install the signal handlers, run until SIGTERM/SIGINT, stop; the exit code.

        0 when every camera sealed its open tracks; 1 when one was still busy after
        ``serve.shutdown_timeout`` or failed while stopping (a full disk: its tracks are lost).
        A second SIGTERM/SIGINT while the cameras seal is logged and the sealing goes on: the
        handlers stay until the end (before ux20 they were put back first, so a second Ctrl-C
        raised KeyboardInterrupt in the middle of the shutdown and the process aborted, exit 134,
        with the open tracks unsealed).
        """
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)
        signal.signal(signal.SIGHUP, lambda *_: self._reload.set())
        try:
            while not self._stop.is_set():
                self._stop.wait(0.2)
                if self._reload.is_set():
                    self._reload.clear()
                    self._reload_from_file()
            # which signal (ux24: the line said "stopping" alone, whether a service manager's SIGTERM
            # or a Ctrl-C at a terminal ended it)
            _log.info("stopping%s: closing and sealing open tracks",
                      f" ({self._stopped_by})" if self._stopped_by else "")
            cameras = self.camera_list()
            late = self.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        failed = [f"{cam.config.name} ({cam.stop_failure})" for cam in cameras if cam.stop_failure]
        if late:
            _log.error("cameras still busy after %.0f s: %s", self.config.shutdown_timeout, ", ".join(late))
        if failed:
            _log.error("stopped with open tracks not sealed: %s", "; ".join(failed))
        if late or failed:
            return 1
        _log.info("stopped; %d records sealed in this run (%d reload%s)", self.sealed_total(), self.reloads,
                  "" if self.reloads == 1 else "s")
        return 0

    def _on_stop_signal(self, signum, _frame) -> None:
        """SIGTERM/SIGINT: the first asks every camera to stop; a later one only says what is going on."""
        if not self._stop.is_set():
            self._stopped_by = signal.Signals(signum).name
            self._stop.set()
            return
        _log.warning("%s: already stopping, the cameras are sealing their open tracks (at most %.0f s, "
                     "serve.shutdown_timeout); SIGKILL stops at once and loses them",
                     signal.Signals(signum).name, self.config.shutdown_timeout)

    def reload_from_file(self) -> dict:
        """Read the config file again and apply it (one reload at a time); what changed.

        Raises
        ------
        ValueError, FileNotFoundError
            The file is refused; nothing was changed.
        """
        with self._reload_lock:
            if self.config.path is None:
                raise RuntimeError("no config file to reload")
            running = {cam.config.name: cam.config.source for cam in self.camera_list()}
            try:
                new = load_config(self.config.path, running_sources=running)
            except (ValueError, FileNotFoundError) as err:
                _log.error("reload: config refused, cameras unchanged: %s", err)
                raise
            changes = self.reload(new)
            changes["unreadable"] = unreadable_sources(new, running)
            for problem in changes["unreadable"]:
                _log.warning("reload: %s; that camera keeps its source and stays down until it can be read", problem)
            return changes

    def _reload_from_file(self) -> None:
        try:
            self.reload_from_file()
        except (ValueError, FileNotFoundError, RuntimeError):
            pass  # logged; the cameras go on
