"""Each shared video's frame rate and frame count as ``facesel.video.open_source`` reports them (ops22).

    PYTHONPATH=python python experiments/open_source_probe.py OUT.json
    PYTHONPATH=COPY_OF_MAIN/python python experiments/open_source_probe.py BEFORE.json

Writes ``{path: [fps, frame_count, frame_count with every=3 and max_frames=7]}`` for every
``.mp4``, ``.mkv`` and ``.gif`` under ``$FACESEL_DATA/videos``; two such files compare the probe
before and after a change (ops22 moved it from OpenCV's ``VideoCapture`` to PyAV: 39 of 39 equal).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from facesel.video import open_source


def main(out: str) -> None:
    """Probe every shared video and write the JSON to ``out``."""
    found = {}
    for path in sorted(Path(os.environ["FACESEL_DATA"], "videos").rglob("*")):
        if path.suffix.lower() in (".mp4", ".mkv", ".gif"):
            whole = open_source(path)
            found[str(path)] = [whole.fps, whole.frame_count, open_source(path, every=3, max_frames=7).frame_count]
    Path(out).write_text(json.dumps(found, indent=1))
    print(f"{len(found)} videos probed")


if __name__ == "__main__":
    main(sys.argv[1])
