"""The load governor in a queue model of N cameras on K cores: when do its steps and the drops happen? (issue 27, session 16)

    python benchmarks/governor_model.py --costs /tmp/cap15-costs.json [--scale 1.0 1.1 1.2]
        [--rule today settle] [--seeds 4] [--seconds 120]

Not a measurement: a model, fed by measured costs (``benchmarks/burst_costs.py --json``: one 1080p
camera's thread CPU a frame at the governor's cap, each frame's kind). It is
:mod:`burst_model`'s model (a reader thread a camera decoding every frame into a live queue of
``--buffer`` frames that pushes its oldest frame out when full; one pipeline thread a camera; the
cores shared equally among the threads with work) with the schedule no longer fixed: each camera
has serve's own :class:`facesel.serve.scheduler.ScheduleGovernor`, fed as ``Camera._received``
feeds it (the seconds the taken frame waited in the queue, the frame interval, the frame's
sequence number, the drop count), and its schedule decides each taken frame's cost as
:class:`facesel.detect.schedule.DetectionSchedule` would: a full detection when ``every`` frames
have been taken since the last one; with two tiers on one in ``fine_every`` fine, the others
coarse, with them off every one fine. A full frame's cost is the ordinary cost at its place in the
video plus a measured extra of its kind, in turn.

Per run it reports drops, the governor's steps, the share of frames at each schedule, and where
the drops fall: by the schedule in force, and by the governor's last step before them (its kind
and how many frames before). ``--scale`` multiplies every cost (1.0: the camera alone; the lead's
quiet sitting measured four cameras at about 1.1-1.2x, docs/performance.md, session 15).
``--rule`` names governor settings (:data:`RULES`).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from burst_model import Costs  # noqa: E402

RULES = {
    "today": {},
    "oldgov": {"refine_backoff": 1},
    "settle": {"settle_coarsening": True},
    "calm150": {"calm_frames": 150},
    "calm250": {"calm_frames": 250},
    "settle+calm150": {"settle_coarsening": True, "calm_frames": 150},
    "settle+calm250": {"settle_coarsening": True, "calm_frames": 250},
    "undo750": {"undo_frames": 750},
    "settle+undo750": {"settle_coarsening": True, "undo_frames": 750},
}
"""``--rule`` names: keyword arguments of :class:`ScheduleGovernor` beyond serve's (``today``: serve's
defaults; ``oldgov``: the rule before session 12, ``refine_backoff = 1``; ``settle``: session 16's
``settle_coarsening``)."""


class ModelStage:
    """A detection stage's two-tier switch, as the governor drives it (no detector)."""

    def __init__(self):
        self.tiers = (0, 4)

    def set_tiers(self, coarse_side: int, fine_every: int) -> None:
        self.tiers = (int(coarse_side), int(fine_every))


class ModelSchedule:
    """``every``: the governor's setting; :meth:`due` counts taken frames as DetectionSchedule does."""

    def __init__(self, every: int, phase: int = 0):
        self.every, self.phase, self._since, self._gap = every, phase, None, None

    def due(self) -> bool:
        due = self._since is None or self._since + 1 >= (self._gap or self.every)
        if due:
            self._gap = self.phase if self._since is None and self.phase > 0 else None
            self._since = 0
        else:
            self._since += 1
        return due


@dataclass
class Cam:
    offset: float
    place: int
    schedule: ModelSchedule
    stage: ModelStage
    governor: object = None
    pending: deque = field(default_factory=deque)  # arrived, not yet decoded: (arrival s, place, sequence)
    decoding: list | None = None  # [remaining ms, arrival s, place, sequence]
    queue: deque = field(default_factory=deque)  # decoded: (queued s, place, sequence)
    working: list | None = None  # [remaining ms]
    fulls: int = 0
    fine_cursor: int = 0
    coarse_cursor: int = 0
    arrived: int = 0
    dropped: int = 0  # all, warm-up included (the governor's count)
    drops: list = field(default_factory=list)  # (sequence of the frame pushed out, schedule then) after warm-up
    at_level: Counter = field(default_factory=Counter)  # frames taken after warm-up, by schedule
    taken_log: list = field(default_factory=list)  # (sequence, every, two tiers on) of every frame taken


def level_key(every: int, tiered: bool) -> str:
    return f"{every}+tiers" if tiered else str(every)


def take_cost(cam: Cam, costs: Costs, place: int) -> float:
    n = len(costs.ordinary)
    cost = costs.ordinary[place % n]
    if cam.schedule.due():
        coarse_side, fine_every = cam.stage.tiers
        fine = not coarse_side or cam.fulls % fine_every == 0
        cam.fulls += 1
        pool = costs.extra["fine" if fine else "coarse"]
        if fine:
            cost += pool[cam.fine_cursor % len(pool)]
            cam.fine_cursor += 1
        else:
            cost += pool[cam.coarse_cursor % len(pool)]
            cam.coarse_cursor += 1
    return cost


def simulate(costs: Costs, rule: dict, cameras: int = 4, cores: float = 2.0, buffer: int = 4, fps: float = 25.0,
             seconds: float = 120.0, warmup: float = 10.0, seed: int = 0, same_place: bool = True,
             judged: int | None = None) -> dict:
    """One model run; the figures of the last ``seconds`` model seconds. ``judged``: the queue span
    the governor measures waits against (None: ``buffer``, as serve does)."""
    from facesel.serve.scheduler import ScheduleGovernor

    rng = random.Random(seed)
    interval = 1.0 / fps
    start = rng.randrange(len(costs.ordinary))
    cams = []
    for i in range(cameras):
        schedule, stage = ModelSchedule(4, phase=round(i * 4 / cameras) % 4), ModelStage()
        cam = Cam(offset=rng.uniform(0, interval), place=start if same_place else rng.randrange(len(costs.ordinary)),
                  schedule=schedule, stage=stage)
        cam.governor = ScheduleGovernor(schedule, base=4, cap=16, capacity=judged or buffer, stage=stage, **rule)
        cams.append(cam)
    end, t = warmup + seconds, 0.0
    next_arrival = [c.offset for c in cams]
    warm = {}  # camera -> governor.observed at the warm-up's end

    def start_work(cam: Cam) -> None:
        if cam.working is None and cam.queue:
            queued, place, sequence = cam.queue.popleft()
            cam.governor.observe(t - queued, interval, sequence, cam.dropped)
            cam.taken_log.append((sequence, *cam.governor.level))
            if t >= warmup:
                cam.at_level[level_key(*cam.governor.level)] += 1
            cam.working = [take_cost(cam, costs, place)]

    def start_decode(cam: Cam) -> None:
        if cam.decoding is None and cam.pending:
            arrival, place, sequence = cam.pending.popleft()
            cam.decoding = [costs.decode[place % len(costs.decode)], arrival, place, sequence]

    while t < end:
        jobs = [c.decoding for c in cams if c.decoding is not None] + [c.working for c in cams if c.working is not None]
        rate = min(1.0, cores / len(jobs)) if jobs else 0.0
        step = min(next_arrival) - t
        if jobs:
            step = min(step, min(j[0] for j in jobs) / 1000.0 / rate)
        for j in jobs:
            j[0] -= rate * step * 1000.0
        t += step
        for k, cam in enumerate(cams):
            if t >= warmup and k not in warm:
                warm[k] = cam.governor.observed
            if cam.decoding is not None and cam.decoding[0] <= 1e-9:
                _, arrival, place, sequence = cam.decoding
                cam.decoding = None
                if len(cam.queue) >= buffer:
                    _, _, pushed = cam.queue.popleft()
                    cam.dropped += 1
                    if t >= warmup:
                        cam.drops.append((pushed, level_key(*cam.governor.level)))
                cam.queue.append((t, place, sequence))
                start_decode(cam)
            if cam.working is not None and cam.working[0] <= 1e-9:
                cam.working = None
            start_work(cam)
        for i, cam in enumerate(cams):
            if next_arrival[i] <= t + 1e-12:
                k = round((next_arrival[i] - cam.offset) / interval)
                cam.pending.append((next_arrival[i], cam.place + k, k))
                cam.arrived += next_arrival[i] >= warmup
                next_arrival[i] += interval
                start_decode(cam)
    out = figures(cams, warm, fps)
    # what experiments/governed_agreement.py replays: each camera's frames taken and their schedule
    out["trace"] = {f"cam{i}": {"phase": cam.schedule.phase, "dropped": cam.dropped, "frames": cam.taken_log}
                    for i, cam in enumerate(cams)}
    return out


AGE_EDGES = (25, 75)
"""Frames since the governor's last step that split drops into "just after" (under 1 s at 25
frames/s), "after" (1-3 s) and "settled" (3 s and more)."""


def figures(cams: list, warm: dict, fps: float) -> dict:
    arrived = sum(c.arrived for c in cams)
    dropped = sum(len(c.drops) for c in cams)
    steps = Counter()
    by_level, by_step, frames_by_step = Counter(), Counter(), Counter()
    at_level = Counter()
    for k, cam in enumerate(cams):
        at_level.update(cam.at_level)
        changes = list(cam.governor.changes)  # (observed, sequence, every, dropped, gap, when, tiered)
        previous = None
        log = []
        for c in changes:
            level = (c[2], c[6])
            kind = "refined" if previous is not None and level < previous else "coarsened"
            log.append((c[1], kind, c[0] > warm[k]))
            previous = level
        for kind_seq, kind, counted in log:
            steps[kind] += counted
        for sequence, level in cam.drops:
            by_level[level] += 1
            by_step[_since_step(log, sequence)] += 1
        for sequence, *_ in cam.taken_log[warm[k]:]:
            frames_by_step[_since_step(log, sequence)] += 1
    taken = sum(at_level.values())
    return {"arrived": arrived, "dropped": dropped, "drop_fraction": round(dropped / arrived, 5) if arrived else None,
            "steps": dict(steps), "undone": sum(c.governor.undone for c in cams),
            "share_at": {key: round(n / taken, 3) for key, n in sorted(at_level.items())} if taken else {},
            "drops_by_schedule": dict(by_level), "drops_by_last_step": dict(sorted(by_step.items())),
            "frames_by_last_step": dict(sorted(frames_by_step.items()))}


def _since_step(log: list, sequence: int) -> str:
    """The governor's last step at or before frame ``sequence`` (``log``: (sequence, kind, counted))
    and how many frames before it, cut at :data:`AGE_EDGES`."""
    before = [entry for entry in log if entry[0] <= sequence]
    if not before:
        return "no step yet"
    age = sequence - before[-1][0]
    cut = next((f"<{edge} frames" for edge in AGE_EDGES if age < edge), f">={AGE_EDGES[-1]} frames")
    return f"{before[-1][1]} {cut}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--costs", required=True, help="benchmarks/burst_costs.py --json output")
    parser.add_argument("--scale", type=float, nargs="+", default=[1.0, 1.1, 1.2])
    parser.add_argument("--rule", nargs="+", default=["today", "settle"], choices=tuple(RULES))
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--cores", type=float, default=2.0)
    parser.add_argument("--buffer", type=int, default=4)
    parser.add_argument("--judged", type=int, default=None,
                        help="the span the governor judges waits against (default: --buffer, as serve)")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--places", choices=("same", "random"), default="same",
                        help="cameras start at the same place of the video (capacity.py's) or at random places")
    parser.add_argument("--json", default=None, help="append every run's figures here (JSON lines)")
    parser.add_argument("--trace", default=None,
                        help="write the first scale's, first rule's, first seed's frames taken by each camera and "
                             "their schedule here (JSON; experiments/governed_agreement.py replay --trace)")
    args = parser.parse_args(argv)
    frames = json.loads(Path(args.costs).read_text())["frames"]
    for scale in args.scale:
        costs = Costs.from_frames(frames, scale)
        for rule in args.rule:
            runs = [simulate(costs, RULES[rule], args.cameras, args.cores, args.buffer, seconds=args.seconds,
                             warmup=args.warmup, seed=seed, same_place=args.places == "same", judged=args.judged) for seed in range(args.seeds)]
            if args.trace and scale == args.scale[0] and rule == args.rule[0]:
                Path(args.trace).write_text(json.dumps({"model": {"scale": scale, "rule": rule, "seed": 0,
                                                                  "seconds": args.warmup + args.seconds},
                                                        "cameras": runs[0]["trace"]}))
            for r in runs:
                r.pop("trace")
            row = {"scale": scale, "rule": rule, "buffer": args.buffer, "judged": args.judged or args.buffer,
                   "places": args.places, "runs": runs}
            total = {key: sum(r[key] for r in runs) for key in ("arrived", "dropped")}
            steps = sum(sum(r["steps"].values()) for r in runs)
            by_step, by_level = Counter(), Counter()
            for r in runs:
                by_step.update(r["drops_by_last_step"])
                by_level.update(r["drops_by_schedule"])
            print(f"scale {scale} rule {rule}: dropped {total['dropped']} of {total['arrived']} "
                  f"({100 * total['dropped'] / total['arrived']:.3f} %), each seed {[r['dropped'] for r in runs]}; "
                  f"steps {steps} ({[sum(r['steps'].values()) for r in runs]}); share at each schedule "
                  f"{ {k: round(sum(r['share_at'].get(k, 0) for r in runs) / len(runs), 3) for k in ('4', '4+tiers', '8+tiers', '16+tiers')} }; at the base "
                  f"{[r['share_at'].get('4', 0) for r in runs]}; at the cap {[r['share_at'].get('16+tiers', 0) for r in runs]}; "
                  f"drops by schedule {dict(by_level)}; by last step {dict(sorted(by_step.items()))}", flush=True)
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
