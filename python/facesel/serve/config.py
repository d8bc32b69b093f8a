"""The TOML configuration of ``facesel serve`` (and ``facesel run --config``), checked as a whole.

Example::

    [serve]
    listen = "127.0.0.1:9108"     # /metrics and /healthz; "" turns the HTTP endpoint off
    status_hosts = []             # bound beyond loopback: names scrapers use besides IPs and this machine's name
    log_format = "text"           # or "json": one JSON object per log line
    log_level = "info"
    shutdown_timeout = 15         # seconds allowed for sealing open tracks at SIGTERM

    [defaults]                    # optional: any camera key, applied where a camera has none
    authority = "/etc/facesel/authority.pub"

    [cameras.entrance]
    source = "rtsp://10.0.0.5:554/stream1"   # or http(s)://...mjpg / .m3u8, a webcam index "0", a file
    # for a file: loop = true (start again at its end), realtime = true (the default for files:
    # frames at the file's frame rate; false reads as fast as the pipeline takes them)
    vault = "/var/lib/facesel/entrance"
    camera_key = "/etc/facesel/cameras/entrance"   # the camera's signing key (facesel camera init)
    camera_id = "entrance"        # optional: checked against the key's id (default: the key's id)
    coarsen_detection = true      # sparse mode: detect less often while the camera cannot keep up
    coarsen_with_tiers = true     # ... the first step: two-tier full-frame detection (640 px, 1 in fine_every fine)
    max_detect_every = 16         # ... down to one full-frame detection in this many frames
    refine_backoff = 2            # ... a finer step undone at once makes the next wait this times longer; 1: fixed
    settle_coarsening = false     # ... after a coarser step, no further one while the backlog drains (only if it grows)
    buffer_frames = 4             # frames waiting for the pipeline; a full buffer drops its oldest
    flush_buffer_frames = 0       # ... while the open tracks close after a break (reconnection, loop); 0: as buffer_frames
    cap_buffer_frames = 0         # ... while the load governor is at its cap (max_detect_every); 0: as buffer_frames
    skip_loop_filter = "none"     # H.264 frames decoded without deblocking: none (exact), noref, bidir, nokey, all
    max_frame_pixels = 33177600   # a larger frame is refused before it is decoded (default: 8K UHD, 7680 x 4320)
    convert_on_take = true        # frames wait decoded, converted to BGR when the pipeline takes one (default: on for PyAV streams)
    skip_when_behind = true       # while behind, the decoder skips non-reference frames, counted (default: as convert_on_take)
    seal_in_background = true     # closed tracks are sealed by a writer thread, off the frame path
    held_max_bytes = 67108864     # closed tracks whose seal failed, kept in memory for a retry: bytes at most
    stagger_detection = true      # cameras take turns for their full-frame detections (phases spread)
    [cameras.entrance.pipeline]   # facesel.config.PipelineConfig's fields (as facesel run's flags) + scorer
    detector = "yunet"
    min_hits = 3

Every error names the camera and the key (``cameras.entrance.vault: ...``). Relative paths are
taken from the config file's folder. Each camera's key is read at start (and at a reload) and
must belong to ``camera_id`` when one is given; two cameras may not share a key or an id.
"""

from __future__ import annotations

import math
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from facesel.serve.held_results import HELD_MAX_BYTES, check_held_max_bytes
from facesel.serve.pipeline_adapter import SETTING_NAMES, check_pipeline_settings
from facesel.serve.source_file import check_source_file
from facesel.serve.suggest import check_known_keys
from facesel.redaction import redact_url, remember_url_secrets
from facesel.trusted_files import refuse_changeable_by_others
from facesel.writable import refuse_unwritable_folder
from facesel.sources import BACKENDS, check_webcam_index, is_live_target
from facesel.sources.backends import check_skip_loop_filter
from facesel.sources.frame_limit import MAX_FRAME_PIXELS, check_max_frame_pixels
from facesel.sources.stream import check_at_most_buffer, check_buffer_frames

# The governor's coarsest schedule may be at most this many frames between full-frame detections:
# 256 frames are over 10 s at 25 frames/s, far longer than a person takes to walk past a camera, so a
# larger cap could only miss faces; it is there to refuse a typo (16 by default, 32 in the tests).
MAX_DETECT_EVERY = 256
# Upper bounds of the seconds keys, there to refuse a unit slip (milliseconds typed as seconds, 1e9):
# a camera silent, stalled or unopened for 10 minutes is down, and a larger timeout would only hide it
# from /healthz for that long; SIGTERM waiting 10 minutes outlasts any service manager's stop timeout;
# an hour between reconnection tries is already a camera nobody watches.
MAX_TIMEOUT_SECONDS = 600.0
MAX_RECONNECT_DELAY_SECONDS = 3600.0

SERVE_KEYS = {"listen", "status_hosts", "log_format", "log_level", "shutdown_timeout", "view", "mqtt", "webhook"}
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")


@dataclass(frozen=True)
class CameraConfig:
    """One camera. Two configs compare equal when nothing about the camera changed (reload)."""

    name: str
    source: str
    vault: Path
    authority: Path
    camera_key: Path
    """Folder (or ``camera.key`` file) of the camera's signing key."""
    camera_id: str
    """The key's camera id."""
    loop: bool = False
    realtime: bool = False
    """Files: hand frames over at the file's frame rate (default true for files, as a camera would)."""
    live: bool | None = None
    backend: str = "pyav"
    open_timeout: float = 10.0
    read_timeout: float = 5.0
    stall_timeout: float = 10.0
    reconnect_max_delay: float = 30.0
    shrink_in_decoder: bool = False
    """Decode with PyAV and shrink full-frame detections' frames in one step from the decoded YUV
    picture (:mod:`facesel.sources.decoded`; about 7 CPU ms less a detected 1080p frame). Off by
    default: on the arcade video the sparse default then matched 11 of the exhaustive run's 12
    tracks instead of 12 (``benchmarks/decode_agreement.py``, docs/performance.md)."""
    skip_loop_filter: str = "none"
    """Frames that FFmpeg decodes without H.264's deblocking filter
    (:data:`facesel.sources.backends.SKIP_LOOP_FILTER`; files are then decoded by PyAV, streams
    with ``backend = "pyav"``; webcams and ``backend = "opencv"`` decode exactly). ``"noref"``
    skips it on frames no other frame is predicted from: 8-11 % less decoding CPU on the arcade
    video, and on six shared videos the same results and agreement with the exhaustive run
    (``benchmarks/decoder_option_agreement.py``). Not the default: a file camera is then decoded
    by ``PyAVFileConnection``, whose frames held about 40 MiB more per camera in ``benchmarks/capacity.py``
    (docs/performance.md, "Decoder options"). ``"none"``: exact decoding."""
    max_frame_pixels: int = MAX_FRAME_PIXELS
    """The largest frame the camera's source decodes (:mod:`facesel.sources.frame_limit`): whoever
    answers for its URL decides the frame size, and a 3 MB JPEG decodes to 768 MB (review round 8,
    finding 2). FFmpeg refuses a larger picture before allocating it (PyAV; OpenCV once decoded),
    and also one far larger than the size the stream states (files, ``backend = "pyav"``: review
    round 11, :mod:`facesel.sources.bounded_decoder`); the source reconnects (a file camera that
    does not loop ends), and the camera's reason says why. ``backend = "opencv"`` is bounded at
    its first frame only. Default an 8K UHD frame."""
    convert_on_take: bool | None = None
    """Frames wait in the camera's queue as decoded pictures and are converted to BGR only when the
    pipeline takes them (:class:`facesel.sources.decoded.Unconverted`): a dropped frame is never
    converted; the frames that are taken have the same pixels. Files are then decoded by PyAV (the
    same pixels as OpenCV's), streams with ``backend = "pyav"``. Not given: on for a camera that
    decodes with PyAV anyway (an RTSP/HTTP stream with the default backend; a file with
    ``shrink_in_decoder`` or a ``skip_loop_filter``), off for the others (a file camera decoded by
    ``PyAVFileConnection`` held about 100 MiB more an extra 1080p camera than the plain file
    camera, OpenCV's then and ``file_frames``' bounded PyAV decoder since review round 11:
    docs/performance.md, "Where the two cores went"). Parsed configs always hold true or false."""
    skip_when_behind: bool | None = None
    """While the camera is behind (its last frame pushed a waiting one out of the full queue), the
    decoder skips non-reference frames (:mod:`facesel.sources.packet_decoder`), counted as
    dropped (and in ``facesel_frames_skipped_total``); off again as soon as the queue has room, so
    a camera that keeps up decodes every frame. A stream of I and P frames only has nothing to
    skip. Where it applies and its default: as ``convert_on_take``'s. With both: about 40 % less
    decoding CPU a received frame at four to eight 720p cameras (docs/performance.md)."""
    seal_in_background: bool = True
    """Closed tracks are sealed into the vault by a writer thread of the camera's own
    (:class:`facesel.serve.sealer.BackgroundSealer`), in order, while the pipeline goes on; false
    seals them on the pipeline's thread as before session 12. Every track open when a stream breaks
    (a reconnection, each pass of a looping file) closes at once, and sealing them held the pipeline
    long enough to drop frames (docs/performance.md, "Session 12")."""
    held_max_bytes: int = HELD_MAX_BYTES
    """Bytes of closed tracks whose seal failed that the camera keeps in memory for the next try
    (:mod:`facesel.serve.held_results`: the crops', clips' and per-frame arrays' ``nbytes``), besides
    at most ``Camera.HELD_LIMIT`` (128) of them; beyond either bound the oldest is lost and counted.
    Default 64 MiB; from 1 MiB to 64 GiB."""
    stagger_detection: bool = True
    """Sparse mode: the cameras of one service spread their full-frame detections over the
    schedule's frames (camera i of n first detects whole ``round(i * detect_every / n)`` frames
    after its first frame: :meth:`facesel.detect.schedule.DetectionSchedule.set_phase`) instead of
    all on the same frame numbers; false: every camera's schedule starts on its first frame."""
    coarsen_detection: bool = True
    """Sparse mode: detect on the full frame less often while the camera cannot keep up (before it drops)."""
    coarsen_with_tiers: bool = True
    """With ``coarsen_detection``: the governor's first step under load turns two-tier full-frame
    detection on (most full-frame detections on the frame shrunk to 640 pixels, one in the pipeline's
    ``fine_every`` at ``max_side``: :mod:`facesel.detect.stage`) before it doubles ``detect_every``,
    and its last step back turns it off. At 720p it cost about the CPU of ``detect_every`` 8 and
    agreed better with the exhaustive mode (docs/performance.md, "Session 13"). No effect where the
    pipeline has ``coarse_max_side`` on already (two tiers always) or ``max_side`` at most 640.
    False: ``detect_every`` steps only, as before session 13."""
    max_detect_every: int = 16
    """The coarsest schedule ``coarsen_detection`` may reach (frames between full detections)."""
    refine_backoff: int = 2
    """The load governor's caution after a failed refinement (:class:`facesel.serve.scheduler.ScheduleGovernor`):
    a finer schedule undone by a coarsening within 150 frames multiplies the frames of slack needed
    before the next refinement to it by this (75 at first, at most 1200); one that holds resets them
    to 75. 1: always 75, the rule before session 12, which oscillated where the load fits only a
    coarser schedule (docs/performance.md, "The governor's oscillation" in the Session 12 section)."""
    settle_coarsening: bool = False
    """The load governor's next coarser step after one (:class:`facesel.serve.scheduler.ScheduleGovernor`):
    true: only once the smoothed wait passes the backlog of that step (the queue grows although the
    schedule is coarser) or on a drop; a wait that falls is the old schedule's backlog draining. False
    (the default, the rule before session 16): another step as soon as 4 frames have passed and the
    wait is still over half the queue, so one burst's backlog climbs to ``max_detect_every``. On a
    model of four 1080p cameras fed by measured costs near the budget it took a quarter to a third
    fewer steps and kept the cameras off the cap, with the same drops and the same agreement with the
    exhaustive run (docs/performance.md, "Session 16")."""
    buffer_frames: int = 4
    """Frames the source queues for the pipeline (:class:`facesel.sources.StreamSource`): a burst of
    work shorter than this many frame intervals drops no frame; a live camera's full queue drops its
    oldest frame. 4 bounds the added latency to 0.16 s at 25 frames/s and the queue to 4 decoded
    frames (about 25 MB at 1080p), filled only while the pipeline is behind: 8 cost about 70 MiB
    more resident memory per extra 1080p camera in tests/test_serve_capacity.py's memory run,
    4 no more than the noise (docs/serve.md). 1 is a one-frame slot."""
    flush_buffer_frames: int = 0
    """Frames the source may queue while the pipeline closes every open track after a break in the
    stream (a reconnection, each pass of a looping file; :func:`facesel.serve.pipeline_adapter.views_by_segment`),
    back to ``buffer_frames`` once the queue is under it again or this many frames later; the load
    governor measures waits against the wider queue meanwhile. 0 (or any value ``<= buffer_frames``,
    the default): never widened. The flush judges and seals all those tracks at once and held the
    pipeline for more than ``buffer_frames`` frame intervals (docs/performance.md, "Session 12"); a
    wider queue lets the new epoch's frames wait instead of being dropped, but the process keeps the
    extra decoded frames' memory: 12 cost about 70 MiB more a 1080p camera in
    tests/test_serve_capacity.py's memory run (215 against 145 MiB an extra camera), so it is off
    unless asked for."""
    cap_buffer_frames: int = 0
    """Frames the source may queue while the load governor holds the camera at its coarsest schedule
    (``max_detect_every``, two tiers on where the governor uses them): a deeper jitter buffer only
    where the governor has no coarser step left, so that bursts of work (several cameras' busy frames
    at once) wait instead of being dropped. Back to ``buffer_frames`` once the governor has stepped
    finer and fewer than ``buffer_frames`` frames wait (narrowing then drops nothing). The governor
    keeps judging the load against ``buffer_frames`` intervals, so its steps are as without this.
    Latency rises by up to this many frame intervals at the cap (0.64 s for 16 at 25 frames/s); a
    track's snapshot is chosen when the track closes, seconds later, so that delay moves no choice.
    It absorbs bursts only: a camera whose mean CPU a frame exceeds its share of the cores drops
    anyway (docs/performance.md, "Session 15"). 0 (or any value ``<= buffer_frames``, the default):
    never deepened. Memory: up to this many decoded frames a camera at the cap, about 3 MB each at
    1080p waiting as YUV (``convert_on_take``), 6 MB as BGR: four 1080p cameras at 16 may hold
    200-400 MB more, against the 1.2 GB budget of issue 27."""
    enabled: bool = True
    pipeline: tuple = ()
    """Sorted ``(key, value)`` pairs of the checked pipeline settings (hashable, comparable)."""
    zones: tuple = ()
    """:class:`facesel.serve.zones.Zone` s: where faces are ignored or the only places they count."""
    retention_seconds: float | None = None
    """This camera's own retention, shorter than the authority's (None: the authority's)."""
    retention_reason: str = ""

    @property
    def settings(self) -> dict:
        """The checked pipeline settings as a dict (``PipelineConfig`` field -> value)."""
        return dict(self.pipeline)


@dataclass(frozen=True)
class ServeConfig:
    """A checked ``facesel serve`` config file (:func:`load_config`): the ``[serve]`` table's settings
    and one :class:`CameraConfig` per enabled or disabled camera.

    Attributes
    ----------
    cameras : dict
        Camera name -> :class:`CameraConfig`.
    listen : (str, int) or None
        Host and port of the status endpoint (``/metrics``, ``/healthz``); None: no endpoint.
    log_format : str
        ``"text"`` or ``"json"`` (one JSON object a log line).
    log_level : str
        The logging level's name (``"info"`` by default).
    shutdown_timeout : float
        Seconds the cameras get to seal their open tracks at SIGTERM.
    path : Path or None
        The file it was read from.
    """
    cameras: dict = field(default_factory=dict)
    listen: tuple[str, int] | None = ("127.0.0.1", 9108)
    log_format: str = "text"
    log_level: str = "info"
    shutdown_timeout: float = 15.0
    path: Path | None = None
    view: bool = False
    """Serve the privacy-safe view (``/cameras/NAME/view.jpg``, ``/view.mjpg``); off by default."""
    mqtt: tuple = ()
    """Sorted ``(key, value)`` pairs of ``[serve.mqtt]`` (:mod:`facesel.serve.events`); () for none."""
    webhook: tuple = ()
    """Sorted ``(key, value)`` pairs of ``[serve.webhook]``; () for none."""
    status_hosts: tuple = ()
    """Host names (lower case) under which clients reach the status port besides its IP addresses and
    this machine's own names (:func:`facesel.serve.status_http.browser_refusal`); () for none."""


CAMERA_KEYS = {
    "source", "vault", "authority", "camera_key", "camera_id", "loop", "realtime", "live", "backend", "open_timeout",
    "read_timeout", "stall_timeout", "reconnect_max_delay", "enabled", "pipeline", "zones", "retention_hours",
    "retention_reason", "coarsen_detection", "max_detect_every", "refine_backoff", "settle_coarsening", "shrink_in_decoder", "buffer_frames",
    "skip_loop_filter", "convert_on_take", "skip_when_behind", "seal_in_background", "stagger_detection",
    "flush_buffer_frames", "coarsen_with_tiers", "cap_buffer_frames", "max_frame_pixels", "held_max_bytes",
}

PER_CAMERA_ONLY = {"source", "vault", "camera_key", "camera_id", "zones"}
"""Keys a ``[defaults]`` table may not give: what makes one camera itself."""


def load_config(path, running_sources: dict[str, str] | None = None) -> ServeConfig:
    """Read and check a config file. ValueError names the file, the camera and the key.

    ``running_sources`` (a reload: camera name -> the source its running camera reads) excuses a
    video file that cannot be read from the check when the file names the same source for that
    camera: the camera runs already, down and retrying, and says so itself. Without it, one
    camera's deleted file refused every reload as a whole, also one that changed another camera
    (ux20). A new or changed source is checked as at the start.

    A config that holds credentials (a camera URL's password or ``?token=``, a webhook URL, whose
    path is often its secret) must be readable by its owner only, as the key and password files it
    names are: refused otherwise, with the ``chmod`` that fixes it. Any config, and each
    ``authority.pub`` it names, must be changeable by its owner only (:mod:`facesel.trusted_files`):
    whoever changes them decides which key the faces are sealed to.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            refuse_changeable_by_others(path, "config")  # review 9, finding 5: it names the key faces go to
            data = tomllib.load(handle)
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
    except FileNotFoundError:
        raise FileNotFoundError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ValueError(f"config must be a TOML file, not a folder: {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path}: not valid TOML: {err}") from None
    try:
        config = parse_config(data, base=path.parent, path=path, running_sources=running_sources)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    # redaction changes a URL exactly where it holds a user, password or secret query value
    secret = sorted(name for name, camera in config.cameras.items() if redact_url(camera.source) != camera.source)
    for authority in sorted({camera.authority for camera in config.cameras.values()}):
        refuse_changeable_by_others(authority, "authority file")
    if (secret or config.webhook) and mode & 0o077:
        holds = (f"the credentials of camera(s) {', '.join(secret)}" if secret else "") + \
            (" and " if secret and config.webhook else "") + ("the webhook's URL" if config.webhook else "")
        raise ValueError(f"{path} holds {holds}, but other users may read or change it (mode {mode:04o}); only its "
                         f"owner may: chmod 600 {path}")
    return config


def _refuse_pipeline_keys_outside_pipeline(table: dict, where: str, known) -> None:
    """ValueError for a pipeline setting (``min_hits``, ``detector``, ...) written in a camera's or
    the defaults' own table: it belongs in the ``pipeline`` table below it (ux21: "unknown key
    'min_hits'" and a list of the camera's keys did not say where it goes)."""
    for key in table:
        if key not in known and key in SETTING_NAMES:
            raise ValueError(f"{where}: {key!r} is a pipeline setting: put it in the [{where}.pipeline] table")


def parse_config(data: dict, base: Path = Path("."), path: Path | None = None,
                 running_sources: dict[str, str] | None = None) -> ServeConfig:
    """Check a config already read from TOML (see the module docstring; ``running_sources``: :func:`load_config`)."""
    check_known_keys(data, "the top level", ("serve", "defaults", "cameras"))
    serve = _table(data.get("serve", {}), "serve")
    check_known_keys(serve, "serve", SERVE_KEYS)
    defaults = _table(data.get("defaults", {}), "defaults")
    _refuse_pipeline_keys_outside_pipeline(defaults, "defaults", CAMERA_KEYS)
    check_known_keys(defaults, "defaults", CAMERA_KEYS - PER_CAMERA_ONLY)
    cameras = _table(data.get("cameras", {}), "cameras")
    if not cameras:
        raise ValueError("cameras: no camera configured (add a [cameras.NAME] table)")
    running = running_sources or {}
    parsed = {name: _camera(name, _table(table, f"cameras.{name}"), defaults, base, running.get(name))
              for name, table in cameras.items()}
    ids = {}
    for camera in parsed.values():
        if camera.camera_id in ids:
            raise ValueError(f"cameras.{camera.name}.camera_key: camera id {camera.camera_id!r} is also used by "
                             f"camera {ids[camera.camera_id]!r} (each camera needs its own key)")
        ids[camera.camera_id] = camera.name
    vaults = {}
    for camera in parsed.values():
        key = camera.vault.resolve()
        if key in vaults:
            # One writer per vault (it is locked): two cameras on one folder would fight.
            raise ValueError(f"cameras.{camera.name}.vault: {camera.vault} is also the vault of camera {vaults[key]!r}")
        vaults[key] = camera.name
        # What `serve --check` must catch before the service starts: a file where the vault
        # belongs, or a folder the service's user cannot make or write (ux15: both said "OK").
        if camera.vault.exists() and not camera.vault.is_dir():
            raise ValueError(f"cameras.{camera.name}.vault: {camera.vault} is a file, not a folder")
        refuse_unwritable_folder(f"cameras.{camera.name}.vault", camera.vault)
    level = serve.get("log_level", "info")
    if level not in LOG_LEVELS:
        raise ValueError(f"serve.log_level must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    fmt = serve.get("log_format", "text")
    if fmt not in LOG_FORMATS:
        raise ValueError(f"serve.log_format must be one of {', '.join(LOG_FORMATS)}, got {fmt!r}")
    view = serve.get("view", False)
    if not isinstance(view, bool):
        raise ValueError(f"serve.view must be true or false, got {view!r}")
    from facesel.serve.events import check_mqtt, check_webhook

    return ServeConfig(
        cameras=parsed, listen=_listen(serve.get("listen", "127.0.0.1:9108")), log_format=fmt, log_level=level,
        shutdown_timeout=checked_seconds(serve.get("shutdown_timeout", 15.0), "serve.shutdown_timeout",
                                  MAX_TIMEOUT_SECONDS), path=path,
        view=view, mqtt=check_mqtt(serve.get("mqtt"), "serve.mqtt", base),
        webhook=check_webhook(serve.get("webhook"), "serve.webhook"),
        status_hosts=_status_hosts(serve.get("status_hosts", [])),
    )


def _table(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a table, got {type(value).__name__} {value!r}")
    return value


def checked_seconds(value, where: str, at_most: float) -> float:
    """``value`` as float seconds in (0, ``at_most``]; else a ValueError naming ``where`` and the value."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{where} must be a positive number of seconds, got {value!r}")
    if value > at_most:
        raise ValueError(f"{where} must be at most {at_most:g} seconds (a larger value is taken for a typo), "
                         f"got {value!r}")
    return float(value)


_HOST_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


def _status_hosts(value) -> tuple[str, ...]:
    """``serve.status_hosts``: a list of DNS names (without port), lower-cased; ValueError naming the key and value."""
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ValueError(f"serve.status_hosts must be a list of host names, got {value!r}")
    names = tuple(name.lower().rstrip(".") for name in value)
    for name, given in zip(names, value):
        if not _HOST_NAME.match(name):
            raise ValueError(f"serve.status_hosts: {given!r} is not a host name (letters, digits, '-' and '.'; no "
                             "port, no scheme)")
    return names


def _listen(value) -> tuple[str, int] | None:
    if value == "":
        return None
    if not isinstance(value, str) or ":" not in value:
        raise ValueError(f"serve.listen must be \"HOST:PORT\" (or \"\" for none), got {value!r}")
    host, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535 or not host:
        raise ValueError(f"serve.listen must be \"HOST:PORT\" with a port 0-65535, got {value!r}")
    return host.strip("[]"), int(port)


def _path(value, where: str, base: Path) -> Path:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where} must be a path string, got {value!r}")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


SERVE_PIPELINE_DEFAULTS = {"consensus_finalists": 0}
"""Pipeline settings in which a serve camera differs from ``facesel run`` unless its table (or
``[defaults.pipeline]``) says otherwise. The consensus pick (``consensus_finalists = 32``, the
Selector's default since session 11) is off for live cameras: at four paced 720p cameras on two
cores it dropped 18-25 % of the frames against 3-4 % without it, at 21.6-22.2 against 15.6-16.6
CPU ms a processed frame and a median latency of 272-273 against 18-33 ms (two alternated pairs,
quiet machine; ``python benchmarks/capacity.py --height 720 --cameras 4 --seconds 30 --warmup 8
--variant lazy+skip+pick0 lazy+skip+consensus --repeats 2``), for a held-out gain in the pick of
0.008 smoothed matcher distance (docs/model_card.md). Session 12, on a stream without a loop's
breaks (``capacity.py --continuous``) and with the consensus 11-15 % cheaper: 16.7 % dropped
against 0.17 % in the same quiet sitting. A box with spare cores turns it on per camera with
``consensus_finalists = 32`` in the camera's pipeline table."""


def _camera(name: str, table: dict, defaults: dict, base: Path, running_source: str | None = None) -> CameraConfig:
    where = f"cameras.{name}"
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"{where}: camera names may hold letters, digits, '-' and '_' only")
    _refuse_pipeline_keys_outside_pipeline(table, where, CAMERA_KEYS)
    check_known_keys(table, where, CAMERA_KEYS)
    merged = {**defaults, **table}
    merged["pipeline"] = {**SERVE_PIPELINE_DEFAULTS, **_table(defaults.get("pipeline", {}), "defaults.pipeline"),
                          **_table(table.get("pipeline", {}), f"{where}.pipeline")}
    for key in ("source", "vault", "authority", "camera_key"):
        if key not in merged:
            raise ValueError(f"{where}.{key} is missing")
    source = merged["source"]
    if isinstance(source, int) and not isinstance(source, bool):
        source = str(source)
    if not isinstance(source, str) or not source:
        raise ValueError(redact_url(f"{where}.source must be a URL, a webcam index or a video file path, "
                                    f"got {source!r}"))
    remember_url_secrets(source)  # masked in every message from here on
    check_webcam_index(source, where=f"{where}.source")
    live_target = is_live_target(source)
    if not live_target:
        source_path = _path(source, f"{where}.source", base)
        if str(source_path) != running_source:  # a running camera's own source: it reports it (ux20)
            bound = check_max_frame_pixels(merged.get("max_frame_pixels", CameraConfig.max_frame_pixels),
                                           f"{where}.max_frame_pixels")
            check_source_file(source_path, source, f"{where}.source", bound)
        source = str(source_path)
    authority = _path(merged["authority"], f"{where}.authority", base)
    if not authority.is_file():
        raise ValueError(f"{where}.authority: the authority's public key file was not found: {authority}")
    camera_key, camera_id = _camera_key(merged, where, base)
    _refuse_revoked_camera(authority, camera_id, where)
    flags = {}
    for key in ("loop", "enabled", "coarsen_detection", "shrink_in_decoder", "convert_on_take", "skip_when_behind",
                "seal_in_background", "stagger_detection", "coarsen_with_tiers"):
        value = merged.get(key, getattr(CameraConfig, key, True))
        if value is None:  # convert_on_take, skip_when_behind: on where the camera decodes with PyAV anyway
            value = _decodes_with_pyav(source, live_target, merged)
        if not isinstance(value, bool):
            raise ValueError(f"{where}.{key} must be true or false, got {value!r}")
        flags[key] = value
    vault = _path(merged["vault"], f"{where}.vault", base)
    if flags["enabled"]:
        _refuse_expired_authority(authority, vault, where)
    live = merged.get("live")
    if live is not None and not isinstance(live, bool):
        raise ValueError(f"{where}.live must be true or false, got {live!r}")
    if flags["loop"] and live_target:
        raise ValueError(redact_url(f"{where}.loop applies to video files only, not to the stream {source!r}"))
    # A file stands in for a camera: paced at its frame rate unless asked otherwise (issue 26).
    realtime = merged.get("realtime", not live_target)
    if not isinstance(realtime, bool):
        raise ValueError(f"{where}.realtime must be true or false, got {realtime!r}")
    if realtime and live_target:
        raise ValueError(f"{where}.realtime applies to video files only (a stream is paced by its sender), "
                         f"not to {redact_url(source)!r}")
    flags["realtime"] = realtime
    backend = merged.get("backend", "pyav")
    if backend not in BACKENDS:
        raise ValueError(f"{where}.backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    times = {key: checked_seconds(merged.get(key, default), f"{where}.{key}", at_most) for key, default, at_most in
             (("open_timeout", 10.0, MAX_TIMEOUT_SECONDS), ("read_timeout", 5.0, MAX_TIMEOUT_SECONDS),
              ("stall_timeout", 10.0, MAX_TIMEOUT_SECONDS),
              ("reconnect_max_delay", 30.0, MAX_RECONNECT_DELAY_SECONDS))}
    settings = check_pipeline_settings(merged["pipeline"], f"{where}.pipeline")
    cap = merged.get("max_detect_every", 16)
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise ValueError(f"{where}.max_detect_every must be an integer >= 1, got {cap!r}")
    if cap > MAX_DETECT_EVERY:
        raise ValueError(f"{where}.max_detect_every must be at most {MAX_DETECT_EVERY} (frames between full-frame "
                         f"detections: over 10 s at 25 frames/s, so a face passing by is missed), got {cap!r}")
    flags["max_detect_every"] = cap
    backoff = merged.get("refine_backoff", CameraConfig.refine_backoff)
    if isinstance(backoff, bool) or not isinstance(backoff, int) or backoff < 1:
        raise ValueError(f"{where}.refine_backoff must be an integer >= 1 (1: a fixed wait before each finer "
                         f"step), got {backoff!r}")
    flags["refine_backoff"] = backoff
    settle = merged.get("settle_coarsening", CameraConfig.settle_coarsening)
    if not isinstance(settle, bool):
        raise ValueError(f"{where}.settle_coarsening must be true or false, got {settle!r}")
    flags["settle_coarsening"] = settle
    flags["buffer_frames"] = check_buffer_frames(merged.get("buffer_frames", CameraConfig.buffer_frames),
                                                 f"{where}.buffer_frames")
    wide = merged.get("flush_buffer_frames", CameraConfig.flush_buffer_frames)
    if isinstance(wide, bool) or not isinstance(wide, int) or wide < 0:
        raise ValueError(f"{where}.flush_buffer_frames must be an integer >= 0 (frames; 0: never widened), got {wide!r}")
    check_at_most_buffer(wide, f"{where}.flush_buffer_frames")
    flags["flush_buffer_frames"] = wide
    deep = merged.get("cap_buffer_frames", CameraConfig.cap_buffer_frames)
    if isinstance(deep, bool) or not isinstance(deep, int) or deep < 0:
        raise ValueError(f"{where}.cap_buffer_frames must be an integer >= 0 (frames; 0: never deepened), got {deep!r}")
    check_at_most_buffer(deep, f"{where}.cap_buffer_frames")
    flags["cap_buffer_frames"] = deep
    flags["skip_loop_filter"] = check_skip_loop_filter(merged.get("skip_loop_filter", CameraConfig.skip_loop_filter),
                                                       f"{where}.skip_loop_filter")
    flags["max_frame_pixels"] = check_max_frame_pixels(merged.get("max_frame_pixels", CameraConfig.max_frame_pixels),
                                                       f"{where}.max_frame_pixels")
    flags["held_max_bytes"] = check_held_max_bytes(merged.get("held_max_bytes", CameraConfig.held_max_bytes),
                                                   f"{where}.held_max_bytes")
    from facesel.serve.retention import camera_retention
    from facesel.serve.zones import parse_zones

    zones = parse_zones(merged.get("zones", []), f"{where}.zones")
    retention, reason = camera_retention(merged, where, authority)
    return CameraConfig(
        name=name, source=source, vault=vault, authority=authority,
        camera_key=camera_key, camera_id=camera_id, live=live, backend=backend, pipeline=tuple(sorted(settings.items())),
        zones=zones, retention_seconds=retention, retention_reason=reason, **flags, **times,
    )


def _camera_key(merged: dict, where: str, base: Path) -> tuple[Path, str]:
    """The camera key's path and id, read now so that a missing or foreign key stops the start
    (not the first seal); a given ``camera_id`` must be the key's."""
    from facesel.vault import CameraKey

    path = _path(merged["camera_key"], f"{where}.camera_key", base)
    try:
        key = CameraKey.load(path)
    except FileNotFoundError:
        raise ValueError(f"{where}.camera_key: no camera key at {path} (make one with 'facesel camera init')") from None
    except (ValueError, OSError) as err:  # KeyMaterialError is a ValueError
        raise ValueError(f"{where}.camera_key: {path} is not a usable camera key ({err})") from None
    camera_id = merged.get("camera_id", key.camera_id)
    if camera_id != key.camera_id:
        raise ValueError(f"{where}.camera_id: {camera_id!r} does not match the camera key {path}, which belongs "
                         f"to camera {key.camera_id!r}")
    return path, camera_id


def _refuse_revoked_camera(authority_path: Path, camera_id: str, where: str) -> None:
    """ValueError when ``authority_path`` revoked ``camera_id``'s key from a time already passed
    (:func:`facesel.vault.identity.revoked_key_problem`): the camera must not run as if it sealed
    evidence (ux21: it ran "up", its records counted as sealed, every reader refusing them)."""
    import time

    from facesel.vault.identity import revoked_key_problem
    from facesel.vault.keys import AuthorityPublic

    try:
        authority = AuthorityPublic.load(authority_path)
    except (ValueError, OSError):
        return  # the camera's vault names what is wrong with the file when it opens
    problem = revoked_key_problem(authority, camera_id, time.time())
    if problem is not None:
        raise ValueError(f"{where}.camera_key: {problem} ({authority_path})")


def _refuse_expired_authority(authority_path: Path, vault: Path, where: str) -> None:
    """ValueError naming ``where``.authority when no epoch key covers now, in the file nor in the
    vault's own copy (:func:`facesel.vault.identity.expired_authority_file`): such a camera sealed
    nothing, yet ``serve --check`` said OK and the camera ran "up", its tracks held and then counted
    as lost (ux27). A disabled camera is not asked."""
    import time

    from facesel.vault.identity import expired_authority_file

    problem = expired_authority_file(authority_path, vault, time.time())
    if problem is not None:
        raise ValueError(f"{where}.authority: {problem} ({authority_path})")


def _decodes_with_pyav(source: str, live_target: bool, merged: dict) -> bool:
    """Whether a camera decodes with PyAV whatever ``convert_on_take`` and ``skip_when_behind`` say:
    a stream (not a webcam index) with ``backend = "pyav"``, or a file with ``shrink_in_decoder`` or
    a ``skip_loop_filter``. Their default: on there, off elsewhere, so that by default they never
    move a file camera from the plain file connection to ``PyAVFileConnection`` (about 100 MiB more
    an extra 1080p file camera, docs/performance.md: its BGR frames are views of PyAV's frames, the
    plain connection's arrays of their own, session 21; the plain one decodes with PyAV too since
    review round 11, one thread and an owning copy of each frame, at OpenCV's cost)."""
    if live_target:
        return not str(source).isdigit() and merged.get("backend", "pyav") == "pyav"
    return merged.get("shrink_in_decoder", False) is True or merged.get("skip_loop_filter", "none") != "none"
