"""Peak memory of decoded frames held in flight, by how their BGR arrays are made.

    python experiments/held_frames_memory.py own|views|copies|aligned-copies [--threads 4] [--held 10] \
        [--frames 200] [--small 3]

Run in a fresh process (the peak is the process's): ``--threads`` threads each decode the arcade
1080p video with PyAV (one decoding thread, as serve's cameras) and convert every picture to BGR,
keep the last ``--held`` frames and hand older ones to one consumer thread that lets them go (frames
in flight across cameras and the pipeline's threads, as in ``facesel serve``), and with each frame
makes ``--small`` small arrays (2-40 kB, ``malloc``'d by numpy) of which it keeps the last 60 (the
pipeline's crops, squares and detections live about as long). ``own``:
:func:`facesel.sources.own_bgr.bgr` (FFmpeg's conversion into a numpy array); ``views``: PyAV's
``to_ndarray`` (a view of PyAV's frame, serve's stream cameras before session 22); ``copies``: that
view copied into a numpy array (``benchmarks/capacity.py``'s ``+copy`` variants); ``aligned-copies``:
that view copied into a buffer from glibc's ``posix_memalign`` (64 bytes, as FFmpeg's ``av_malloc``
allocates PyAV's frames), wrapped as a numpy array: the copies with PyAV's allocation. Prints one JSON
line: peak ``VmHWM`` MiB, process CPU seconds and a digest of every frame's pixels (the same in
every mode). Session 22, docs/performance.md.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import queue
import threading
import time

import numpy as np


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _aligned_copy(frame: np.ndarray) -> np.ndarray:
    """``frame``'s pixels in a ``posix_memalign``'d (64-byte) buffer, freed with the returned array."""
    import weakref

    libc = ctypes.CDLL(None)
    libc.posix_memalign.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t, ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    pointer = ctypes.c_void_p()
    if libc.posix_memalign(ctypes.byref(pointer), 64, frame.nbytes) != 0:
        raise MemoryError("posix_memalign failed")
    buffer = (ctypes.c_uint8 * frame.nbytes).from_address(pointer.value)
    weakref.finalize(buffer, libc.free, pointer.value)
    copy = np.frombuffer(buffer, dtype=np.uint8).reshape(frame.shape)
    copy[...] = frame
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("own", "views", "copies", "aligned-copies"))
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--held", type=int, default=10)
    parser.add_argument("--frames", type=int, default=200, help="frames a thread decodes (the video loops)")
    parser.add_argument("--small", type=int, default=3, help="small arrays made with each frame")
    args = parser.parse_args()
    import av

    from facesel.data import data_root_or_exit
    from facesel.sources import own_bgr

    video = str(data_root_or_exit() / "videos" / "arcade_walkers_1080p.mp4")
    convert = {"own": own_bgr.bgr,
               "views": lambda picture: picture.to_ndarray(format="bgr24", threads=1),
               "copies": lambda picture: np.array(picture.to_ndarray(format="bgr24", threads=1), order="C"),
               "aligned-copies": lambda picture: _aligned_copy(picture.to_ndarray(format="bgr24", threads=1)),
               }[args.mode]
    released: queue.Queue = queue.Queue(maxsize=4)
    digests = [hashlib.sha256() for _ in range(args.threads)]

    def consume() -> None:
        while released.get() is not None:
            pass

    def decode(index: int) -> None:
        held: list[np.ndarray] = []
        small: list[np.ndarray] = []
        sizes = iter(np.random.default_rng(index).integers(2_000, 40_000, size=args.small * args.frames))
        done = 0
        while done < args.frames:
            with av.open(video) as container:
                stream = container.streams.video[0]
                stream.thread_count = 1
                for picture in container.decode(stream):
                    frame = convert(picture)
                    del picture
                    digests[index].update(np.ascontiguousarray(frame).tobytes())
                    held.append(frame)
                    small.extend(np.ones(int(next(sizes)), np.uint8) for _ in range(args.small))
                    del small[:-60]
                    if len(held) > args.held:
                        released.put(held.pop(0))
                    done += 1
                    if done >= args.frames:
                        break
        for frame in held:
            released.put(frame)

    started = time.process_time()
    consumer = threading.Thread(target=consume)
    consumer.start()
    workers = [threading.Thread(target=decode, args=(index,)) for index in range(args.threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    released.put(None)
    consumer.join()
    print(json.dumps({"mode": args.mode, "threads": args.threads, "held": args.held, "frames": args.frames,
                      "small": args.small,
                      "peak_mib": round(_status_mib("VmHWM"), 1), "cpu_s": round(time.process_time() - started, 2),
                      "digest": hashlib.sha256(b"".join(d.digest() for d in digests)).hexdigest()[:16]}))


if __name__ == "__main__":
    main()
