"""What the per-frame harnesses of issue 27 share (``frame_instructions.py``, ``serve_frame_outputs.py``,
``yunet_input_instructions.py``, ``decoder_option_instructions.py``): the video arguments, the
video's path, the child's own ``facesel``, and one serve camera's pipeline.

Not a test. Factored out of those scripts in session 26 (their behaviour unchanged).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def add_video_arguments(parser: argparse.ArgumentParser, height: bool = True) -> None:
    """``--video`` (the arcade video by default) and, with ``height``, ``--height`` (a transcode)."""
    parser.add_argument("--video", default="arcade_walkers_1080p.mp4",
                        help="under the shared data's videos/, or an absolute path")
    if height:
        parser.add_argument("--height", type=int, default=None,
                            help="transcode the video to this height first (capacity.py's transcode, a temporary folder)")


def add_child_arguments(parser: argparse.ArgumentParser) -> None:
    """The hidden ``--child`` / ``--child-out`` a harness's measured child process is started with."""
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", default=None, help=argparse.SUPPRESS)


def video_path(name: str) -> Path:
    """``name`` itself when absolute, else under the shared data's ``videos/`` (exits naming the
    data variable when the data is absent)."""
    from facesel.data import data_root_or_exit

    return Path(name) if Path(name).is_absolute() else data_root_or_exit() / "videos" / name


def maybe_transcoded(video: Path, height: int | None, scratch: Path) -> Path:
    """``video``, or its transcode to ``height`` in ``scratch`` (capacity.py's ffmpeg line)."""
    if not height:
        return video
    sys.path.insert(0, str(HERE))
    from capacity import _transcode

    return _transcode(video, height, scratch)


def own_facesel() -> None:
    """In a child started with a tree's ``python`` on ``PYTHONPATH``: drop an editable install's
    import hook (scikit-build-core's redirecting finder), which would send ``import facesel`` to the
    checkout it was installed from whatever ``PYTHONPATH`` says; and put this folder on the path."""
    sys.meta_path[:] = [finder for finder in sys.meta_path if "ScikitBuild" not in type(finder).__name__]
    sys.path.insert(0, str(HERE))


@contextlib.contextmanager
def serve_camera(video: Path, settings: dict, sinks_for=None, prefix: str = "facesel-camera-"):
    """One serve camera's ``(adapter, camera)`` for ``video`` (``capacity.make_config``: serve's config
    checking, the camera's ``settings`` and ``SERVE_PIPELINE_DEFAULTS``, the governor off), in a
    temporary folder removed on exit. ``sinks_for(camera)`` gives the adapter's sinks and a closer
    (or None); by default none."""
    sys.path.insert(0, str(HERE))
    from capacity import make_config
    from facesel.serve.pipeline_adapter import PipelineAdapter

    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        config = make_config(Path(folder), [video], 1, settings, coarsen=False)
        camera = next(iter(config.cameras.values()))
        sinks, close = sinks_for(camera) if sinks_for else ([], None)
        try:
            yield PipelineAdapter(camera.settings, sinks=sinks), camera
        finally:
            if close is not None:
                close()


def vault_sinks(camera):
    """``serve_camera``'s ``sinks_for`` of a camera that seals into its vault, as serve does."""
    from facesel.serve.retention import open_camera_vault
    from facesel.sinks import VaultSink

    vault = open_camera_vault(camera)
    return [VaultSink(vault)], vault.close
