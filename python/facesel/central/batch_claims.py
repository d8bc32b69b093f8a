"""Which vault folder, on which Ray node, a batch task sealed into: told to the driver first.

Review round 16a, finding 2 (round 14b's open item, and a local Ray too). A task lost with its
Ray worker (the kernel's OOM killer, a decoder that crashes on a hostile video) was run again
whatever it had sealed: the driver knew neither the folder ``run_video`` had named inside the
worker nor the node it lay on, so the second run sealed the same faces again under new record
ids, and the first folder, records and all, was named by no outcome (a later ``facesel sync`` of
it delivered them twice). The process pool is judged by its folder (round 14b, finding 4); a Ray
task now is too:

1. Before it makes its vault folder, the task *claims* it: ``(node id, folder)`` recorded by a
   :class:`Claims` actor that the driver starts on its own node, and the task waits until the
   actor has it. So a lost task without a claim sealed nothing (it is run again), and one with a
   claim may have.
2. For a lost task with a claim, the driver asks that node (a task pinned to it,
   :func:`records_in`) how many records the folder holds: none, it is run again; some, it is
   reported with the folder as ``queued_in`` (``facesel sync`` there delivers it). When that node
   cannot be asked (it is gone), the folder is reported as possibly holding records and the task
   is not run again: a second run could seal the same faces twice, and the operator knows where
   to look.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

PROBE_TIMEOUT = 60.0
"""Seconds the driver waits for a node's answer about a lost task's folder before it counts the
node as gone (a node that is up answers within its scheduling delay)."""


class Claims:
    """The driver's record of each Ray attempt's vault folder (a Ray actor: ``ray.remote(Claims)``).

    Keyed by ``(task index, attempt)``; the value is ``(node id hex, folder path on that node)``.
    """

    def __init__(self) -> None:
        self._claims: dict[tuple[int, int], tuple[str, str]] = {}

    def claim(self, index: int, attempt: int, node_id: str, folder: str) -> None:
        """Record that attempt ``attempt`` of task ``index`` seals into ``folder`` on node ``node_id``."""
        self._claims[(int(index), int(attempt))] = (str(node_id), str(folder))

    def get(self, index: int, attempt: int) -> tuple[str, str] | None:
        """``(node id, folder)`` that attempt claimed, or None when it claimed none."""
        return self._claims.get((int(index), int(attempt)))


def records_in(folder: str) -> int:
    """How many sealed records (``records/*.fsr``) ``folder`` holds on the node this runs on."""
    return sum(1 for _ in (Path(folder) / "records").glob("*.fsr"))


def claimer(claims, index: int, attempt: int) -> Callable[[Path], None]:
    """The hook ``run_video`` calls with its folder before making it (in the Ray worker): records
    the claim with ``claims`` (an actor handle) and returns only once the actor holds it."""
    import ray

    def claim(folder: Path) -> None:
        ray.get(claims.claim.remote(index, attempt, ray.get_runtime_context().get_node_id(), str(folder)))

    return claim


def judge_lost(claims, index: int, attempt: int) -> tuple[str | None, int | None]:
    """For a task lost with its worker: ``(folder, records)``. ``(None, 0)`` when it claimed no
    folder (it sealed nothing); ``(folder, n)`` with the count its node reports; ``(folder, None)``
    when the node could not be asked within :data:`PROBE_TIMEOUT`."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    claimed = ray.get(claims.get.remote(index, attempt))
    if claimed is None:
        return None, 0
    node_id, folder = claimed
    probe = ray.remote(num_cpus=0, max_retries=0,
                       scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False))(records_in)
    try:
        return folder, int(ray.get(probe.remote(folder), timeout=PROBE_TIMEOUT))
    except (ray.exceptions.RayError, TimeoutError):  # GetTimeoutError is a TimeoutError too
        return folder, None


def start_claims():
    """A :class:`Claims` actor on the driver's own node (it must outlive any worker node)."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = ray.get_runtime_context().get_node_id()
    return ray.remote(num_cpus=0, max_restarts=0)(Claims).options(
        scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False)).remote()
