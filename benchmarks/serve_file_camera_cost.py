"""What bounding ``facesel serve``'s file cameras costs (review round 11): before (OpenCV) against after (PyAV).

    python benchmarks/serve_file_camera_cost.py --before COPY_OF_MAIN/python [--rounds 2]

Not a test (not in CI). Each run is one fresh child process with ``PYTHONPATH`` set to the code
under test: ``before`` (a copy of main's ``python/`` with the compiled modules copied in, whose
file cameras decode with OpenCV) or ``after`` (this tree: FFmpeg through PyAV, every frame bounded
by the stream's stated size, ``facesel.sources.file_frames.VideoFile``). Two kinds of child,
alternated in each round, both on the arcade video (1080p, 105 frames, paced at its 25 frames/s
as serve paces a file camera: ``realtime``, lossless):

- ``source``: ``make_source`` alone (serve's file camera settings: ``buffer_frames`` 4), every
  frame taken and converted; a digest of every frame's pixels and time;
- ``serve``: a real :class:`facesel.serve.service.Service` with that one camera (not looping, the
  default pipeline, the load governor off so that the picks depend on the frames alone) until the
  camera ends; a digest of every sealed track (its frames, times, the best crop's frame, box,
  quality and pixels): equal digests mean the same picks and kept crops.

Each prints its peak resident size (``VmHWM``, MiB), wall and process CPU seconds. Only figures of
one invocation compare: the machine's load moves them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from file_decoder_cost import AFTER, alternated  # the same alternating driver (this folder is on sys.path)

CHILD = """
import hashlib, json, sys, tempfile, time
from pathlib import Path
from facesel.data import data_root
kind = sys.argv[1]
video = data_root() / "videos" / "arcade_walkers_1080p.mp4"
digest = hashlib.sha1()
wall, cpu = time.perf_counter(), time.process_time()
if kind == "source":
    from facesel.sources import make_source
    source = make_source(video, realtime=True, buffer_frames=4).start()
    count = 0
    while not source.ended:
        frame = source.read(timeout=1.0)
        if frame is not None:
            digest.update(frame.image.tobytes())
            digest.update(repr(round(frame.timestamp, 6)).encode())
            count += 1
    row = {"frames": count}
else:
    import facesel.serve.camera as camera_module
    from facesel.serve.config import parse_config
    from facesel.serve.service import Service
    from facesel.vault import create_authority, enrol_camera

    tracks = []
    write = camera_module._CameraVaultSink.write

    def kept(self, result):
        best = result.best
        tracks.append((int(result.track_id), int(result.first_frame), int(result.last_frame),
                       round(float(result.first_timestamp), 6), round(float(result.last_timestamp), 6),
                       int(best.frame_index), [round(float(v), 3) for v in best.box], round(float(best.quality), 6),
                       hashlib.sha1(best.crop.tobytes()).hexdigest()))
        write(self, result)

    camera_module._CameraVaultSink.write = kept
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        create_authority(tmp / "authority", shares=3, threshold=2, epoch_seconds=86400.0,
                         retention_seconds=7 * 86400.0, horizon_seconds=2 * 86400.0, start=time.time(), kdf_level="min")
        enrol_camera(tmp / "authority", tmp / "key", "arcade", sorted((tmp / "authority" / "shares").iterdir())[:2])
        config = parse_config({"serve": {"listen": "127.0.0.1:0"},
                               "defaults": {"authority": str(tmp / "authority" / "authority.pub")},
                               "cameras": {"arcade": {"source": str(video), "vault": str(tmp / "vault"),
                                                      "camera_key": str(tmp / "key"), "coarsen_detection": False}}})
        service = Service(config).start()
        camera = service.cameras["arcade"]
        deadline = time.monotonic() + 600
        while camera.state != "ended" and time.monotonic() < deadline:
            time.sleep(0.05)
        failed = service.stop()
    for track in sorted(tracks):
        digest.update(repr(track).encode())
    row = {"frames": camera.processed, "tracks": len(tracks), "state": camera.state, "stopped": failed}
row.update(wall=round(time.perf_counter() - wall, 2), cpu=round(time.process_time() - cpu, 2),
           digest=digest.hexdigest()[:16])
row["peak_mib"] = round(next(int(line.split()[1]) for line in open("/proc/self/status")
                             if line.startswith("VmHWM:")) / 1024, 1)
print(json.dumps(row))
"""


def run_child(python_path: Path, kind: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(python_path)}
    out = subprocess.run([sys.executable, "-c", CHILD, kind], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="a copy of main's python/ folder")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--kind", nargs="+", default=["source", "serve"], choices=("source", "serve"))
    args = parser.parse_args(argv)
    alternated(run_child, args.kind, args.before, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
