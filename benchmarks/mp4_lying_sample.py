"""Memory an MP4 stating a huge sample costs its HTTP reader (review round 15a, finding 4).

    python benchmarks/mp4_lying_sample.py

A loopback server (tests/lying_mp4.py) sends a 320 x 240 MP4 with ``moov`` first whose third
sample's stated size (``stsz``) is 40 MiB, 100 MiB, 400 MiB or 1 GiB less 64 KiB, then 128 MiB of
filler at loopback speed, then silence; the harmless comparison is the same file as it is. A fresh
process per stream reads it with ``PyAVConnection`` (``read_timeout`` 3 s, ``max_frame_pixels``
640 x 480, as ``tests/test_http_raw_formats.py``) and prints its own peak resident size
(``VmHWM``) minus the harmless one's, in the same run. Not a test: nothing is asserted.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import lying_mp4  # noqa: E402
from test_http_raw_formats import _read_in_child  # noqa: E402


def main() -> None:
    with lying_mp4.LyingMP4Server("good") as server:
        harmless = _read_in_child(server.url)
    print(f"harmless: {harmless['frames']} frames, peak {harmless['peak_kib']} KiB")
    for stated in (40 << 20, 100 << 20, 400 << 20, 0x3FFF0000):
        lying_mp4.STATED = stated
        with lying_mp4.LyingMP4Server("lying") as server:
            seen = _read_in_child(server.url)
        print(f"stated {stated >> 20} MiB, {lying_mp4.OFFERED >> 20} MiB offered: "
              f"{seen['peak_kib'] - harmless['peak_kib']:+d} KiB, {seen['frames']} frames, {seen['why']}")


if __name__ == "__main__":
    main()
