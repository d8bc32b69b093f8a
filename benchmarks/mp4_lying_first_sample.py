"""Where FFmpeg reads an MP4's lying sample: inside ``av.open`` when it is the first (review round 16a).

    python benchmarks/mp4_lying_first_sample.py

Round 15c's open item asked whether FFmpeg's allocation cap could follow the stream's own stated
frame size (known once ``av.open`` returns) instead of the configured ``max_frame_pixels``. This
reads the loopback lying MP4 of ``tests/lying_mp4.py`` (320 x 240, 100 MiB stated) in this process,
with the cap set for the default bound (8K UHD, about 317 MiB), once with the first sample lying and
once with the third, and prints the growth of the peak resident size (``VmHWM``) during ``av.open``.
Not a test: nothing is asserted. Measured (session 25): first sample +102,636 KiB inside ``av.open``
(``avformat_find_stream_info`` reads a first packet to learn the pixel format), third sample +0 KiB
there (it is read by the demuxing after). A cap lowered after ``av.open`` bounds only the second case.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import av  # noqa: E402
import lying_mp4  # noqa: E402

from facesel.sources.alloc_cap import raise_cap  # noqa: E402
from facesel.sources.frame_limit import MAX_FRAME_PIXELS  # noqa: E402


def _peak_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))


def main() -> None:
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


if __name__ == "__main__":
    main()
