"""Keep the C heap's freed memory for the next frame instead of giving it back to the kernel.

libfacedetection (YuNet) allocates its feature maps afresh on every call (about 15 MB for the
first layer at 1280x720) and frees them at the end. With glibc's default settings such blocks
are either served by ``mmap`` or trimmed from the top of the heap when freed, so every frame pays
again for page faults and for the kernel zeroing those pages. Fixing both thresholds keeps the
pages mapped between frames. Measured on 24 arcade frames (1080p shrunk to 1280x720), one
thread, each setting in its own process, twice: 139.5 / 142.1 CPU ms a frame with glibc's
defaults, 111.2 / 112.5 with both thresholds fixed (``python benchmarks/detector_heap.py``);
either threshold alone was no better than the defaults.

The setting is per process and only touches glibc's allocator; elsewhere (musl, macOS,
Windows) it is skipped. Peak memory grows by at most the trim threshold.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading

M_TRIM_THRESHOLD = -1
"""glibc ``mallopt`` parameter: free memory kept at the top of a heap before it is trimmed."""
M_ARENA_MAX = -8
"""glibc ``mallopt`` parameter: most heaps (arenas) the threads of the process may spread over."""
M_MMAP_THRESHOLD = -3
"""glibc ``mallopt`` parameter: blocks at least this large are served by ``mmap``; setting it
also stops glibc from moving the threshold by itself."""

MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
"""Largest value glibc accepts on 64-bit systems; YuNet's largest block at 1280x720 is smaller."""
TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024
"""Free memory a heap may keep for the next frame (bounds the peak memory this costs)."""

_lock = threading.Lock()
_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds once per process; True when they are in force.

    Idempotent and thread-safe; returns False (and changes nothing) where the C library is not
    glibc or refuses a value.
    """
    global _applied
    with _lock:
        if _applied is None:
            _applied = _set_thresholds()
        return _applied


def _set_thresholds() -> bool:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # only glibc has this symbol (and these mallopt parameters)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1
    if not ok:
        logging.getLogger("facesel").debug("glibc refused the heap thresholds; detection pays page faults")
    return ok


_arenas: int | None = None


def limit_arenas(count: int) -> bool:
    """Let the process's threads share at most ``count`` glibc heaps (arenas); True when in force.

    glibc gives each thread that meets a busy heap a heap of its own, up to 8 per core; with the
    thresholds of :func:`keep_freed_memory` each heap keeps up to ``TRIM_THRESHOLD_BYTES`` of freed
    frames. ``facesel serve`` runs about six threads per camera, so every extra camera brought
    heaps of its own: measured on the arcade video (3 cameras, one process), 218 MiB per extra
    camera with glibc's default and 135 MiB with ``MALLOC_ARENA_MAX=2`` (issue 27). Call before the
    threads start: heaps already made stay. Elsewhere than glibc nothing is changed (False).
    """
    global _arenas
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be an integer >= 1, got {count!r}")
    with _lock:
        if _arenas == count:
            return True
        name = ctypes.util.find_library("c")
        try:
            libc = ctypes.CDLL(name or "libc.so.6")
            mallopt = libc.mallopt
            libc.gnu_get_libc_version
        except (OSError, AttributeError):
            return False
        mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        if mallopt(M_ARENA_MAX, count) != 1:
            return False
        _arenas = count
        return True
