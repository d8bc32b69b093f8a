"""facesel.detect.heap: the memory YuNet frees after a frame stays mapped for the next one."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from facesel.detect import heap

# In a fresh process (the setting is per process): five detections on a 1280x720 frame after a
# first one, counting the page faults they cause. Page faults, not time: the machine may be busy.
_CHILD = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    from facesel.detect.yunet import YuNetDetector
    # the yuface engine: its C++ allocates and frees the feature maps on every call
    detector = YuNetDetector(keep_freed_memory=sys.argv[1] == "keep", engine="yuface")
    frame = (np.indices((720, 1280)).sum(0) % 256).astype(np.uint8)[:, :, None].repeat(3, 2)
    detector.detect(frame)  # the first call maps its memory in either case
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        detector.detect(frame)
    print(json.dumps({"faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
""")


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", _CHILD, mode], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["faults"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the thresholds are glibc's")
def test_yunet_frames_reuse_the_memory_of_the_frame_before():
    pytest.importorskip("yuface")
    default, kept = _faults("default"), _faults("keep")
    assert default > 1000  # glibc's defaults give the feature maps back and fault them in again
    assert kept * 20 < default


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the thresholds are glibc's")
def test_keep_freed_memory_applies_once_and_reports_it():
    assert heap.keep_freed_memory() is True
    assert heap.keep_freed_memory() is True


def test_yunet_rejects_a_non_boolean_setting():
    pytest.importorskip("yuface")
    from facesel.detect.yunet import YuNetDetector

    with pytest.raises(TypeError, match="keep_freed_memory"):
        YuNetDetector(keep_freed_memory="yes")
