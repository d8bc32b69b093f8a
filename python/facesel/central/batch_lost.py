"""Where a lost Ray task sealed: its folder named by the driver, looked for on every node.

Review round 16a, finding 2 (round 14b's open item, and a local Ray too). A task lost with its
Ray worker (the kernel's OOM killer, a decoder that crashes on a hostile video) was run again
whatever it had sealed: ``run_video`` named its vault folder inside the worker, so the driver knew
neither the folder nor the node it lay on, the second run sealed the same faces again under new
record ids, and the first folder, records and all, was named by no outcome (a later
``facesel sync`` of it delivered them twice). The process pool is judged by its folder (round
14b, finding 4); a Ray task now is too:

1. The driver names each attempt's folder before the task starts (``VideoTask.folder``, as the
   pool does), so the name is known whatever happens to the worker.
2. For a lost task, the driver asks every node that is alive (a task pinned to each,
   :func:`records_in`) how many records that folder holds there. Some: the task is reported with
   the folder as ``queued_in`` (``facesel sync`` on that node delivers it) and not run again.
   None anywhere: it is run again, unless a node that was alive when the batch started is gone or
   did not answer, where the folder may lie: then it is reported as possibly holding records, not
   run again (a second run could seal the same faces twice), and the operator knows the folder.

An earlier design of this round had each task claim its folder with a small actor on the driver's
node; on a cluster reached after a local Ray in the same process the actor was never scheduled
("all references to the actor were removed"), so no actor is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROBE_TIMEOUT = 60.0
"""Seconds the driver waits for the nodes' answers about a lost task's folder before it counts a
node that has not answered as unreachable (a node that is up answers within its scheduling delay)."""


def records_in(folder: str) -> int:
    """How many sealed records (``records/*.fsr``) ``folder`` holds on the node this runs on."""
    return sum(1 for _ in (Path(folder) / "records").glob("*.fsr"))


def alive_nodes() -> set[str]:
    """The ids (hex) of the Ray nodes alive now."""
    import ray

    return {node["NodeID"] for node in ray.nodes() if node.get("Alive")}


@dataclass(frozen=True)
class Found:
    """What the nodes said about a lost task's folder.

    Attributes
    ----------
    records : int
        Records found in the folder, summed over the nodes that answered.
    unasked : int
        Nodes alive at the batch's start that are gone now or did not answer.
    """

    records: int
    unasked: int


def look_for(folder: str, nodes_at_start: set[str]) -> Found:
    """Ask every node alive now how many records ``folder`` holds there; count the nodes of
    ``nodes_at_start`` that could not be asked."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    now = alive_nodes()
    probes = {}
    for node_id in sorted(now):
        probe = ray.remote(num_cpus=0, max_retries=0,
                           scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False))(records_in)
        probes[node_id] = probe.remote(folder)
    ready = ray.wait(list(probes.values()), num_returns=len(probes), timeout=PROBE_TIMEOUT)[0] if probes else []
    records, answered = 0, set()
    for node_id, ref in probes.items():
        if ref not in ready:
            continue
        try:
            records += int(ray.get(ref))
        except ray.exceptions.RayError:
            continue
        answered.add(node_id)
    return Found(records, len((nodes_at_start | now) - answered))
