"""Where FFmpeg reads an MP4's lying sample: inside ``av.open`` when it is the first (review rounds 16a, 17b).

    python benchmarks/mp4_lying_first_sample.py

Round 15c's open item asked whether FFmpeg's allocation cap could follow the stream's own stated
frame size (known once ``av.open`` returns) instead of the configured ``max_frame_pixels``. Part 1
reads the loopback lying MP4 of ``tests/lying_mp4.py`` (320 x 240, 100 MiB stated) in this process,
with the cap set for the default bound (8K UHD, about 317 MiB), once with the first sample lying and
once with the third, and prints the growth of the peak resident size (``VmHWM``) during ``av.open``.
Measured (session 25): first sample +102,636 KiB inside ``av.open`` (``avformat_find_stream_info``
reads a first packet to learn the pixel format), third sample +0 KiB there. A URL is not read by
:mod:`facesel.sources.mp4_boxes` (round 17b): part 1 stays as it was.

Part 2 (round 17b): the same MP4 as a local file (``mdat`` to the file's end, 128 MiB of zeros
behind the frames, a hole on disk), the first sample stated as 100 MiB, against the same file
stating every sample as it is; each opened in a fresh process (the peak cannot be seen again) by
``av.open`` alone (what ``facesel.sources.file_frames.VideoFile`` did before round 17b) and by
``VideoFile`` now, default ``max_frame_pixels``. Prints each one's peak and the growth over the
harmless file opened the same way. Not a test: nothing is asserted.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import av  # noqa: E402
import lying_mp4  # noqa: E402
from peak_memory import run_fresh  # noqa: E402

from facesel.sources.alloc_cap import raise_cap  # noqa: E402
from facesel.sources.frame_limit import MAX_FRAME_PIXELS  # noqa: E402

_OPEN = r"""
import json, sys
from peak_memory import peak_kib
from facesel.sources.bounded_decoder import open_options
from facesel.sources.frame_limit import MAX_FRAME_PIXELS
import av
from facesel.sources.file_frames import VideoFile
before = peak_kib()
try:
    if sys.argv[2] == "av.open":
        av.open(sys.argv[1], options=open_options(MAX_FRAME_PIXELS)).close()
    else:
        VideoFile(__import__("pathlib").Path(sys.argv[1]), MAX_FRAME_PIXELS).close()
    why = "opened"
except ValueError as err:
    why = str(err)
print(json.dumps({"growth_kib": peak_kib() - before, "peak_kib": peak_kib(), "why": why}))
"""


def _peak_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))


def over_http() -> None:
    """Part 1: the URL, first and third sample lying, in this process."""
    print(f"cap {raise_cap(MAX_FRAME_PIXELS)} bytes")
    lying_mp4.STATED = 100 << 20
    whole = lying_mp4.lying
    for sample in (0, 2):  # the first lying sample first: a peak reached cannot be seen again
        lying_mp4.lying = lambda mp4, sample=sample: whole(mp4, sample)
        with lying_mp4.LyingMP4Server("lying") as server:
            before = _peak_kib()
            container = av.open(server.url, options={"rw_timeout": "3000000"}, timeout=3)
            print(f"sample {sample} lying: +{_peak_kib() - before} KiB of peak inside av.open")
            container.close()
    lying_mp4.lying = whole


def local_file() -> None:
    """Part 2: the local file, harmless and lying, by ``av.open`` alone and by ``VideoFile``."""
    with tempfile.TemporaryDirectory() as folder:
        files = {"harmless": Path(folder) / "harmless.mp4", "lying": Path(folder) / "lying.mp4"}
        lying_mp4.write_local(files["harmless"], 0)
        lying_mp4.write_local(files["lying"], 100 << 20, sample=0)
        for reader in ("av.open", "VideoFile"):
            got = {}
            for name, path in files.items():
                done = run_fresh(_OPEN, path, reader, timeout=120)
                got[name] = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else \
                    {"growth_kib": None, "peak_kib": None, "why": done.stderr.strip()[-300:]}
            for name in files:
                print(f"local {name:8} by {reader:9}: peak {got[name]['peak_kib']} KiB, +{got[name]['growth_kib']} "
                      f"KiB in the open; {got[name]['why'][:160]}")
            if got["lying"]["peak_kib"] and got["harmless"]["peak_kib"]:
                print(f"  lying over harmless by {reader}: {got['lying']['peak_kib'] - got['harmless']['peak_kib']:+d} "
                      "KiB of peak")


def main() -> None:
    if "--local-only" not in sys.argv:
        over_http()
    local_file()


if __name__ == "__main__":
    main()
