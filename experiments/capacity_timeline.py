"""When do paced cameras drop frames? A timeline of drops, full detections and sealed tracks (issue 27).

Runs ``--cameras`` paced looping cameras through ``facesel serve``'s own code (the configuration of
``benchmarks/capacity.py``, one of its ``--variant`` names) and samples every camera's counters
every ``--tick`` seconds: frames received and dropped by the source, full-frame detections of its
schedule, tracks sealed. Then it reports, over the last ``--seconds``:

- drops per camera and how bursty they are (the share of drops in the busiest 10 % of 100 ms bins);
- whether cameras drop together (the share of a camera's drop bins in which another camera
  dropped too, against what independent cameras with the same drop rates would give);
- whether cameras run their full-frame detections together (the share of one camera's full
  detections that fall within one frame interval, 40 ms, of another camera's);
- drops in the 200 ms after a track was sealed against elsewhere (bursts of finaliser work);
- each break's flush (every open track closed at once: each pass of a looping file): how long it
  held the camera's pipeline thread (wall and that thread's CPU, ``Selector.flush`` timed), and the
  camera's drops in the second after the flush started against its drop rate elsewhere;
- the load governor's steps (``ScheduleGovernor.changes``) in the window: coarsenings and
  refinements, how many refinements were undone by a coarsening within ``--undo-frames`` frames,
  how many coarsenings a gap (a drop) forced, and the window's drops split by the kind of step
  that set the schedule in force when they happened (a refinement, a coarsening, none yet);
- each camera's schedule and queue depth sampled every ``--tick`` (session 16): its time and drops
  split by the schedule in force and by the governor's last step (kind, and under 1 s / 1-3 s / more
  since it), with the mean frames waiting in each (``by_schedule``, ``by_last_step``), and with
  ``--segments`` its timeline: the stretches of one schedule, their drops and deepest queue.

Not a test: a diagnosis tool. Figures depend on the machine's load; compare only within one run.
``python experiments/capacity_timeline.py --video /tmp/arcade_720p.mp4 --cameras 4 --seconds 20``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


_FLUSHES: list = []  # (thread name, start, end, thread CPU seconds) of every Selector.flush


def _time_flushes() -> None:
    """Time every ``Selector.flush`` (the experiment's own instrument; the pipeline is unchanged)."""
    from facesel.selector import Selector

    original = Selector.flush

    def flush(self):
        start, cpu = time.monotonic(), time.thread_time()
        try:
            return original(self)
        finally:
            _FLUSHES.append((threading.current_thread().name, start, time.monotonic(), time.thread_time() - cpu))

    Selector.flush = flush


def flush_figures(rows: np.ndarray, names: list[str], window: float = 1.0) -> dict:
    """Per break: the flush's wall and CPU ms, and the camera's drops in ``window`` s from its start
    against the same camera's drop rate outside such windows (excess drops per break)."""
    t0, t1 = rows[0, 0], rows[-1, 0]
    mine = [f for f in _FLUSHES if t0 <= f[1] <= t1]
    if not mine:
        return {}
    excess = []
    for i, name in enumerate(names):
        dropped = rows[:, 1 + 4 * i]
        starts = [f[1] for f in mine if f[0] == f"camera:{name}"]
        inside = np.zeros(len(rows), bool)
        for s in starts:
            inside |= (rows[:, 0] >= s) & (rows[:, 0] < s + window)
        grew = np.diff(dropped, prepend=dropped[0])
        if starts and (~inside).any():
            rate = grew[~inside].sum() / ((~inside).sum() / len(rows) * (t1 - t0))
            excess.append(float(grew[inside].sum() / len(starts) - rate * window))
    wall = [1000 * (f[2] - f[1]) for f in mine]
    return {"flushes": len(mine), "flush_wall_ms_p50_p90": [round(float(np.percentile(wall, q)), 1) for q in (50, 90)],
            "flush_cpu_ms_p50": round(float(np.median([1000 * f[3] for f in mine])), 1),
            "excess_drops_per_break": round(float(np.mean(excess)), 2) if excess else None}


def _sample(cams, stop: threading.Event, tick: float, rows: list, states: list) -> None:
    """Every ``tick`` s: the counters of each camera into ``rows`` (4 a camera) and its state into
    ``states`` (3 a camera: ``detect_every``, two tiers on by the governor, frames waiting)."""
    while not stop.is_set():
        now = time.monotonic()
        row, state = [now], [now]
        for cam in cams:
            source, adapter, governor = cam.source, cam.adapter, cam.governor
            row += [source.stats.frames_dropped if source else 0,
                    adapter.selector.schedule.full if adapter else 0, cam.sealed, cam.processed]
            state += [adapter.selector.schedule.every if adapter else 0,
                      bool(governor.tiered) if governor else False, source.pending if source else 0]
        rows.append(row)
        states.append(state)
        stop.wait(tick)


def _events(times: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The times at which a counter grew, one entry per unit it grew by."""
    grew = np.diff(counts, prepend=counts[0])
    return np.repeat(times, np.maximum(grew, 0).astype(int))


def analyse(rows: np.ndarray, cameras: int, frame_s: float = 0.04) -> dict:
    t = rows[:, 0] - rows[0, 0]
    per = [rows[:, 1 + 4 * i: 5 + 4 * i] for i in range(cameras)]
    drops = [_events(t, p[:, 0]) for p in per]
    fulls = [_events(t, p[:, 1]) for p in per]
    sealed = [_events(t, p[:, 2]) for p in per]
    span = t[-1]
    bins = np.arange(0.0, span + 0.1, 0.1)
    hist = np.array([np.histogram(d, bins)[0] for d in drops])
    out = {"seconds": round(float(span), 1), "dropped": [len(d) for d in drops],
           "processed": [int(p[-1, 3] - p[0, 3]) for p in per], "full_detections": [len(f) for f in fulls],
           "sealed": [len(s) for s in sealed]}
    total = hist.sum(axis=0)
    if total.sum():
        top = np.sort(total)[::-1][: max(1, len(total) // 10)]
        out["share_of_drops_in_busiest_10pct_bins"] = round(float(top.sum() / total.sum()), 3)
    # cameras dropping together: for each camera's drop bins, was another camera dropping in that bin?
    together, expected = [], []
    for i in range(cameras):
        mine = hist[i] > 0
        others = (np.delete(hist, i, axis=0) > 0).any(axis=0)
        if mine.sum():
            together.append(float((mine & others).sum() / mine.sum()))
            expected.append(float(others.mean()))
    out["drop_bins_shared_with_another_camera"] = round(float(np.mean(together)), 3) if together else None
    out["same_if_independent"] = round(float(np.mean(expected)), 3) if expected else None
    # full detections falling together: within one frame interval of another camera's
    near = []
    for i in range(cameras):
        others = np.sort(np.concatenate([fulls[j] for j in range(cameras) if j != i] or [np.zeros(0)]))
        for x in fulls[i]:
            k = np.searchsorted(others, x)
            gap = min(abs(x - others[k]) if k < len(others) else np.inf, abs(x - others[k - 1]) if k else np.inf)
            near.append(gap <= frame_s)
    out["full_within_one_frame_of_another_camera"] = round(float(np.mean(near)), 3) if near else None
    # drops right after a track was sealed (any camera's: the finaliser's work holds the GIL for all)
    all_sealed = np.sort(np.concatenate(sealed)) if any(len(s) for s in sealed) else np.zeros(0)
    after = np.zeros(len(bins) - 1, bool)
    for s in all_sealed:
        after |= (bins[:-1] >= s) & (bins[:-1] < s + 0.2)
    if after.any() and (~after).any():
        out["drops_per_bin_within_200ms_after_a_seal"] = round(float(total[after].mean()), 3)
        out["drops_per_bin_elsewhere"] = round(float(total[~after].mean()), 3)
        out["share_of_bins_after_a_seal"] = round(float(after.mean()), 3)
    # drop timing against each camera's own loop of the video (the arcade video is 4.2 s long)
    return out


def _level(change: tuple) -> tuple[int, bool]:
    """A change entry's schedule: (detect_every, two tiers on)."""
    return change[2], change[5]


def governor_figures(changes: list, observed0: int, dropped0: int, dropped1: int, undo_frames: int) -> dict:
    """One camera's governor steps after frame ``observed0`` (``ScheduleGovernor.changes`` entries:
    observed, sequence, every, dropped, gap) and its drops between ``dropped0`` and ``dropped1``
    split by the step that set the schedule in force when they were seen (drops are counted at
    the next step, or at the window's end)."""
    # a schedule is (every, two tiers on): a tier step keeps every (entries before session 13 have no 7th field)
    steps = [(*c[:5], c[6] if len(c) > 6 else False) for c in changes if c[0] > observed0]
    changes = [(*c[:5], c[6] if len(c) > 6 else False) for c in changes]
    out = {"coarsened": 0, "refined": 0, "coarsened_by_gap": 0, "refined_then_coarsened_within": 0,
           "drops_after_refinement": 0, "drops_after_coarsening": 0, "drops_before_any_step": 0,
           "every_sequence": [c[2] for c in steps]}
    before = [c for c in changes if c[0] <= observed0]
    kind = ("refined" if len(before) > 1 and _level(before[-1]) < _level(before[-2]) else "coarsened") if before else None
    last_drops = dropped0
    for i, (observed, _, every, dropped, gap, _tiers) in enumerate(steps):
        previous = _level(steps[i - 1]) if i else (_level(before[-1]) if before else None)
        finer = previous is not None and _level(steps[i]) < previous
        bucket = {"refined": "drops_after_refinement", "coarsened": "drops_after_coarsening"}.get(kind, "drops_before_any_step")
        out[bucket] += max(0, dropped - last_drops)
        last_drops = max(last_drops, dropped)
        if finer:
            out["refined"] += 1
            nxt = steps[i + 1] if i + 1 < len(steps) else None
            if nxt is not None and _level(nxt) > _level(steps[i]) and nxt[0] - observed <= undo_frames:
                out["refined_then_coarsened_within"] += 1
            kind = "refined"
        else:
            out["coarsened"] += 1
            out["coarsened_by_gap"] += int(gap)
            kind = "coarsened"
    bucket = {"refined": "drops_after_refinement", "coarsened": "drops_after_coarsening"}.get(kind, "drops_before_any_step")
    out[bucket] += max(0, dropped1 - last_drops)
    out["dropped"] = dropped1 - dropped0
    return out


def drops_in_failed_refinements(changes: list, drop_times: np.ndarray, t0: float, t1: float, after: float = 1.0) -> dict:
    """Drops (monotonic times) inside the spans from a refinement to ``after`` s past the coarsening
    that undid it (or to the next step), against drops elsewhere in [t0, t1], per second."""
    spans = []
    for i in range(1, len(changes)):
        if changes[i][2] < changes[i - 1][2]:  # a refinement
            end = changes[i + 1][5] + after if i + 1 < len(changes) and changes[i + 1][2] > changes[i][2] else (
                changes[i + 1][5] if i + 1 < len(changes) else t1)
            spans.append((max(t0, changes[i][5]), min(t1, end)))
    spans = [(a, b) for a, b in spans if b > a]
    inside = np.zeros(len(drop_times), bool)
    for a, b in spans:
        inside |= (drop_times >= a) & (drop_times < b)
    seconds_in = sum(b - a for a, b in spans)
    seconds_out = (t1 - t0) - seconds_in
    return {"seconds_in_refinement_spans": round(seconds_in, 2), "drops_in": int(inside.sum()),
            "drops_out": int((~inside).sum()),
            "drops_per_s_in": round(inside.sum() / seconds_in, 2) if seconds_in > 0 else None,
            "drops_per_s_out": round((~inside).sum() / seconds_out, 2) if seconds_out > 0 else None}


SINCE_EDGES = (1.0, 3.0)
"""Seconds since the governor's last step that split a camera's time into "just after", "after" and "settled"."""


def _last_step(changes: list, t: float) -> tuple | None:
    """The governor's last step at or before monotonic time ``t``: (kind, time, level), kind
    "refined" or "coarsened" (a step to a finer or coarser schedule than the one before it)."""
    last, previous = None, None
    for c in changes:
        level = (c[2], bool(c[6]) if len(c) > 6 else False)
        if c[5] > t:
            break
        kind = "refined" if previous is not None and level < previous else "coarsened"
        last, previous = (kind, c[5], level), level
    return last


def _key(every: float, tiered: float) -> str:
    return f"{int(every)}+tiers" if tiered else str(int(every))


def drops_by_state(times: np.ndarray, dropped: np.ndarray, every: np.ndarray, tiered: np.ndarray,
                   pending: np.ndarray, changes: list) -> dict:
    """One camera's sampled time and drops split two ways: by the schedule in force (``detect_every``
    and tiers), and by the governor's last step (its kind and the seconds since it, cut at
    :data:`SINCE_EDGES`). For each part: seconds spent, drops, drops a minute, mean frames waiting.

    ``times`` (float64, monotonic s), ``dropped`` (the source's cumulative drop count), ``every``,
    ``tiered``, ``pending``: one value a sample, shape (samples,)."""
    grew = np.maximum(np.diff(dropped, prepend=dropped[0]), 0)
    dt = np.diff(times, append=times[-1])
    by_level, by_step = {}, {}
    for i in range(len(times)):
        level = _key(every[i], tiered[i])
        step = _last_step(changes, times[i])
        if step is None:
            since = "no step yet"
        else:
            age = times[i] - step[1]
            cut = next((f"<{edge:g} s" for edge in SINCE_EDGES if age < edge), f">={SINCE_EDGES[-1]:g} s")
            since = f"{step[0]} {cut}"
        for table, key in ((by_level, level), (by_step, since)):
            part = table.setdefault(key, [0.0, 0, 0.0])
            part[0] += dt[i]
            part[1] += int(grew[i])
            part[2] += pending[i] * dt[i]
    def summary(table):
        return {key: {"seconds": round(sec, 1), "drops": n, "drops_per_min": round(60 * n / sec, 2) if sec else None,
                      "mean_waiting": round(w / sec, 2) if sec else None} for key, (sec, n, w) in sorted(table.items())}
    return {"by_schedule": summary(by_level), "by_last_step": summary(by_step)}


def segments(times: np.ndarray, dropped: np.ndarray, every: np.ndarray, tiered: np.ndarray,
             pending: np.ndarray) -> list:
    """One camera's run as stretches of one schedule: [start s (from the first sample), schedule,
    seconds, drops, most frames waiting], in order (the timeline, printed with ``--segments``)."""
    out, start = [], 0
    grew = np.maximum(np.diff(dropped, prepend=dropped[0]), 0)
    keys = [_key(e, t) for e, t in zip(every, tiered)]
    for i in range(1, len(times) + 1):
        if i == len(times) or keys[i] != keys[start]:
            end = min(i, len(times) - 1)
            out.append([round(float(times[start] - times[0]), 2), keys[start], round(float(times[end] - times[start]), 2),
                        int(grew[start:i].sum()), int(pending[start:i].max())])
            start = i
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", nargs="+", required=True)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=6.0)
    parser.add_argument("--tick", type=float, default=0.01)
    parser.add_argument("--variant", default="base")
    parser.add_argument("--undo-frames", type=int, default=150,
                        help="a refinement undone by a coarsening within this many frames counts as failed")
    parser.add_argument("--raw", default=None, help="write the sampled counters here (.npy)")
    parser.add_argument("--segments", action="store_true",
                        help="also print each camera's timeline: stretches of one schedule with their drops")
    parser.add_argument("--json", default=None, help="append the run's figures here (JSON lines)")
    args = parser.parse_args()
    _time_flushes()
    import capacity
    from facesel.serve.service import Service

    camera_settings, switch, pipeline_settings = capacity.VARIANTS[args.variant]
    if switch is not None:
        sys.setswitchinterval(switch)
    with tempfile.TemporaryDirectory(prefix="facesel-timeline-") as folder:
        config = capacity.make_config(Path(folder), [Path(v) for v in args.video], args.cameras,
                                      {"scorer": "default", **pipeline_settings}, True,
                                      camera_settings=camera_settings)
        service = Service(config).start()
        try:
            time.sleep(args.warmup)
            cams = service.camera_list()
            governed0 = {cam.config.name: (cam.governor.observed if cam.governor else 0,
                                           cam.source.stats.frames_dropped if cam.source else 0) for cam in cams}
            rows: list = []
            states: list = []
            stop = threading.Event()
            sampler = threading.Thread(target=_sample, args=(cams, stop, args.tick, rows, states), daemon=True)
            sampler.start()
            time.sleep(args.seconds)
            stop.set()
            sampler.join()
            every = {cam.config.name: cam.adapter.selector.schedule.every for cam in cams}
            names = [cam.config.name for cam in cams]
            governor = {cam.config.name: governor_figures(list(cam.governor.changes), *governed0[cam.config.name],
                                                          cam.source.stats.frames_dropped, args.undo_frames)
                        for cam in cams if cam.governor is not None and cam.source is not None}
            spans_changes = {cam.config.name: list(cam.governor.changes) for cam in cams if cam.governor is not None}
        finally:
            service.stop(timeout=60)
    data = np.asarray(rows, float)
    state = np.asarray(states, float)
    if args.raw:
        np.save(args.raw, data)
    timeline = {}
    for i, name in enumerate(names):
        if name in governor:
            governor[name].update(drops_in_failed_refinements(spans_changes[name], _events(data[:, 0], data[:, 1 + 4 * i]),
                                                              data[0, 0], data[-1, 0]))
            columns = (data[:, 0], data[:, 1 + 4 * i], state[:, 1 + 3 * i], state[:, 2 + 3 * i], state[:, 3 + 3 * i])
            governor[name].update(drops_by_state(*columns, spans_changes[name]))
            timeline[name] = segments(*columns)
    out = {"variant": args.variant, "detect_every_at_end": every, **analyse(data, args.cameras),
           **flush_figures(data, names), "governor": governor}
    print(json.dumps(out))
    if args.segments:
        for name, stretches in timeline.items():
            print(f"{name}: [start s, schedule, seconds, drops, most waiting] " + json.dumps(stretches))
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps({**out, "timeline": timeline}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
