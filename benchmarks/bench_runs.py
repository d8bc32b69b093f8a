"""What the agreement and throughput benchmarks share: a file's frames through one of the
package's own connections, and one Selector run that keeps every result.

``decoder_option_agreement.py``, ``profile_agreement.py`` and ``realtime_throughput.py`` import it
(each is run as ``python benchmarks/NAME.py``, so this folder is on the import path).
"""

from __future__ import annotations

import itertools
import time


def connection_frames(connection, count: int | None = None):
    """``(frame, timestamp)`` pairs read from an open :mod:`facesel.sources.backends` connection
    until its end of stream (at most ``count`` of them), closing it afterwards, also when the
    reader stops early."""
    from facesel.sources.backends import EndOfStream

    try:
        for _ in (itertools.count() if count is None else range(count)):
            try:
                yield connection.read()
            except EndOfStream:
                return
    finally:
        connection.close()


def kept_run(frames, scorer_name: str = "default", **overrides) -> tuple[list, float, int]:
    """The kept results, the process CPU seconds and the frame count of one single-threaded run of
    the Selector (``PipelineConfig(threads=1, **overrides)``, the default detector and the scorer
    ``scorer_name``) over ``frames``; the CPU clock starts after the models are loaded."""
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.selector import default_detector
    from facesel.serve.pipeline_adapter import make_scorer
    from facesel.sinks import CallbackSink

    config = PipelineConfig(threads=1, **overrides)
    detector, scorer = default_detector(config), make_scorer(scorer_name, config)
    kept, count = [], 0
    start = time.process_time()
    with Selector(detector, scorer, config=config, sinks=[CallbackSink(kept.append)]) as selector:
        for _ in selector.run(frames):
            count += 1
    return kept, time.process_time() - start, count
