"""How many cameras one process holds: N paced cameras through ``facesel serve``'s own code.

Not a test (not in CI). For each N, a fresh Python process builds a ``facesel serve`` config with N
cameras, each a real shared video looping at its own frame rate (``realtime = true``) with
camera semantics (``live = true``: a frame that finds the camera's queue of ``buffer_frames``
frames full pushes the oldest waiting one out, counted as dropped), each sealing into its own vault under a fresh authority, and runs it through
:class:`facesel.serve.service.Service` (config parsing, shared models, cameras, vaults) for
``--warmup`` + ``--seconds`` seconds. Counted over the last ``--seconds`` (the steady state):

- frames received, processed and dropped per camera, and the drop fraction;
- CPU seconds per second of the whole process, per camera (user + system, ``getrusage``);
- p50 / p99 latency from the source's hand-over of a frame to its decision (waiting included);
- resident memory at the end (VmRSS) and its peak (VmHWM);
- the detection schedule each camera ended on (``detect_every``, coarsened under load), the
  governor's steps in the window and the frames taken at each schedule, and the window's drops by
  the schedule in force and by the kind of step that began its stretch (``drops_at_detect_every``,
  ``drops_after_step``: read off the governor's change log, session 16).

The largest N with no drop in the steady state is reported, and a plot of drops and CPU against
N is written. Absolute figures depend on the machine and on what else runs on it: measure on a
quiet machine, and compare only figures of one run.

``--continuous``: each video is first made into a continuous stream longer than a run: played
forwards then backwards ("ping-pong": the last frame of one leg is the first of the next, so the
motion never jumps) and repeated until it outlasts ``--warmup`` + ``--seconds``. A short looping
file ends every pass with a break (the arcade video every 4.2 s), and a break closes, judges and
seals every open track at once: a burst a live camera meets only on a reconnection. With
``--continuous`` the steady state has no such break; without it every pass has one.

``--rtsp``: the cameras read one local RTSP server's live stream instead (GStreamer, H.264 encoded
in real time in a process of its own, whose CPU is reported apart): no loop, so no gap every pass.

``--scorer default context`` runs every N with each scorer setting in turn (the plot draws one line
per scorer); ``--buffer-frames 1 8`` likewise runs every N with each camera ``buffer_frames`` (the
source's frame queue; 1 is a one-frame slot) in turn, recorded in each row; ``--shrink-in-decoder`` turns on the cameras' one-step shrink; ``--video`` also takes
absolute paths (a 720p transcode in /tmp); ``--height 720`` transcodes the videos to that height in a
temporary folder first (ffmpeg, area filter, x264 CRF 20; deleted at the end); ``--skip-loop-filter``
sets the cameras' ``skip_loop_filter`` (frames decoded without H.264's deblocking filter).

``--threads`` adds each thread role's CPU and a GIL probe (:mod:`thread_cpu`); ``--variant A B ...``
runs each N with each variant of :data:`VARIANTS` in turn (``old``: both load settings off, as before
issue 27's session 10, ``lazy+skip``: frames converted when taken and non-reference frames skipped
while behind, ``threads1``: one pipeline thread a camera, ...),
``--repeats`` times, alternated, and prints each one's median ratios to the first; every row says
``received_of_due``, the share of the frames a paced camera sent that its reader received.

Run (the figures in docs/performance.md):
``python benchmarks/capacity.py --cameras 1 2 3 4 --scorer default context --seconds 40 --warmup 10``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_LAZY_SKIP = {"convert_on_take": True, "skip_when_behind": True}
_OLD = {"convert_on_take": False, "skip_when_behind": False}
_S11 = {"seal_in_background": False, "stagger_detection": False, "flush_buffer_frames": 0}
VARIANTS = {
    "base": ({}, None, {}),
    # session 21: serve's defaults with file cameras read by OpenCV, as before session 20 (OPENCV_FILES)
    "opencvfile": ({}, None, {}),
    # session 21: PyAV connections' BGR frames as arrays of their own, not views of PyAV's frames (OWNING_COPIES)
    "lazy+skip+copy": (_LAZY_SKIP, None, {}),
    "skip+copy": ({"convert_on_take": False, "skip_when_behind": True}, None, {}),
    # session 22: PyAV connections' BGR frames as views of PyAV's frames, as before own_bgr (PYAV_VIEWS)
    "lazy+skip+pyav-views": (_LAZY_SKIP, None, {}),
    "pyav-views": ({}, None, {}),
    # session 21: stream cameras (--rtsp) decoded by OpenCV's reader (backend = "opencv")
    "backend-opencv": ({"backend": "opencv"}, None, {}),
    "old": (_OLD, None, {}),
    "lazy": ({"convert_on_take": True, "skip_when_behind": False}, None, {}),
    "skip": ({"convert_on_take": False, "skip_when_behind": True}, None, {}),
    "lazy+skip": (_LAZY_SKIP, None, {}),
    "switch1ms": ({}, 0.001, {}),
    "lazy+skip+switch1ms": (_LAZY_SKIP, 0.001, {}),
    "threads1": ({}, None, {"threads": 1}),
    "old+threads1": (_OLD, None, {"threads": 1}),
    "lazy+skip+threads1": (_LAZY_SKIP, None, {"threads": 1}),
    "lazy+skip+noref": ({**_LAZY_SKIP, "skip_loop_filter": "noref"}, None, {}),
    "lazy+skip+exact": ({**_LAZY_SKIP, "skip_loop_filter": "none"}, None, {}),
    "pyregions": ({}, None, {}),
    "pick0": ({}, None, {"consensus_finalists": 0}),
    "lazy+skip+pick0": (_LAZY_SKIP, None, {"consensus_finalists": 0}),
    "lazy+skip+consensus": (_LAZY_SKIP, None, {"consensus_finalists": 32}),
    "lazy+skip+s11": ({**_LAZY_SKIP, **_S11}, None, {}),
    "lazy+skip+syncseal": ({**_LAZY_SKIP, "seal_in_background": False}, None, {}),
    "lazy+skip+nostagger": ({**_LAZY_SKIP, "stagger_detection": False}, None, {}),
    "lazy+skip+flushbuf": ({**_LAZY_SKIP, "flush_buffer_frames": 12}, None, {}),
    "lazy+skip+consensus-reference": (_LAZY_SKIP, None, {"consensus_finalists": 32, "consensus_impl": "reference"}),
    "lazy+skip+miss1": (_LAZY_SKIP, None, {"region_miss_limit": 1}),
    "lazy+skip+miss2": (_LAZY_SKIP, None, {"region_miss_limit": 2}),
    "lazy+skip+miss3": (_LAZY_SKIP, None, {"region_miss_limit": 3}),
    "lazy+skip+scale2": (_LAZY_SKIP, None, {"region_scale": 2.0}),
    "lazy+skip+oldgov": ({**_LAZY_SKIP, "refine_backoff": 1}, None, {}),
    # session 13: two-tier full-frame detection (docs/performance.md)
    "lazy+skip+tier640x4": (_LAZY_SKIP, None, {"coarse_max_side": 640, "fine_every": 4}),
    # session 13: the governor's first step two tiers on (coarsen_with_tiers, the default) or not
    "lazy+skip+notiergov": ({**_LAZY_SKIP, "coarsen_with_tiers": False}, None, {}),
    # session 14: region squares area-shrunk on uint8 and the thumbnail sampled byte by byte, as before
    "lazy+skip+s13squares": (_LAZY_SKIP, None, {}),
    # session 17: whole frames and region squares shrunk as in session 16 (OpenCV, squares through float32)
    "lazy+skip+s16shrink": (_LAZY_SKIP, None, {}),
    # session 18: fractional region squares through numpy's float32 copy and OpenCV, as in session 17
    "lazy+skip+s17squares": (_LAZY_SKIP, None, {}),
    # session 15: a 16-frame queue while the governor is at its cap (cap_buffer_frames)
    "lazy+skip+capbuf8": ({**_LAZY_SKIP, "cap_buffer_frames": 8}, None, {}),
    "lazy+skip+capbuf16": ({**_LAZY_SKIP, "cap_buffer_frames": 16}, None, {}),
    # session 16: the governor's settle_coarsening, and an 8-frame queue at every schedule
    "lazy+skip+settle": ({**_LAZY_SKIP, "settle_coarsening": True}, None, {}),
    "lazy+skip+buf8": ({**_LAZY_SKIP, "buffer_frames": 8}, None, {}),
    "lazy+skip+buf8+settle": ({**_LAZY_SKIP, "buffer_frames": 8, "settle_coarsening": True}, None, {}),
}
"""``--variant`` names: (camera settings added to every camera, the process's GIL switch interval
in seconds or None for Python's default 5 ms, pipeline settings added to every camera's).
``base`` is serve's defaults (for file cameras: the plain file connection, FFmpeg through PyAV since
session 20, frames converted as decoded, every frame decoded; for RTSP cameras ``lazy+skip``, which
for file cameras means ``PyAVFileConnection``); ``opencvfile`` is ``base`` with file cameras read by
OpenCV's FFmpeg reader as before session 20 (:data:`OPENCV_FILES`); ``lazy+skip+copy`` / ``skip+copy`` are ``lazy+skip`` / ``skip`` with each
BGR frame of a PyAV connection copied into an array of its own (:data:`OWNING_COPIES`, as ``FileConnection``
does) instead of left a view of PyAV's converted frame (both copy PyAV's view, as in session 21);
``lazy+skip+pyav-views`` is ``lazy+skip`` with PyAV's views as before session 22 (:data:`PYAV_VIEWS`;
today's PyAV connections convert into arrays of their own, :mod:`facesel.sources.own_bgr`), and
``pyav-views`` is ``base`` so (file cameras then copy PyAV's view, as before session 22); ``backend-opencv`` sets
``backend = "opencv"`` (stream cameras, ``--rtsp``, read by ``cv2.VideoCapture``; no effect on files); ``old`` turns ``convert_on_take`` and
``skip_when_behind`` off, ``lazy`` / ``skip`` / ``lazy+skip`` on (file cameras then decode with
PyAV); ``threads1`` runs each camera's pipeline in one thread (no stage threads: fewer hand-offs
between threads); ``switch1ms`` sets the GIL's switch interval to 1 ms; ``lazy+skip+noref`` /
``lazy+skip+exact`` add ``skip_loop_filter = "noref"`` / ``"none"`` (H.264's deblocking filter
skipped on non-reference frames, or exact decoding), both decoded by PyAV; ``pyregions`` is
``base`` with the region search's work around YuNet in Python (``YuNetDetector.region_search =
"python"``, :data:`PYTHON_REGIONS`), as before issue 27's session 11 moved it into the C++ core;
``pick0`` / ``lazy+skip+pick0`` turn the consensus pick off (``consensus_finalists = 0``, the pick
by score, serve's default: :data:`facesel.serve.config.SERVE_PIPELINE_DEFAULTS`) and
``lazy+skip+consensus`` on (``consensus_finalists = 32``, the Selector's default);
``lazy+skip+consensus-reference`` the same by session 11's code (``consensus_impl = "reference"``:
face by face, the same picks; session 12 made the default cheaper); ``lazy+skip+s11``
is ``lazy+skip`` as before issue 27's session 12 (closed tracks sealed on the pipeline's thread,
``seal_in_background = false`` and every camera's full detections on the same frame numbers,
``stagger_detection = false``), ``lazy+skip+syncseal`` / ``lazy+skip+nostagger`` turn off one of
them, and ``lazy+skip+flushbuf`` lets the source queue 12 frames while the tracks close at a break
(``flush_buffer_frames = 12``; off by default); ``lazy+skip+miss1`` / ``miss2`` / ``miss3`` leave out the
region square of a track missed on its last 1 / 2 / 3 frames (``region_miss_limit``; off by default),
``lazy+skip+scale2`` searches squares of 2 face sides instead of 2.5 (``region_scale = 2``), and
``lazy+skip+oldgov`` is ``lazy+skip`` with the load governor as before session 12 (``refine_backoff =
1``: a finer schedule tried again after every 75 calm frames, however often the load undid it);
``lazy+skip+notiergov`` is ``lazy+skip`` with the governor as before session 13 (``coarsen_with_tiers =
false``: its first step doubles ``detect_every`` instead of turning two-tier detection on);
``lazy+skip+s13squares`` is ``lazy+skip`` with region squares and the scene thumbnail made as before
session 14 (:data:`S13_SQUARES`: the same pixels, more CPU); ``lazy+skip+capbuf8`` / ``capbuf16`` are ``lazy+skip`` with
``cap_buffer_frames = 8`` / ``16`` (the source queues that many frames while the governor is at its cap);
``lazy+skip+settle`` turns the governor's ``settle_coarsening`` on (no further coarser step while the
last one's backlog drains), ``lazy+skip+buf8`` sets ``buffer_frames = 8`` (the queue, and the span the
governor judges waits against, at every schedule), ``lazy+skip+buf8+settle`` both (session 16); ``lazy+skip+s16shrink`` is ``lazy+skip`` with whole frames
and region squares area-shrunk as in session 16 (:data:`S16_SHRINK`: the same pixels, more CPU; ``lazy+skip``
itself shrinks by the C++ core's integer average where the ratio allows, session 17); ``lazy+skip+s17squares``
is ``lazy+skip`` with fractional region squares shrunk as in session 17 (:data:`S17_SQUARES`; session 18 moved
them into the core's float32 area path, the same pixels)."""

OPENCV_FILES = {"opencvfile"}
"""Variants whose plain file cameras read with ``cv2.VideoCapture`` (:mod:`opencv_file_reader`), as
serve's did before session 20, instead of FFmpeg through PyAV."""

PYAV_VIEWS = {"lazy+skip+pyav-views", "pyav-views"}
"""Variants whose PyAV connections convert through PyAV's ``to_ndarray`` (a view of PyAV's frame), as
before session 22, not into an array of their own (:mod:`facesel.sources.own_bgr`)."""

OWNING_COPIES = {"lazy+skip+copy", "skip+copy"}
"""Variants whose PyAV connections hand out each BGR frame as an array of its own (``np.array`` of
PyAV's ``to_ndarray``, :func:`owning_copies`), as ``file_frames`` does, not a view of PyAV's frame."""

PYTHON_REGIONS = {"pyregions"}
"""Variants whose region search runs its work around YuNet in Python (the reference path)."""

S13_SQUARES = {"lazy+skip+s13squares"}
"""Variants that cut region squares and sample the scene thumbnail as before session 14 (the same
pixels, more CPU: ``facesel.detect.schedule.AREA_PATH = "uint8"`` and numpy's strided copy)."""

S17_SQUARES = {"lazy+skip+s17squares"}
"""Variants that shrink fractional region squares as in session 17 (numpy's float32 copy, then
OpenCV), not by the core's float32 area path (``AREA_PATH = "exact+numpy"``: the same pixels)."""

S16_SHRINK = {"lazy+skip+s16shrink"}
"""Variants that shrink whole frames (OpenCV) and region squares (through float32) as in session 16,
not by the core's integer average (``facesel.detect.schedule.AREA_PATH = "float"``: the same pixels)."""


def _schedule_key(level: tuple[int, bool]) -> str:
    """A governor schedule ``(detect_every, two tiers on)`` as a key of ``at_every``: "8", "8+tiers"."""
    return f"{level[0]}+tiers" if level[1] else str(level[0])


def owning_copies() -> None:
    """Make this process's PyAV connections (files and streams) copy each BGR frame into an array of
    its own, converted as decoded or when taken (``convert_on_take``): the same pixels. Not with
    ``shrink_in_decoder`` (a copy would lose the frame's remembered picture)."""
    from facesel.sources import backends, decoded

    image, convert = backends._image, decoded.Unconverted.convert
    backends._image = lambda picture, keep, on_take: _own(image(picture, keep, on_take))
    decoded.Unconverted.convert = lambda self: _own(convert(self))


def _own(frame):
    """``frame`` itself when it is no plain array (an Unconverted, a frame keeping its picture),
    else a C-ordered copy that owns its memory."""
    import numpy as np

    return np.array(frame, order="C") if type(frame) is np.ndarray else frame


def _rss_mib(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of another process, e.g. the RTSP server; 0 without one."""
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def extra_settings(pairs: list[str]) -> dict:
    """``KEY=VALUE`` pairs as settings, each value of its PipelineConfig field's type."""
    import dataclasses

    from facesel.config import PipelineConfig

    kinds = {f.name: type(f.default) for f in dataclasses.fields(PipelineConfig)}
    settings = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key not in kinds:
            raise SystemExit(f"--set: no pipeline setting {key!r}")
        settings[key] = kinds[key](value) if kinds[key] is not bool else value.lower() in ("1", "true", "yes")
    return settings


def make_config(work: Path, videos: list[Path], cameras: int, settings: dict, coarsen: bool, url: str | None = None,
                shrink_in_decoder: bool = False, buffer_frames: int | None = None,
                skip_loop_filter: str | None = None, camera_settings: dict | None = None, paced: bool = True):
    """A checked ServeConfig of ``cameras`` paced, looping, live file cameras, or of ``cameras``
    clients of the RTSP stream ``url`` (keys and authority made here); ``shrink_in_decoder``: the
    one-step shrink of full-frame detections (PyAV decoding); ``buffer_frames``: each camera's
    frame queue (None: serve's default); ``paced=False``: files read as fast as the camera takes
    them, none dropped (``realtime`` and ``live`` off: every frame taken, for costs a frame)."""
    from facesel.serve.config import parse_config
    from facesel.vault import create_authority, enrol_camera

    create_authority(work / "authority", shares=3, threshold=2, epoch_seconds=86400.0, retention_seconds=7 * 86400.0,
                     horizon_seconds=2 * 86400.0, start=time.time())
    shares = sorted((work / "authority" / "shares").iterdir())[:2]
    tables = {}
    for i in range(cameras):
        name = f"cam{i}"
        enrol_camera(work / "authority", work / "keys" / name, name, shares)
        tables[name] = {"vault": str(work / "vaults" / name), "camera_key": str(work / "keys" / name),
                        "coarsen_detection": coarsen, "shrink_in_decoder": shrink_in_decoder,
                        "pipeline": dict(settings)}
        tables[name].update(camera_settings or {})
        if buffer_frames is not None:
            tables[name]["buffer_frames"] = buffer_frames
        if skip_loop_filter is not None:
            tables[name]["skip_loop_filter"] = skip_loop_filter
        if url:
            tables[name]["source"] = url
        else:
            tables[name].update(source=str(videos[i % len(videos)]), loop=True, realtime=paced, live=paced)
    data = {"serve": {"listen": "", "log_level": "warning"},
            "defaults": {"authority": str(work / "authority" / "authority.pub")}, "cameras": tables}
    return parse_config(data, base=work)


def _counters(cameras) -> dict:
    return {cam.config.name: {"received": cam.source.stats.frames_received if cam.source else 0,
                              "dropped": cam.source.stats.frames_dropped if cam.source else 0,
                              "processed": cam.processed} for cam in cameras}


def run_one(cameras: int, videos: list[Path], seconds: float, warmup: float, settings: dict, coarsen: bool,
            url: str | None = None, server_pid: int | None = None, shrink_in_decoder: bool = False,
            buffer_frames: int | None = None, skip_loop_filter: str | None = None, threads: bool = False,
            variant: str = "base") -> dict:
    """Run ``cameras`` cameras in this process; the measured figures (with ``threads``: also the
    cores of each thread role and the GIL probe's lateness, :mod:`thread_cpu`)."""
    import numpy as np
    from facesel.serve.service import Service

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import thread_cpu

    camera_settings, switch_interval, pipeline_settings = VARIANTS[variant]
    settings = {**settings, **pipeline_settings}
    from facesel.detect.yunet import YuNetDetector

    YuNetDetector.region_search = "python" if variant in PYTHON_REGIONS else "core"
    if variant in S13_SQUARES:
        from facesel.detect import schedule

        schedule.AREA_PATH = "uint8"
        schedule.sampled = lambda frame, step: np.ascontiguousarray(frame[::step, ::step])
    if variant in S16_SHRINK:
        from facesel.detect import schedule

        schedule.AREA_PATH = "float"
    if variant in S17_SQUARES:
        from facesel.detect import schedule

        schedule.AREA_PATH = "exact+numpy"
    if variant in OWNING_COPIES:
        owning_copies()
    if variant in PYAV_VIEWS | OWNING_COPIES:  # the copies are made of PyAV's views, as in session 21
        from facesel.sources import own_bgr

        own_bgr.enabled = False
    if variant in OPENCV_FILES:
        import opencv_file_reader

        opencv_file_reader.use_for_file_cameras()
    if switch_interval is not None:
        sys.setswitchinterval(switch_interval)

    rss_before = _rss_mib()
    with tempfile.TemporaryDirectory(prefix="facesel-capacity-") as folder:
        config = make_config(Path(folder), videos, cameras, settings, coarsen, url, shrink_in_decoder, buffer_frames,
                             skip_loop_filter, camera_settings)
        service = Service(config).start()
        try:
            time.sleep(warmup)
            cams = service.camera_list()
            probe = thread_cpu.GILProbe().start() if threads else None
            outside = thread_cpu.outside_probe(seconds) if threads else None
            sampler = thread_cpu.ThreadSampler().start() if threads else None
            first, cpu0, t0 = _counters(cams), _cpu_seconds(), time.monotonic()
            governed0 = {cam.config.name: cam.governor.observed for cam in cams if cam.governor}
            server0 = _process_cpu(server_pid)
            time.sleep(seconds)
            last, cpu1, t1 = _counters(cams), _cpu_seconds(), time.monotonic()
            by_role = sampler.stop() if threads else None
            gil = probe.stop() if threads else None
            if threads:
                gil["outside_process"] = json.loads(outside.communicate(timeout=60)[0])
            server1 = _process_cpu(server_pid)
            latencies = []
            for cam in cams:
                recent = list(cam.latencies)
                taken = cam.processed - first[cam.config.name]["processed"]
                latencies += recent[-taken:] if taken > 0 else []
            schedule = {cam.config.name: cam.adapter.selector.schedule.every if cam.adapter else None for cam in cams}
            # two-tier detection: on now per camera, and the full-frame detections of each tier (whole run)
            tiers = {cam.config.name: bool(cam.adapter.selector.detect_stage.coarse_side) if cam.adapter else None
                     for cam in cams}
            tier_work = {kind: sum(int(cam.counters().get(f"work:{kind}", 0)) for cam in cams)
                         for kind in ("full_fine", "full_coarse")}
            coarsened = sum(cam.governor.coarsened for cam in cams if cam.governor)
            # the governor's steps inside the measured window (its change log: observed frames at each)
            # and the frames the pipeline took at each detect_every (where the schedule settled)
            steps, at_every = {"coarsened": 0, "refined": 0}, {}
            # the window's drops by the stretch of one schedule they fell in (session 16): drops are
            # read off the change log (the source's drop count at each step; a drop forces a step at
            # the next frame taken), by that stretch's schedule and by the step that began it
            drops_at, drops_after = {}, {"refined": 0, "coarsened": 0, "none in the window": 0,
                                         "refined, undone within 150 frames": 0}
            for cam in cams:
                if cam.governor is not None:
                    start = governed0.get(cam.config.name, 0)
                    log = [c for c in cam.governor.changes if c[0] > start]
                    before = [c for c in cam.governor.changes if c[0] <= start]
                    # a schedule is (detect_every, two tiers on by the governor): "8" or "8+tiers"
                    previous = (before[-1][2], before[-1][6]) if before else (cam.governor.base, False)
                    dropped_then, began = first[cam.config.name]["dropped"], "none in the window"
                    for change in log:
                        kind = "refined" if (change[2], change[6]) < previous else "coarsened"
                        steps[kind] += 1
                        key = _schedule_key(previous)
                        at_every[key] = at_every.get(key, 0) + change[0] - start
                        n = max(0, change[3] - dropped_then)
                        drops_at[key] = drops_at.get(key, 0) + n
                        drops_after[began] += n
                        if began == "refined" and kind == "coarsened" and change[0] - start <= 150:
                            drops_after["refined, undone within 150 frames"] += n
                        previous, start, dropped_then, began = (change[2], change[6]), change[0], max(dropped_then, change[3]), kind
                    key = _schedule_key(previous)
                    at_every[key] = at_every.get(key, 0) + cam.governor.observed - start
                    n = max(0, last[cam.config.name]["dropped"] - dropped_then)
                    drops_at[key] = drops_at.get(key, 0) + n
                    drops_after[began] += n
            undone = sum(cam.governor.undone for cam in cams if cam.governor)
            buffers = sorted({cam.config.buffer_frames for cam in cams})
            skipping = sorted({cam.config.skip_loop_filter for cam in cams})
            sealed = sum(cam.sealed for cam in cams)
            skipped = sum(int(cam.counters().get("frames_skipped", 0)) for cam in cams)
            # frames a paced camera sent in the window: a reader that cannot decode in real time
            # falls behind its pacer and receives fewer, which no drop count shows
            due = sum((cam.source.stats.fps or 0.0) * (t1 - t0) for cam in cams if cam.source)
            # which reader each camera's source opens (the variants that swap it say so here)
            readers = sorted({getattr(cam.source._connect, "func", cam.source._connect).__name__
                              for cam in cams if cam.source})
            models = {"detectors_built": service.models.detectors_built, "scorers_built": service.models.scorers_built}
        finally:
            late = service.stop(timeout=60)
        rss, peak = _rss_mib(), _rss_mib("VmHWM")
    elapsed = t1 - t0
    delta = {key: sum(last[c][key] - first[c][key] for c in last) for key in ("received", "processed", "dropped")}
    lat = np.asarray(latencies, float)
    return {
        "cameras": cameras, "variant": variant, "seconds": round(elapsed, 2), "scorer": settings.get("scorer", "default"),
        "settings": {key: value for key, value in settings.items() if key != "scorer"},
        "shrink_in_decoder": shrink_in_decoder, "skip_loop_filter": skipping[0] if len(skipping) == 1 else skipping,
        "buffer_frames": buffers[0] if len(buffers) == 1 else buffers,
        "videos": [v.name for v in videos],
        "received": delta["received"], "processed": delta["processed"], "dropped": delta["dropped"],
        "skipped_by_decoder_total": skipped,
        "received_of_due": round(delta["received"] / due, 3) if due else None,
        "drop_fraction": round(delta["dropped"] / delta["received"], 4) if delta["received"] else None,
        "received_fps_per_camera": round(delta["received"] / elapsed / cameras, 2),
        "processed_fps_per_camera": round(delta["processed"] / elapsed / cameras, 2),
        "cpu_per_camera": round((cpu1 - cpu0) / elapsed / cameras, 3),
        "cpu_total": round((cpu1 - cpu0) / elapsed, 3),
        # CPU per processed frame depends less on what else runs on the machine than the drops
        # do (an upper bound: the dropped frames' decoding is in it too), so a loaded machine still
        # bounds what a quiet one could hold.
        "cpu_ms_per_processed_frame": round(1000 * (cpu1 - cpu0) / delta["processed"], 2) if delta["processed"] else None,
        "rtsp_server_cpu": round((server1 - server0) / elapsed, 3) if server_pid else None,
        "latency_p50_ms": round(float(np.percentile(lat, 50)) * 1000, 1) if lat.size else None,
        "latency_p99_ms": round(float(np.percentile(lat, 99)) * 1000, 1) if lat.size else None,
        "rss_mib": round(rss, 1), "peak_rss_mib": round(peak, 1), "rss_before_mib": round(rss_before, 1),
        "detect_every": schedule, "two_tiers": tiers, **tier_work, "schedule_coarsened": coarsened,
        "schedule_steps_in_window": steps,
        "frames_at_detect_every": {str(k): v for k, v in sorted(at_every.items())}, "refinements_undone_total": undone,
        "drops_at_detect_every": {k: v for k, v in sorted(drops_at.items()) if v},
        "drops_after_step": drops_after, "readers": readers, "sealed": sealed, "late_at_stop": late, **models,
        **({"threads": by_role, "gil_probe": gil,
            # decoding (and converting) CPU a frame received, dropped ones included: what a dropped frame costs
            "source_cpu_ms_per_received_frame": round(1000 * by_role.get("source", {}).get("cores", 0.0) * elapsed
                                                      / max(1, delta["received"]), 2)} if threads else {}),
    }


def _plot(rows: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(6.5, 7.5), sharex=True)
    # one line per (scorer, buffer) and, in an A/B run (--variant), per variant: the variants of one N
    # are alternated rows, and joining them into one line would draw a zigzag between settings
    groups = list(dict.fromkeys((*_group(r), r.get("variant")) for r in rows))
    for scorer, buffer, variant in groups:
        mine = [r for r in rows if (*_group(r), r.get("variant")) == (scorer, buffer, variant)]
        n = [r["cameras"] for r in mine]
        label = f"scorer {scorer}, buffer {buffer}" + (f", {variant}" if variant is not None else "")
        axes[0].plot(n, [100 * (r["drop_fraction"] or 0) for r in mine], "o-", label=label)
        axes[1].plot(n, [r["cpu_total"] for r in mine], "o-", label=f"whole process, {label}")
        axes[1].plot(n, [r["cpu_per_camera"] for r in mine], "s--", label=f"per camera, {label}")
        axes[2].plot(n, [r["rss_mib"] for r in mine], "o-", label=label)
    axes[0].set_ylabel("frames dropped (%)")
    axes[0].legend(loc="upper left", fontsize=8)
    axes[1].set_ylabel("CPU (cores)")
    axes[1].legend(loc="upper left", fontsize=7)
    axes[2].set_ylabel("resident memory (MiB)")
    axes[2].set_xlabel("cameras")
    axes[2].set_xticks(sorted({r["cameras"] for r in rows}))
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _group(row: dict) -> tuple[str, int]:
    """(scorer, buffer_frames) of a row: one line of the plot, one summary line (rows written
    before the buffer existed had a one-frame slot)."""
    buffer = row.get("buffer_frames", 1)
    return row.get("scorer", "default"), str(buffer) if isinstance(buffer, list) else buffer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--seconds", type=float, default=60.0, help="steady-state seconds measured per N")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds run before measuring")
    parser.add_argument("--video", nargs="+", default=["arcade_walkers_1080p.mp4"],
                        help="videos under the shared data's videos/, or absolute paths (e.g. a 720p transcode in "
                             "/tmp); cameras take them in turn")
    parser.add_argument("--scorer", nargs="+", default=["default"], choices=("default", "context", "laplacian"),
                        help="the cameras' scorer setting, each run in turn (context: the pick rule without the VAE pass)")
    parser.add_argument("--shrink-in-decoder", action="store_true",
                        help="the cameras' shrink_in_decoder setting: decode with PyAV and shrink full-frame "
                             "detections' frames in one step from YUV")
    parser.add_argument("--skip-loop-filter", default=None,
                        help="the cameras' skip_loop_filter (none, noref, bidir, nokey, all; default: serve's)")
    parser.add_argument("--height", type=int, default=None,
                        help="transcode the videos to this height first (a temporary folder, deleted at the end)")
    parser.add_argument("--continuous", action="store_true",
                        help="make each video a forward-then-backward stream longer than a run first (a temporary "
                             "folder, deleted at the end), so no pass ends with a break inside the run")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="more pipeline settings of every camera (PipelineConfig fields: detect_every=6 "
                             "region_shrink=fast ...)")
    parser.add_argument("--no-coarsen", action="store_true", help="turn the load governor off")
    parser.add_argument("--buffer-frames", type=int, nargs="+", default=[None], metavar="K",
                        help="every camera's buffer_frames (frames queued for the pipeline; 1: a one-frame "
                             "slot), each run in turn (default: serve's default)")
    parser.add_argument("--rtsp", action="store_true",
                        help="cameras read one local RTSP server's stream of the first video (tests/rtsp_server.py, "
                             "GStreamer; its encoding CPU is reported apart) instead of paced files")
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--server-pid", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--threads", action="store_true",
                        help="also report the cores of each thread role and a GIL probe's lateness (thread_cpu.py)")
    parser.add_argument("--variant", nargs="+", default=["base"], choices=tuple(VARIANTS),
                        help="A/B runs: each N is run with each variant in turn (camera settings and GIL switch "
                             "interval: VARIANTS), alternating, --repeats times; the summary gives each variant's "
                             "ratios to the first")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of the variants (alternating)")
    parser.add_argument("--json", default=None, help="write the rows here (JSON lines)")
    parser.add_argument("--plot", default=None, help="write the plot here (PNG)")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    from facesel.data import data_root_or_exit

    root = data_root_or_exit()
    videos = [Path(name) if Path(name).is_absolute() else root / "videos" / name for name in args.video]
    settings = {"scorer": args.scorer[0], **extra_settings(args.set)}
    if args.one is not None:
        print(json.dumps(run_one(args.one, videos, args.seconds, args.warmup, settings, not args.no_coarsen, args.url,
                                 args.server_pid, args.shrink_in_decoder, args.buffer_frames[0],
                                 args.skip_loop_filter, args.threads, args.variant[0])), flush=True)
        return 0
    with tempfile.TemporaryDirectory(prefix="facesel-capacity-videos-") as scaled:
        if args.height:
            args.video = [str(_transcode(video, args.height, Path(scaled))) for video in videos]
            videos = [Path(video) for video in args.video]
        if args.continuous:
            args.video = [str(_continuous(video, args.warmup + args.seconds + 5.0, Path(scaled))) for video in videos]
            videos = [Path(video) for video in args.video]
        return _run_all(args, videos)


def _print_ratios(rows: list[dict], variants: list[str]) -> None:
    """Per N, each variant's median processed frames, drop fraction, received share of the frames
    due, CPU (ms a processed frame, cores), latency, memory and with ``--threads`` the sources'
    CPU ms a received frame and the GIL probe's lateness, and its ratio to the first variant's (runs of one invocation, alternated: a loaded machine's
    drift falls on every variant alike)."""
    import statistics

    for n in dict.fromkeys(r["cameras"] for r in rows):
        medians = {}
        for variant in variants:
            mine = [r for r in rows if r["cameras"] == n and r["variant"] == variant]
            keys = ["processed", "drop_fraction", "received_of_due", "cpu_ms_per_processed_frame", "cpu_total",
                    "source_cpu_ms_per_received_frame", "latency_p50_ms", "rss_mib", "full_coarse", "schedule_coarsened"]
            medians[variant] = {key: round(statistics.median(r.get(key) or 0 for r in mine), 3) for key in keys}
            if all("gil_probe" in r for r in mine):
                medians[variant]["gil_late_mean_ms"] = statistics.median(r["gil_probe"]["late_mean_ms"] or 0 for r in mine)
        first = medians[variants[0]]
        for variant in variants:
            m = medians[variant]
            ratio = {key: round(m[key] / first[key], 3) if first[key] else None for key in m}
            print(f"N={n} {variant}: median of {sum(1 for r in rows if r['cameras'] == n and r['variant'] == variant)} "
                  f"runs {m}; ratio to {variants[0]}: {ratio}")


def _transcode(video: Path, height: int, folder: Path) -> Path:
    """``video`` scaled to ``height`` (width to match, even) in ``folder``: H.264 as a camera would send it."""
    out = folder / f"{video.stem}_{height}p.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(video), "-vf", f"scale=-2:{height}:flags=area",
                    "-c:v", "libx264", "-preset", "medium", "-crf", "20", "-pix_fmt", "yuv420p", "-an", str(out)],
                   check=True)
    return out


def _continuous(video: Path, seconds: float, folder: Path) -> Path:
    """``video`` played forwards then backwards, repeated to last at least ``seconds``, in ``folder``.

    The turn points repeat a frame rather than jump, so a tracked face moves on without a break;
    the repeats are stream copies of one encoded forward-backward leg (one key frame each).
    """
    import cv2

    capture = cv2.VideoCapture(str(video))
    rate, frames = capture.get(cv2.CAP_PROP_FPS) or 25.0, capture.get(cv2.CAP_PROP_FRAME_COUNT)
    capture.release()
    if frames <= 1:
        raise SystemExit(f"--continuous: cannot read the frame count of {video}")
    leg = folder / f"{video.stem}_pingpong.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(video), "-filter_complex",
                    "[0:v]split[f][b];[b]reverse[r];[f][r]concat=n=2:v=1[p]", "-map", "[p]",
                    "-c:v", "libx264", "-preset", "medium", "-crf", "20", "-pix_fmt", "yuv420p", "-an", str(leg)],
                   check=True)
    repeats = max(1, int(seconds * rate / (2 * frames)) + 1)
    out = folder / f"{video.stem}_continuous.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", str(repeats - 1), "-i", str(leg), "-c", "copy",
                    str(out)], check=True)
    return out


def _run_all(args, videos: list[Path]) -> int:
    """Every run of the invocation, each N in a process of its own; the summary, JSON and plot."""
    server = None
    if args.rtsp:
        sys.path.insert(0, str(ROOT / "tests"))
        from rtsp_server import RTSPServer, available

        why = available()
        if why:
            print(f"no RTSP server here: {why}", file=sys.stderr)
            return 2
        import cv2

        rate = round(cv2.VideoCapture(str(videos[0])).get(cv2.CAP_PROP_FPS)) or 25
        server = RTSPServer(videos[0], fps=rate).start()
    rows = []
    try:
        runs = [(scorer, buffer, n, variant) for scorer in args.scorer for buffer in args.buffer_frames
                for n in args.cameras for _ in range(args.repeats) for variant in args.variant]
        for scorer, buffer, n, variant in runs:
            command = [sys.executable, __file__, "--one", str(n), "--seconds", str(args.seconds), "--warmup",
                       str(args.warmup), "--scorer", scorer, "--video", *args.video, "--variant", variant]
            command += ["--buffer-frames", str(buffer)] if buffer is not None else []
            command += ["--shrink-in-decoder"] if args.shrink_in_decoder else []
            command += ["--skip-loop-filter", args.skip_loop_filter] if args.skip_loop_filter else []
            command += ["--no-coarsen"] if args.no_coarsen else []
            command += ["--threads"] if args.threads else []
            command += ["--set", *args.set] if args.set else []
            command += ["--url", server.url, "--server-pid", str(server.process.pid)] if server else []
            done = subprocess.run(command, capture_output=True, text=True, env=os.environ)
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return done.returncode
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    finally:
        if server is not None:
            server.stop()
    if len(args.variant) > 1:
        _print_ratios(rows, args.variant)
    for scorer, buffer in dict.fromkeys(_group(r) for r in rows):
        mine = [r for r in rows if _group(r) == (scorer, buffer) and r.get("variant", "base") == args.variant[0]]
        clean = [r["cameras"] for r in mine if r["dropped"] == 0]
        # a camera whose governor coarsened its schedule agrees less with the exhaustive run
        kept = [r["cameras"] for r in mine if r["dropped"] == 0 and not r["schedule_coarsened"]]
        print(f"scorer {scorer}, buffer_frames {buffer}: largest N with no steady-state drop: {max(clean) if clean else 'none'}; "
              f"with no drop and no camera coarsened: {max(kept) if kept else 'none'}")
    for row in rows:
        # Only a run without drops says what a frame costs: a starved process pays for switching
        # and for decoding frames it then drops, and its CPU per processed frame rises.
        if row["cpu_ms_per_processed_frame"] and row["dropped"] == 0:
            cameras = os.cpu_count() * 1000 / (row["cpu_ms_per_processed_frame"] * 25)
            print(f"scorer {row['scorer']}, buffer_frames {_group(row)[1]}, N={row['cameras']}: {row['cpu_ms_per_processed_frame']} CPU ms a processed frame: {os.cpu_count()} "
                  f"idle cores would process every frame of about {cameras:.1f} cameras at 25 frames/s (an estimate "
                  f"from CPU alone, with the schedule this run ended on: {sorted(set(row['detect_every'].values()))})")
    if args.json:
        Path(args.json).write_text("".join(json.dumps(r) + "\n" for r in rows))
    if args.plot:
        names = [Path(v).name for v in args.video]  # a transcode lives in a temporary folder: its name says enough
        source = (f"RTSP stream of {names[0]}" if args.rtsp else
                  f"{', '.join(names)} {'played forwards and backwards (no break)' if args.continuous else 'looping'} "
                  f"at its frame rate")
        _plot(rows, Path(args.plot), f"facesel serve capacity: {source},\n"
                                     f"{args.seconds:.0f} s after {args.warmup:.0f} s warm-up, scorer "
                                     f"{' / '.join(args.scorer)}, "
                                     f"{', one-step shrink' if args.shrink_in_decoder else ''}"
                                     f"{', governor off' if args.no_coarsen else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
