"""Archives: one frame-selection pipeline per video, in parallel, each sealing into the central store.

A task seals into its own vault folder under ``spool`` on the machine that runs it (so a worker
needs no shared disk and never holds plaintext outside memory), then forwards that folder with
:func:`facesel.central.sync.sync_vault` and removes it once everything arrived. When the store
is unreachable the folder stays, and ``facesel sync --vault FOLDER`` delivers it later.

Tasks run on a local process pool (``workers`` processes; one runs in this process) or as Ray
tasks (``ray_address``: ``"local"`` starts a single-machine Ray, anything else is passed to
``ray.init(address=...)``, e.g. ``"auto"`` or ``"ray://head:10001"``, the address of a cluster
started with ``ray start --head``). A ``"local"`` Ray is this process's own: its token lives in
the environment only (never ``~/.ray/auth_token``) and its session folder in a folder only this
user may enter, removed at the end (review round 14b, findings 1 and 2).

A video that fails is run once more, then reported (:attr:`VideoOutcome.attempts`); it is never
dropped from the outcomes. A failure is an outcome with an error that left no record anywhere
(nothing stored, nothing queued in a spool folder), or a task lost with its Ray worker. A failure
that left records is not run again: a second run would seal the same faces again under new
record ids; its spool folder is reported instead (``facesel sync`` delivers it). Ray's own retries
are off for the same reason.

Every task signs as one archive camera (``facesel camera init``, registered with the authority
and with the central store): ``camera`` is the path of its key folder, which must exist at that
path on every worker (like the facesel wheel). The key is read on the worker; it never travels
with the task.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

from facesel.central.pg_backend import CentralUnavailableError, PostgresVault
from facesel.central.pipeline import select_into
from facesel.central.sync import sync_vault
from facesel.vault.keys import AuthorityPublic


@dataclass(frozen=True)
class VideoTask:
    """Everything a worker needs (picklable; no open connections or secret keys)."""

    video: str
    camera: str            # path of the archive camera's key folder (or camera.key) on the worker
    dsn: str
    authority: dict        # authority.pub registering that camera, as AuthorityPublic.to_dict()
    spool: str             # folder on the worker for the task's vault
    max_frames: int | None = None
    folder: str | None = None  # the task's vault folder in spool; None: run_video names one


@dataclass(frozen=True)
class VideoOutcome:
    """What one video's batch task did: frames read, records sealed and stored centrally, its wall
    time, the spool folder still holding records (if any) and the error that stopped it (if any).
    """
    video: str
    frames: int
    sealed: int            # records the pipeline sealed
    stored: int            # of those, committed centrally (new or already there)
    seconds: float         # wall time of the task on its worker
    queued_in: str | None  # the spool folder still holding records, if any
    error: str | None = None
    attempts: int = 1      # runs of this video (a failure is retried once)

    @property
    def retryable(self) -> bool:
        """Failed without leaving a record anywhere: running it again duplicates nothing."""
        return self.error is not None and self.stored == 0 and self.queued_in is None


RETRIES = 1
"""Extra runs of a failed video (:attr:`VideoOutcome.retryable`) before it is reported."""


def run_video(task: VideoTask) -> VideoOutcome:
    """Select, seal and forward one video (runs in a worker process or a Ray task).

    Never raises for a bad video or an unreachable store: the outcome carries the error, and
    ``queued_in`` names the folder holding whatever was sealed but not delivered.
    """
    started = time.perf_counter()
    vault_dir = Path(task.folder) if task.folder else _named_folder(task)
    frames = sealed = stored = 0
    error = None
    try:
        frames, sealed = _select_and_seal(task, vault_dir)
        with PostgresVault(task.dsn) as store:
            report = sync_vault(vault_dir, store, task.camera)
        stored = report.stored + report.duplicates
        if report.skipped:
            error = "; ".join(f"{rid}: {why}" for rid, why in report.skipped[:3])
    except CentralUnavailableError as err:
        error = str(err)
    except (OSError, ValueError, RuntimeError) as err:  # an unreadable video, a full disk, ...
        error = f"{type(err).__name__}: {err}"
    left = vault_dir.exists() and any((vault_dir / "records").glob("*.fsr"))
    if vault_dir.exists() and not left and error is None:
        shutil.rmtree(vault_dir)  # delivered: the task's folder (and its local log) has done its job
    return VideoOutcome(task.video, frames, sealed, stored, time.perf_counter() - started,
                        str(vault_dir) if left else None, error)


def _named_folder(task: VideoTask) -> Path:
    return Path(task.spool) / f"{Path(task.video).stem[:40]}-{secrets.token_hex(4)}"


def _select_and_seal(task: VideoTask, vault_dir: Path) -> tuple[int, int]:
    from facesel.vault import Vault
    from facesel.video import open_source

    source = open_source(task.video, max_frames=task.max_frames)
    with Vault(vault_dir, AuthorityPublic.from_dict(task.authority), camera=task.camera) as vault:
        frames = select_into(vault, source)
        return frames, len(vault.rows())


Progress = Callable[[int, int, VideoOutcome], None]


def _check_workers(workers) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    return workers


def run_batch(tasks: Sequence[VideoTask], workers: int = 1, ray_address: str | None = None,
              progress: Progress | None = None) -> list[VideoOutcome]:
    """Run every task; return the outcomes in the order of ``tasks``.

    Parameters
    ----------
    tasks : sequence of VideoTask
    workers : int >= 1
        Processes of the local pool, or CPUs of a ``"local"`` Ray (ignored for a running cluster,
        which schedules one CPU per task on whatever it has).
    ray_address : str, optional
        None: the local pool. Otherwise Ray (see the module docstring). A cluster (any address but
        ``"local"``) is refused a task whose ``dsn`` holds a password (ValueError, before Ray is
        contacted): the password belongs in a passfile on each node.
    progress : callable, optional
        Called as ``progress(done, total, outcome)`` when each task ends.
    """
    _check_workers(workers)
    tasks = list(tasks)
    if not tasks:
        return []
    if ray_address not in (None, "local"):
        _refuse_password_to_cluster(tasks)
    report = progress or (lambda done, total, outcome: None)
    if ray_address is not None:
        return _run_ray(tasks, workers, ray_address, report)
    if workers == 1:
        outcomes = []
        for task in tasks:
            outcome = run_video(task)
            for attempt in range(2, RETRIES + 2):
                if not outcome.retryable:
                    break
                outcome = _attempt(run_video(task), attempt)
            outcomes.append(outcome)
            report(len(outcomes), len(tasks), outcomes[-1])
        return outcomes
    return _run_pool(tasks, workers, report)


def _run_pool(tasks: list[VideoTask], workers: int, report: Progress) -> list[VideoOutcome]:
    """The local process pool. A worker that dies (the kernel's OOM killer, a decoder that
    crashes on a hostile file) breaks the whole pool: every task in flight then fails with
    BrokenProcessPool, which used to leave ``run_batch`` (review round 14b, finding 4): no
    outcome, no summary, and the vault folders of the killed tasks, sealed records and all, named
    nowhere. Each attempt's folder is named here, so a lost task is reported as the Ray path
    reports one, with its folder when it holds records (never run again: that would seal the
    same faces twice), and run again once when it holds none, on a new pool.
    """
    results: dict[int, VideoOutcome] = {}
    waiting = [(i, 1) for i in range(len(tasks))]
    while waiting:
        # spawn: the workers start clean (no forked ONNX Runtime or OpenCV thread pools).
        with ProcessPoolExecutor(max_workers=min(workers, len(waiting)),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            futures: dict = {}

            def submit(i: int, attempt: int) -> None:
                task = replace(tasks[i], folder=str(_named_folder(tasks[i])))
                try:
                    futures[pool.submit(run_video, task)] = (i, attempt, task)
                except BrokenProcessPool:
                    waiting.append((i, attempt))  # on the next pool

            starting, waiting[:] = list(waiting), []
            for i, attempt in starting:
                submit(i, attempt)
            while futures:
                future = next(as_completed(futures))
                i, attempt, task = futures.pop(future)
                try:
                    outcome = _attempt(future.result(), attempt)
                except BrokenProcessPool as err:  # its worker died, or another's death ended it
                    outcome = _lost(task, err, attempt)
                if outcome.retryable and attempt <= RETRIES:
                    submit(i, attempt + 1)
                    continue
                results[i] = outcome
                report(len(results), len(tasks), outcome)
    return [results[i] for i in range(len(tasks))]


def _refuse_password_to_cluster(tasks: Sequence[VideoTask]) -> None:
    """ValueError when a task's connection string holds a password and would go to a Ray cluster.

    Why (review round 14b, finding 3): a task's arguments travel to the cluster's head and on to
    its nodes over Ray's gRPC, in clear unless the cluster was set up with ``RAY_USE_TLS``, and
    stay in the head's task table: a password given in ``$FACESEL_CENTRAL`` reached everyone on
    that path, past round 6's rule that a remote store is reached over verified TLS only. The
    camera key already stays on each node (``camera`` is a path there); the password does too.
    """
    from facesel.cli.argv_secrets import holds_password

    if any(holds_password(task.dsn) for task in tasks):
        raise ValueError("the central store's connection string holds a password, and a Ray cluster carries each "
                         "task's arguments to its nodes (in clear unless Ray runs with TLS) and keeps them in its "
                         "head: keep the password on every node instead, in a passfile (PGPASSFILE, ~/.pgpass, or "
                         "passfile= in the string), as the camera key is; '--ray local' keeps it on this machine")


def _attempt(outcome: VideoOutcome, attempt: int) -> VideoOutcome:
    return replace(outcome, attempts=attempt)


def _lost(task: VideoTask, error: BaseException, attempt: int) -> VideoOutcome:
    """The outcome of a task whose worker died: what it sealed is known only by its folder (when
    this machine sees it: a task given its folder on the local pool)."""
    left = task.folder is not None and any((Path(task.folder) / "records").glob("*.fsr"))
    return VideoOutcome(task.video, 0, 0, 0, 0.0, task.folder if left else None,
                        f"worker lost: {type(error).__name__}: {error}", attempt)


def _lost_on_ray(task: VideoTask, error: BaseException, attempt: int, nodes_at_start: set[str]) -> VideoOutcome:
    """The outcome of a Ray task whose worker died, judged by the folder the driver named for it
    (review round 16a, finding 2: it was run again whatever that held), looked for on every node:
    run again (``retryable``) when no node holds a record there and none could not be asked;
    otherwise reported with the folder, and not run again (a second run would seal the same faces twice)."""
    from facesel.central.batch_lost import look_for

    found = look_for(task.folder, nodes_at_start)
    lost = f"worker lost: {type(error).__name__}: {error}"
    if found.records == 0 and found.unasked == 0:
        return VideoOutcome(task.video, 0, 0, 0, 0.0, None, lost, attempt)
    held = (f"its folder holds {found.records} sealed record(s)" if found.records else
            f"{found.unasked} node(s) could not be asked whether the folder holds sealed records")
    return VideoOutcome(task.video, 0, 0, 0, 0.0, task.folder,
                        f"{lost} ({held}, on the node that ran it: not run again; facesel sync --vault "
                        f"FOLDER there delivers them)", attempt)


def _run_ray(tasks: list[VideoTask], workers: int, address: str, report: Progress) -> list[VideoOutcome]:
    import ray

    from facesel.central.batch_lost import alive_nodes

    started_here = not ray.is_initialized()
    token_set_here, private, loopback_undo = False, None, None
    try:  # a failed start, too, puts the environment back and removes the folder
        if started_here:
            if address == "local":
                token_set_here = _local_ray_token()
                loopback_undo = _local_ray_on_loopback()
                # Ray makes its temp folder (default $TMPDIR/ray or /tmp/ray) and the session's
                # sockets/ and logs/ in it mode 0777 without the sticky bit, "so others can use it":
                # another account renames the raylet's socket and puts its own there, and reads every
                # worker's log (review round 14b, finding 2). Inside a folder only we may enter
                # (mkdtemp: 0700), those modes reach no one. Its name is kept short: a Unix socket's
                # path is at most 107 bytes, and the session's sockets lie 66 bytes below it.
                private = Path(tempfile.mkdtemp(prefix="fsray-"))
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                         _temp_dir=str(private / "ray"))
            else:
                ray.init(address=address, log_to_driver=False)
        nodes_at_start = alive_nodes()
        remote = ray.remote(num_cpus=1, max_retries=0)(run_video)
        index: dict = {}

        def submit(i: int, attempt: int) -> None:
            # the folder named here, so a lost task can be judged by it (review round 16a, finding 2)
            task = replace(tasks[i], folder=str(_named_folder(tasks[i])))
            index[remote.remote(task)] = (i, attempt, task)

        for i in range(len(tasks)):
            submit(i, 1)
        results: dict[int, VideoOutcome] = {}
        while index:
            done, _ = ray.wait(list(index), num_returns=1)
            i, attempt, task = index.pop(done[0])
            try:
                outcome = _attempt(ray.get(done[0]), attempt)
            except ray.exceptions.RayError as err:  # the worker died, or the task could not run
                outcome = _lost_on_ray(task, err, attempt, nodes_at_start)
            if outcome.retryable and attempt <= RETRIES:
                submit(i, attempt + 1)
                continue
            results[i] = outcome
            report(len(results), len(tasks), outcome)
        return [results[i] for i in range(len(tasks))]
    finally:
        if started_here:
            ray.shutdown()
        if token_set_here:
            os.environ.pop("RAY_AUTH_TOKEN", None)
        if loopback_undo is not None:
            loopback_undo()
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)  # the session's logs and sockets


#: Ray's switch for a one-machine Ray (its name says Windows and macOS, where it is the default).
_RAY_CLUSTER_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def _local_ray_on_loopback() -> Callable[[], None]:
    """Make the local Ray about to start listen on 127.0.0.1 only; returns what puts things back.

    Why (review round 15a, finding 3): a local ``ray.init()`` on Linux made its GCS, raylet,
    object manager and every worker listen on every address (``ss -ltn``: ``*:PORT``), so any
    machine on the network could reach them, the token of round 14b, finding 1, being the only
    guard. Ray binds 127.0.0.1 when the node's address is 127.0.0.1 (its C++ ``GrpcServer`` takes
    ``listen_to_localhost_only`` from ``node_ip_address == "127.0.0.1"``), but ``ray.init`` turns a
    ``_node_ip_address`` of 127.0.0.1 into the machine's outward address
    (``ray/_private/worker.py``, ``init``: ``services.resolve_ip_for_localhost``, which returns
    ``get_node_ip_address()``). That function answers 127.0.0.1 when
    ``ray_constants.ENABLE_RAY_CLUSTER`` is false (``ray/_private/services.py``,
    ``get_node_ip_address``), which ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` gives (Ray 2.60's
    default on Windows and macOS). The constant is read when Ray is imported, so it is set on the
    imported module as well as in the environment Ray's processes inherit.
    """
    from ray._private import ray_constants

    had_env, had_flag = os.environ.get(_RAY_CLUSTER_SWITCH), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[_RAY_CLUSTER_SWITCH] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False

    def undo() -> None:
        ray_constants.ENABLE_RAY_CLUSTER = had_flag
        if had_env is None:
            os.environ.pop(_RAY_CLUSTER_SWITCH, None)
        else:
            os.environ[_RAY_CLUSTER_SWITCH] = had_env

    return undo


_LOCAL_TOKEN: str | None = None


def _local_ray_token() -> bool:
    """Give the local Ray a token that lives in this process's environment only; True when set here.

    Why (review round 14b, finding 1): a local ``ray.init()`` (Ray 2.60) turns on token
    authentication and, with no token in the environment, writes a new one to
    ``~/.ray/auth_token`` under the umask: 0644 in a 0755 folder, readable by every account whose
    home folder others may enter (Debian's default). Its GCS and raylet listen on every address,
    and whoever holds the token connects as a driver and runs code as the operator: reads
    ``camera.key`` (then signs as the archive camera) and the store's password in the tasks. In
    ``RAY_AUTH_TOKEN`` it reaches Ray's own processes (their environment, which only this user
    may read: ``/proc/PID/environ`` is 0400) and no file. One token per process: Ray's client
    keeps the first token it loaded, so a second local Ray in this process must get the same.
    A token the operator put in ``RAY_AUTH_TOKEN`` is used as it is.
    """
    global _LOCAL_TOKEN
    if os.environ.get("RAY_AUTH_TOKEN"):
        return False
    if _LOCAL_TOKEN is None:
        _LOCAL_TOKEN = secrets.token_hex(32)
    os.environ["RAY_AUTH_TOKEN"] = _LOCAL_TOKEN
    return True
