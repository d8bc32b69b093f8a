"""What ``facesel run`` does around the pipeline: signals, the config file, the JSON event
stream, log levels, live inputs and the annotated preview. ``cli/run.py`` calls into here so
that its own code stays the pipeline's flags and wiring.

- SIGTERM (what systemd and docker send) and SIGINT stop reading the input; the open tracks are
  then closed and sealed as at the end of the input, and the summary ends with a line saying that
  the run was interrupted; the exit code is 130 (SIGINT) or 143 (SIGTERM), but 0 for SIGTERM on a
  live input, which has no end of its own (:mod:`facesel.cli.run_outcome`). A second SIGINT
  interrupts at once (exit 130; open tracks are still flushed on the way out).
- ``--json``: one JSON object per line on stdout for ``track_opened``, ``track_closed``,
  ``track_sealed`` and ``run_finished``: metadata only (ids, frame numbers, times, box, quality),
  never pixels. The human-readable lines then go to stderr.
- ``--config FILE``: the same TOML file as ``facesel serve``; one camera's source, vault,
  authority and pipeline settings fill in what the command line does not give, and its zones
  mask the frames as in ``facesel serve``.
- A webcam index or stream URL is read through :mod:`facesel.sources` (reconnection, newest
  frame); after a reconnection the open tracks are closed, as in ``facesel serve``: the input is
  cut into one segment per connection (:meth:`RunSession.segments`), and the tracks are closed
  between two segments, when the pipeline's stage threads have finished the first.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading

from facesel.cli.pipe_safe import PipeSafe
from facesel.serve.pipeline_adapter import SETTING_NAMES, confirmed_tracks

PREVIEW_HELP = (
    "FOR TESTING ONLY (setting a camera up): write an annotated copy of the input video to FILE "
    "(.avi or .mp4): boxes, track ids, quality, and each kept crop. It holds faces in the clear; "
    "never use it in production."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add ``--config`` (a serve-format TOML filling in what the command line leaves out) to ``p``."""
    p.add_argument("--config", metavar="FILE", default=None,
                   help="TOML config in facesel serve's format: a camera's source, vault, authority and "
                   "pipeline settings fill in what the command line leaves out (a flag left at its default "
                   "value is taken from the file)")
    p.add_argument("--config-camera", metavar="NAME", default=None,
                   help="the camera of --config to use (needed when it has several)")
    p.add_argument("--json", action="store_true",
                   help="metadata-only JSON event lines on stdout (track_opened/closed/sealed, run_finished); "
                   "no pixels")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="warning",
                   help="level of the log lines on stderr (default warning)")
    p.add_argument("--preview", metavar="FILE", default=None, help=PREVIEW_HELP)
    p.set_defaults(_run_parser=p)  # apply_config tells given flags from defaults with it


def apply_config(args: argparse.Namespace) -> None:
    """Fill ``args`` from ``--config`` where the command line gave nothing (flags win)."""
    if args.config is None:
        if args.config_camera is not None:
            raise ValueError("--config-camera needs --config")
        return
    from facesel.serve.config import load_config
    from facesel.serve.suggest import did_you_mean

    cameras = load_config(args.config).cameras
    name = args.config_camera
    if name is None:
        if len(cameras) != 1:
            raise ValueError(f"{args.config} has {len(cameras)} cameras ({', '.join(cameras)}): choose one "
                             "with --config-camera NAME")
        name = next(iter(cameras))
    if name not in cameras:
        raise ValueError(f"--config-camera: no camera {name!r} in {args.config}{did_you_mean(name, cameras)}")
    camera = cameras[name]
    parser = args._run_parser
    args.zones = camera.zones  # applied to the frames as in facesel serve (segments())
    if camera.retention_seconds is not None:
        print(f"note: {args.config}: cameras.{name}.retention_hours applies to facesel serve only; facesel run "
              "leaves expiry to the authority's retention", file=sys.stderr)

    def fill(dest: str, value, key: str) -> None:
        if not hasattr(args, dest):
            raise ValueError(f"{args.config}: cameras.{name}.{key} has no facesel run flag to go to")
        if getattr(args, dest) == parser.get_default(dest):
            setattr(args, dest, value)

    if args.input is None:
        args.input = camera.source
    if not args.dry_run:  # a dry run keeps nothing: the camera's vault is not touched
        fill("vault", str(camera.vault), "vault")
        fill("authority", str(camera.authority), "authority")
        fill("camera", str(camera.camera_key), "camera_key")
    fill("camera_id", camera.camera_id, "camera_id")
    for key, value in camera.settings.items():
        if key in SETTING_NAMES:
            fill(key, value, f"pipeline.{key}")


class RunSession:
    """Signals, events, live input and preview of one ``facesel run`` (a context manager)."""

    def __init__(self, args: argparse.Namespace):
        from facesel.serve.logs import configure_logging

        self.args = args
        self.stop_reason: str | None = None
        self.finish_reason: str | None = None
        """Set by the caller once the run is judged (:mod:`facesel.cli.run_outcome`)."""
        self.halted: str | None = None
        """Set to why when an output failed (:mod:`facesel.cli.run_outputs`): the input stops as for a signal."""
        self._sigints = 0
        self._previous: dict = {}
        self._opened: set[int] = set()
        self._events = sys.stdout if args.json else None  # the raw stream: _emit says when it breaks
        self._saved_stdout = None
        self._live = None
        self._frames = 0
        self._tracks = 0
        self.preview = None
        # A reader of the console that goes away ends no run (the log handler below writes to it too).
        self._streams = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = PipeSafe(sys.stdout), PipeSafe(sys.stderr)
        self._logging = configure_logging(args.log_level)

    # -- context -------------------------------------------------------------------------------
    def __enter__(self) -> RunSession:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._previous[sig] = signal.signal(sig, self._on_signal)
        if self._events is not None:
            # The event stream owns stdout; the human-readable lines go to stderr.
            self._saved_stdout, sys.stdout = sys.stdout, sys.stderr
        return self

    def __exit__(self, *exc) -> None:
        from facesel.serve.logs import restore_logging

        restore_logging(self._logging)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        if self._saved_stdout is not None:
            sys.stdout = self._saved_stdout
        if self._live is not None:
            self._live.stop()
            stats = self._live.stats
            print(f"live input: {stats.frames_received} frames received, {stats.frames_dropped} dropped "
                  f"(newest frame kept), {stats.reconnects} reconnects", file=sys.stderr)
        if self.preview is not None:
            self.preview.close()
            print(self.preview.summary(), file=sys.stderr)
        self._emit({"event": "run_finished", "frames": self._frames, "tracks": self._tracks,
                    "reason": self.finish_reason or self.stop_reason or ("error" if exc[0] else "end of input")})
        sys.stdout, sys.stderr = self._streams

    def _on_signal(self, signum, _frame) -> None:
        if signum == signal.SIGINT:
            self._sigints += 1
            if self._sigints > 1:
                raise KeyboardInterrupt
        self.stop_reason = signal.Signals(signum).name

    # -- input ---------------------------------------------------------------------------------
    def open_input(self, open_source):
        """``open_source(...)`` for files and folders; a reconnecting live source otherwise."""
        from facesel.sources import is_live_target
        from facesel.sources.frame_limit import MAX_FRAME_PIXELS

        args = self.args
        if args.input is None:
            raise ValueError("no INPUT given (and no --config camera to take it from)")
        if not is_live_target(args.input):
            return open_source(args.input, every=args.every, max_frames=args.max_frames, fps=args.fps,
                               max_frame_pixels=getattr(args, "max_frame_pixels", MAX_FRAME_PIXELS))
        from facesel.cli.run_live import LiveInput

        self._live = LiveInput(args.input, every=args.every, max_frames=args.max_frames,
                               stopped=self._stopping,
                               open_timeout=getattr(args, "open_timeout", 15.0),
                               max_frame_pixels=getattr(args, "max_frame_pixels", MAX_FRAME_PIXELS))
        return self._live

    def segments(self, source):
        """The input as segments of ``(frame, timestamp)`` (see
        :func:`facesel.serve.pipeline_adapter.views_by_segment`): a file or folder is one; a live
        input one per connection, the tracks being closed between them."""
        from facesel.serve.zones import ZoneMask, masked_segments

        segments = source.segments() if source is self._live else [self.frames(source)]
        zones = ZoneMask(getattr(self.args, "zones", ()))
        return masked_segments(segments, zones) if zones.zones else segments

    def frames(self, source):
        """The input's frames until it ends or a signal asks to stop."""
        for item in source:
            if self._stopping():
                break
            yield item
            if self._stopping():
                break

    def _stopping(self) -> bool:
        return self.stop_reason is not None or self.halted is not None

    # -- per frame and per result --------------------------------------------------------------
    def attach(self, selector, fps: float | None = None) -> None:
        """Called once the pipeline is built: opens the preview writer when one was asked for, and
        warns on stderr of each output that will hold faces in the clear."""
        if getattr(self.args, "plaintext_out", None):
            # ux22: --preview warned here, --plaintext-out (the same faces as PNGs) only in its help
            # and its last line, after the faces were on the disk.
            print(f"WARNING: --plaintext-out writes FACES IN THE CLEAR to {self.args.plaintext_out} (testing only: "
                  "unencrypted PNGs; a deployment seals into --vault)", file=sys.stderr)
        if self.args.preview:
            from facesel.cli.run_preview import PreviewWriter

            self.preview = PreviewWriter(self.args.preview, fps=fps or 12.5)
            print(f"WARNING: --preview writes FACES IN THE CLEAR to {self.args.preview} (testing only: "
                  "delete it when the camera is set up)", file=sys.stderr)

    def after_frame(self, selector, frame, stamp, view=None) -> None:
        """After each frame: emit ``track_opened`` events for newly confirmed tracks and write the
        preview frame, when either was asked for.
        """
        self._frames += 1
        # view.frame_index, not selector.frame_index: with stage threads the front runs ahead
        tracks = confirmed_tracks(view) if (self._events is not None or self.preview is not None) else []
        if self._events is not None:
            for track in tracks:
                if track.track_id not in self._opened:
                    self._opened.add(track.track_id)
                    self._emit({"event": "track_opened", "track_id": track.track_id,
                                "frame": int(view.frame_index), "timestamp": round(float(stamp), 4)})
        if self.preview is not None:
            self.preview.write(frame, tracks, int(view.frame_index))

    def on_result(self, result, sealed: bool) -> None:
        """For each closed track's result: count it, show it on the preview and emit ``track_closed``."""
        self._tracks += 1
        self._opened.discard(int(result.track_id))
        if self.preview is not None:
            self.preview.kept(result)
        best = result.best
        self._emit({"event": "track_closed", "track_id": int(result.track_id),
                    "first_frame": int(result.first_frame), "last_frame": int(result.last_frame),
                    "first_timestamp": round(float(result.first_timestamp), 4),
                    "last_timestamp": round(float(result.last_timestamp), 4),
                    "best_frame": int(best.frame_index), "quality": float(best.quality),
                    "box": [round(float(v), 1) for v in best.box]})
        if sealed:
            self._emit({"event": "track_sealed", "track_id": int(result.track_id)})

    def _emit(self, event: dict) -> None:
        if self._events is None:
            return
        try:
            self._events.write(json.dumps(event) + "\n")
            self._events.flush()
        except BrokenPipeError:
            # The reader of the events went away (`| head`, a crashed consumer). The events are a
            # side channel: the run goes on sealing (before, the error ended the run and the people
            # after that frame were never kept). Point the descriptor at /dev/null so that the
            # interpreter's last flush of stdout does not fail on the same pipe.
            stream, self._events = self._events, None
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
            print("facesel run: warning: the --json event stream was closed by its reader (broken pipe); "
                  "no more events, the run goes on", file=sys.stderr)
