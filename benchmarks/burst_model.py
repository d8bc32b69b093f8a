"""A queue model of N cameras on K cores, fed by measured per-frame CPU costs (issue 27, session 15).

    python benchmarks/burst_model.py --costs /tmp/cap15-costs.json [--cameras 4] [--cores 2]
        [--buffer 1 2 4 8 16 32] [--stagger aligned serve random spread] [--spread 1 2 4] [--scale 1.0 1.4]

Not a test, and not a measurement: a model. Its inputs are measured (``benchmarks/burst_costs.py``:
one camera's thread CPU a frame at a fixed schedule, split into the decoding every received frame
pays and the work a taken frame pays, each frame's kind: ordinary, coarse or fine full-frame
detection); what it says about drops is what follows from those costs under its assumptions:

- each camera's frames arrive every ``1 / fps`` seconds from its own random start offset;
- each camera has a reader thread that decodes every frame in arrival order (``decode_ms`` of the
  frame's place in the video; cameras start at random places of it), then puts it into the
  camera's queue of ``buffer`` frames, pushing the oldest waiting one out (a drop) when it is full,
  as :class:`facesel.sources.stream.StreamSource` does for a live camera;
- each camera has one pipeline thread that takes the oldest waiting frame and works ``take_ms`` on
  it (serve's two stage threads per camera are one here: a frame's work is serial);
- the K cores are shared equally among the threads that have work (processor sharing), none getting
  more than one core; nothing else runs;
- the detection schedule counts the frames the pipeline takes, as
  :class:`facesel.detect.schedule.DetectionSchedule` does: a full-frame detection every ``every``
  frames from the camera's phase, the first of every ``fine_every`` fine, the others coarse. A taken
  frame's cost is the measured cost of a frame of its kind: an ordinary frame's is the video's own
  (its place in the video); a full detection's is the ordinary cost there plus an *extra* drawn in
  turn from the measured extras of that kind (a full frame's take less the mean of the ordinary
  frames within 3 of it);
- ``--scale`` multiplies every cost (the single-thread measure against serve's process, whose CPU
  a processed frame is higher: two stage threads a camera, queues, the GIL, four cameras' caches).

Options compared: ``--buffer`` (frames a camera's queue holds), ``--stagger`` (the cameras' phases:
``aligned`` all 0; ``serve`` 0, 1, 2, 3 of ``every`` frames, what ``stagger_detection`` gives when
the cameras reach the cap together (its phases are spread over the *configured* ``detect_every``);
``random`` phases and fine offsets; ``spread``: full detections ``every / N`` frames apart and each
camera's fine pass in its own block), ``--spread`` (a full detection's extra cost split evenly over
k consecutive taken frames), and ``flat`` (every frame at the trace's mean: the same mean, no bursts).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import deque
from dataclasses import dataclass, field


def extras(frames: list[dict]) -> dict[str, list[float]]:
    """Per full-detection kind, the measured take ms beyond the ordinary frames near it (within 3)."""
    out: dict[str, list[float]] = {"fine": [], "coarse": []}
    for i, f in enumerate(frames):
        if f["kind"] in out:
            near = [g["take_ms"] for g in frames[max(0, i - 3):i + 4] if g["kind"] == "ordinary"]
            base = sum(near) / len(near) if near else 0.0
            out[f["kind"]].append(max(0.0, f["take_ms"] - base))
    return out


def ordinary_series(frames: list[dict]) -> list[float]:
    """Take ms of an ordinary frame at each place of the video: a full frame's place gets the mean
    of the ordinary frames near it."""
    series = []
    for i, f in enumerate(frames):
        if f["kind"] == "ordinary":
            series.append(f["take_ms"])
        else:
            near = [g["take_ms"] for g in frames[max(0, i - 3):i + 4] if g["kind"] == "ordinary"]
            series.append(sum(near) / len(near) if near else 0.0)
    return series


@dataclass
class Costs:
    """What the model draws from: ``ordinary[i]`` and ``decode[i]`` ms at place i of the video,
    ``extra[kind]`` ms of each measured full detection."""

    ordinary: list[float]
    decode: list[float]
    extra: dict[str, list[float]]

    @classmethod
    def from_frames(cls, frames: list[dict], scale: float = 1.0, flat: bool = False) -> Costs:
        ordinary, decode, extra = ordinary_series(frames), [f["decode_ms"] for f in frames], extras(frames)
        if flat:  # the same mean CPU a frame, every frame alike: no burst anywhere
            take = sum(f["take_ms"] for f in frames) / len(frames)
            ordinary, decode, extra = [take] * len(frames), [sum(decode) / len(decode)] * len(frames), {"fine": [0.0], "coarse": [0.0]}
        return cls([scale * x for x in ordinary], [scale * x for x in decode],
                   {k: [scale * x for x in v] or [0.0] for k, v in extra.items()})


@dataclass
class Camera:
    """One camera's state in the model."""

    offset: float  # seconds from 0 to its first frame
    place: int  # its first frame's place in the video
    phase: int  # frames after the first taken frame at which the second full detection falls
    fine_offset: int  # full detections before the first fine one (its fine passes' slot)
    pending: deque = field(default_factory=deque)  # arrived frames waiting to be decoded: (arrival s, place)
    decoding: list | None = None  # [remaining ms, arrival s, place]
    queue: deque = field(default_factory=deque)  # decoded frames waiting for the pipeline
    working: list | None = None  # [remaining ms, arrival s]
    spread_left: list = field(default_factory=list)  # extra ms still owed to the next frames
    taken: int = 0
    fulls: int = 0
    arrived: int = 0
    dropped: int = 0
    processed: int = 0
    latencies: list = field(default_factory=list)
    fine_cursor: int = 0
    coarse_cursor: int = 0


def phases(stagger: str, cameras: int, every: int, fine_every: int, rng: random.Random) -> list[tuple[int, int]]:
    """(phase, fine offset) of each camera for a ``--stagger`` choice."""
    if stagger == "aligned":
        return [(0, 0)] * cameras
    if stagger == "serve":  # Camera.detection_phase at the configured detect_every 4, the cap reached together
        return [(round(i * 4 / cameras) % 4 % every, 0) for i in range(cameras)]
    if stagger == "random":
        return [(rng.randrange(every), rng.randrange(fine_every)) for _ in range(cameras)]
    if stagger == "spread":  # full detections every/N apart, each camera's fine pass in a block of its own
        return [(round(i * every / cameras) % every, (fine_every - i % fine_every) % fine_every) for i in range(cameras)]
    raise ValueError(f"stagger must be aligned, serve, random or spread, got {stagger!r}")


def take_cost(cam: Camera, costs: Costs, place: int, every: int, fine_every: int, spread: int) -> float:
    """The ms the pipeline works on the frame it takes now (advances the camera's schedule)."""
    n = len(costs.ordinary)
    cost = costs.ordinary[place % n]
    second = cam.phase or every  # DetectionSchedule.set_phase: the first frame, then phase, phase + every, ...
    due = cam.taken == 0 or (cam.taken >= second and (cam.taken - second) % every == 0)
    cam.taken += 1
    if due:
        fine = (cam.fulls + cam.fine_offset) % fine_every == 0 or cam.fulls == 0
        cam.fulls += 1
        kind = "fine" if fine else "coarse"
        pool = costs.extra[kind]
        cursor = cam.fine_cursor if fine else cam.coarse_cursor
        extra = pool[cursor % len(pool)]
        if fine:
            cam.fine_cursor += 1
        else:
            cam.coarse_cursor += 1
        for k in range(spread):  # this frame and the next spread - 1 taken frames each carry a share
            if k < len(cam.spread_left):
                cam.spread_left[k] += extra / spread
            else:
                cam.spread_left.append(extra / spread)
    if cam.spread_left:
        cost += cam.spread_left.pop(0)
    return cost


def simulate(costs: Costs, cameras: int = 4, cores: float = 2.0, buffer: int = 4, fps: float = 25.0, seconds: float = 120.0,
             warmup: float = 10.0, every: int = 16, fine_every: int = 4, stagger: str = "serve", spread: int = 1,
             seed: int = 0, same_place: bool = False) -> dict:
    """Drops and latency of ``cameras`` cameras over ``seconds`` after ``warmup`` (model seconds).
    ``same_place``: every camera starts at the same place of the video (capacity.py's cameras, one
    file started together: their busy moments coincide); otherwise each at a random place."""
    rng = random.Random(seed)
    interval = 1.0 / fps
    start = rng.randrange(len(costs.ordinary))
    cams = [Camera(offset=rng.uniform(0, interval), place=start if same_place else rng.randrange(len(costs.ordinary)),
                   phase=p, fine_offset=f)
            for p, f in phases(stagger, cameras, every, fine_every, random.Random(seed + 1000))]
    end = warmup + seconds
    t = 0.0
    next_arrival = [c.offset for c in cams]

    def start_work(cam: Camera) -> None:
        if cam.working is None and cam.queue:
            arrival, place = cam.queue.popleft()
            cam.working = [take_cost(cam, costs, place, every, fine_every, spread), arrival]

    def start_decode(cam: Camera) -> None:
        if cam.decoding is None and cam.pending:
            arrival, place = cam.pending.popleft()
            cam.decoding = [costs.decode[place % len(costs.decode)], arrival, place]

    while t < end:
        jobs = [c.decoding for c in cams if c.decoding is not None] + [c.working for c in cams if c.working is not None]
        rate = min(1.0, cores / len(jobs)) if jobs else 0.0  # ms of work done per ms, each running thread
        arrival_at = min(next_arrival)
        step = arrival_at - t
        if jobs:
            step = min(step, min(j[0] for j in jobs) / 1000.0 / rate)
        for j in jobs:
            j[0] -= rate * step * 1000.0
        t += step
        counted = t >= warmup
        for cam in cams:
            if cam.decoding is not None and cam.decoding[0] <= 1e-9:
                _, arrival, place = cam.decoding
                cam.decoding = None
                if len(cam.queue) >= buffer:
                    cam.queue.popleft()
                    cam.dropped += arrival >= warmup
                cam.queue.append((arrival, place))
                start_decode(cam)
            if cam.working is not None and cam.working[0] <= 1e-9:
                arrival = cam.working[1]
                cam.working = None
                if arrival >= warmup:
                    cam.processed += 1
                    cam.latencies.append(t - arrival)
            start_work(cam)
        for i, cam in enumerate(cams):
            if next_arrival[i] <= t + 1e-12:
                k = round((next_arrival[i] - cam.offset) / interval)
                cam.pending.append((next_arrival[i], cam.place + k))
                cam.arrived += counted and next_arrival[i] >= warmup
                next_arrival[i] += interval
                start_decode(cam)
    arrived = sum(c.arrived for c in cams)
    lat = sorted(x for c in cams for x in c.latencies)
    return {"arrived": arrived, "dropped": sum(c.dropped for c in cams),
            "drop_fraction": sum(c.dropped for c in cams) / arrived if arrived else None,
            "latency_p50_ms": 1000 * lat[len(lat) // 2] if lat else None,
            "latency_p99_ms": 1000 * lat[int(0.99 * (len(lat) - 1))] if lat else None}


def mean_frame_ms(costs: Costs, every: int, fine_every: int) -> float:
    """Mean CPU ms a frame (decode + take) at the schedule, every frame taken."""
    n = len(costs.ordinary)
    fine, coarse = costs.extra["fine"], costs.extra["coarse"]
    extra = (sum(fine) / len(fine) + (fine_every - 1) * sum(coarse) / len(coarse)) / (fine_every * every)
    return sum(costs.ordinary) / n + sum(costs.decode) / n + extra


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--costs", required=True, help="burst_costs.py --json output")
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--cores", type=float, default=2.0, help="cores the process gets (may be fractional)")
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--buffer", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    parser.add_argument("--stagger", nargs="+", default=["aligned", "serve", "random", "spread"])
    parser.add_argument("--spread", type=int, nargs="+", default=[1], help="frames a full detection's extra is spread over")
    parser.add_argument("--scale", type=float, nargs="+", default=[1.0], help="factor on every measured cost")
    parser.add_argument("--flat", action="store_true", help="also every frame at the trace's mean (no bursts)")
    parser.add_argument("--every", type=int, default=16)
    parser.add_argument("--fine-every", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--places", nargs="+", default=["random"], choices=("random", "same"),
                        help="where in the video each camera starts: random, or the same place for all (capacity.py)")
    parser.add_argument("--json", default=None, help="append the rows here (JSON lines)")
    args = parser.parse_args(argv)
    frames = json.loads(open(args.costs).read())["frames"]
    budget = 1000.0 * args.cores / (args.cameras * args.fps)
    rows = []
    for scale in args.scale:
        for flat in ([False, True] if args.flat else [False]):
            costs = Costs.from_frames(frames, scale, flat)
            mean = mean_frame_ms(costs, args.every, args.fine_every)
            print(f"scale {scale}{' flat' if flat else ''}: mean CPU {mean:.2f} ms a frame at every {args.every} "
                  f"(budget {budget:.1f} ms: {args.cores} cores / {args.cameras} x {args.fps:g} frames/s)")
            for places, stagger, spread, buffer in [(p, st, sp, b) for p in args.places
                                                    for st in (["aligned"] if flat else args.stagger)
                                                    for sp in ([1] if flat else args.spread) for b in args.buffer]:
                        runs = [simulate(costs, args.cameras, args.cores, buffer, args.fps, args.seconds, 10.0,
                                         args.every, args.fine_every, stagger, spread, seed, places == "same")
                                for seed in range(args.seeds)]
                        drop = sum(r["dropped"] for r in runs) / sum(r["arrived"] for r in runs)
                        p50 = sorted(r["latency_p50_ms"] for r in runs)[len(runs) // 2]
                        p99 = max(r["latency_p99_ms"] for r in runs)
                        row = {"scale": scale, "flat": flat, "mean_frame_ms": round(mean, 2), "places": places,
                               "stagger": stagger,
                               "spread": spread, "buffer": buffer, "drop_fraction": round(drop, 4),
                               "drop_by_seed": [round(r["drop_fraction"], 4) for r in runs],
                               "latency_p50_ms": round(p50, 1), "latency_p99_ms": round(p99, 1)}
                        rows.append(row)
                        print(f"  {places:6s} {'flat' if flat else stagger:8s} spread {spread}  buffer {buffer:3d}: dropped "
                              f"{100 * drop:6.2f} % (seeds {min(row['drop_by_seed']) * 100:.2f}-"
                              f"{max(row['drop_by_seed']) * 100:.2f}), latency p50 {p50:6.1f} / p99 {p99:7.1f} ms",
                              flush=True)
    if args.json:
        with open(args.json, "a") as out:
            out.write("".join(json.dumps(r) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
