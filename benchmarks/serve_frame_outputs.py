"""What one ``facesel serve`` camera's pipeline outputs, frame by frame, as one digest per code tree:
the check that two trees counted by ``frame_instructions.py`` did the same work (issue 27, session 25).

    python benchmarks/serve_frame_outputs.py --trees /tmp/pre-cap25 . [--height 720] [--frames 60] \
        [--set detect_every=16] [--out /tmp/outputs.json]

Not a test (not in CI). The pipeline is ``frame_instructions.py``'s (``capacity.make_config``:
serve's config checking, the camera's settings and ``SERVE_PIPELINE_DEFAULTS``; the file decoded by
serve's file camera, ``FileConnection``; every stage on one thread), run natively in a child per
tree (``PYTHONPATH`` = the tree's ``python``; the editable install's import hook dropped), with an
in-memory sink instead of the vault's (sealing draws fresh keys, so sealed bytes differ by design;
what is sealed is the delivered result, digested here). Recorded for every frame: every field of
every :class:`facesel.select.view.TrackView` (floats by ``repr``: every bit), whether the whole
frame was searched, the detector's work counters; for every delivered result (on a frame and at
the flush): every field of the :class:`SelectedTrack`, arrays (the kept crops, thumbnails, boxes)
as sha256 of their dtype, shape and bytes. Nothing is written to disk but the digests (no crop).
The parent prints each tree's overall sha256 and the first frame where two trees differ.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_args import add_child_arguments, add_video_arguments, maybe_transcoded, own_facesel, serve_camera, video_path

HERE = Path(__file__).resolve().parent


def canonical(value):
    """``value`` as JSON-able data: arrays as digests of their bytes, floats by ``repr``."""
    import numpy as np

    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        return f"{array.dtype}{array.shape}:" + hashlib.sha256(array.tobytes()).hexdigest()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return repr(value)


class _MemorySink:
    """Keeps each delivered result's digest (never the crop itself)."""

    def __init__(self):
        self.results = []

    def write(self, result) -> None:
        self.results.append(canonical(result))

    def tick(self, now: float) -> None:
        pass

    def close(self) -> None:
        pass


def child(args) -> int:
    """Run in the tree's own process: the pipeline over ``--frames`` frames, the digests to ``--child-out``."""
    own_facesel()
    import facesel
    from capacity import extra_settings
    from facesel.sources import backends

    settings = {"threads": 1, **extra_settings(args.set)}
    video = Path(args.video)
    sink = _MemorySink()
    frames_out = []
    with serve_camera(video, settings, lambda camera: ([sink], None), prefix="facesel-frame-outputs-") as (adapter, _):
        selector = adapter.selector
        connection = backends.FileConnection(video, loop=True)

        def frames():
            for _ in range(args.frames):
                yield connection.read()

        for view in selector.run(frames(), live=False):
            frames_out.append({"frame": view.frame_index, "full": bool(view.full_detection),
                               "tracks": canonical(view.tracks), "closed": [r.track_id for r in view.closed],
                               "work": canonical(dict(selector.work))})
        flushed = selector.flush()
        connection.close()
    record = {"facesel": facesel.__file__, "frames": frames_out, "results": sink.results,
              "flushed": [canonical(r) for r in flushed]}
    Path(args.child_out).write_text(json.dumps(record))
    return 0


def _digest(record: dict) -> str:
    return hashlib.sha256(json.dumps({k: record[k] for k in ("frames", "results", "flushed")},
                                     sort_keys=True).encode()).hexdigest()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_video_arguments(parser)
    parser.add_argument("--frames", type=int, default=60, help="frames read from the start of the file")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="pipeline settings of the camera (serve's defaults otherwise)")
    parser.add_argument("--trees", nargs="+", default=["."], help="code trees to run, each in turn")
    parser.add_argument("--out", default=None, help="write every tree's records here (JSON: digests only)")
    add_child_arguments(parser)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    video = video_path(args.video)
    records = []
    with tempfile.TemporaryDirectory(prefix="facesel-outputs-") as scratch:
        video = maybe_transcoded(video, args.height, Path(scratch))
        for i, tree in enumerate(args.trees):
            out = Path(scratch) / f"tree{i}.json"
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join([str(Path(tree).resolve() / "python"), env.get("PYTHONPATH", "")])
            command = [sys.executable, str(Path(__file__).resolve()), "--child", "--child-out", str(out),
                       "--video", str(video), "--frames", str(args.frames), "--set", *args.set]
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"{tree}: the child failed ({done.returncode}):\n{done.stderr[-4000:]}")
            record = json.loads(out.read_text())
            records.append(record)
            faces = sum(len(f["tracks"]) for f in record["frames"])
            print(f"{tree}: {video.name}, {len(record['frames'])} frames, {faces} faces in view, "
                  f"{len(record['results'])} + {len(record['flushed'])} results; sha256 {_digest(record)}; "
                  f"facesel from {record['facesel']}", flush=True)
    first = records[0]
    for tree, record in zip(args.trees[1:], records[1:]):
        differ = [a["frame"] for a, b in zip(first["frames"], record["frames"]) if a != b]
        same = _digest(record) == _digest(first)
        print(f"{tree} against {args.trees[0]}: {'byte-identical' if same else 'DIFFERENT'}"
              + (f" (first frame that differs: {differ[0]})" if differ else ""))
    if args.out:
        Path(args.out).write_text(json.dumps({"trees": args.trees, "video": str(video), "records": records}))
    return 0 if all(_digest(r) == _digest(first) for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
