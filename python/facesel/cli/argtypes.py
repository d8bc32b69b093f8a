"""argparse ``type=`` checkers shared by subcommands: a value out of range is a usage error (exit 2)
naming the flag, before any work starts."""

from __future__ import annotations

import argparse
import math


def int_at_least(minimum: int):
    """An argparse type: an integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text}")
        return value

    parse.__name__ = f"integer >= {minimum}"  # what argparse names in its own messages
    return parse


SEED_MAX = 2**63 - 1
"""Largest ``--seed``: numpy's generators refuse a negative seed and torch's one beyond int64 (-1
failed in ``np.random.default_rng`` after ``train`` had aligned the whole folder, naming nothing)."""


def int_within(minimum: int, maximum: int):
    """An argparse type: an integer in [``minimum``, ``maximum``]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer in [{minimum}, {maximum}], got {text!r}") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be an integer in [{minimum}, {maximum}], got {text}")
        return value

    parse.__name__ = f"integer in [{minimum}, {maximum}]"
    return parse


def number_within(low: float, high: float):
    """An argparse type: a finite float in [``low``, ``high``] (NaN compares false, so a bare
    ``type=float`` range check later would have to say so itself)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number in [{low:g}, {high:g}], got {text!r}") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"must be a number in [{low:g}, {high:g}], got {text}")
        return value

    parse.__name__ = f"number in [{low:g}, {high:g}]"
    return parse


def port_number(text: str) -> int:
    """An argparse type: a TCP port in [0, 65535] (0: a free one). Out of range was an
    OverflowError traceback from ``socket.bind``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a port number in [0, 65535], got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number in [0, 65535], got {text}")
    return value


def finite_number(minimum: float, *, inclusive: bool):
    """An argparse type: a finite float ``>= minimum`` (``inclusive``) or ``> minimum``. A bare
    ``type=float`` takes ``nan``, ``inf`` and negative numbers, which a setting then refused
    later (exit 1, under its Python name) or not at all."""
    relation = ">=" if inclusive else ">"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if not (math.isfinite(value) and (value >= minimum if inclusive else value > minimum)):
            raise argparse.ArgumentTypeError(f"must be a finite number {relation} {minimum:g}, got {text}")
        return value

    parse.__name__ = f"number {relation} {minimum:g}"
    return parse


def shared_data_folder(given):
    """The shared data folder of ``--data`` (when given) or ``FACESEL_DATA`` / ``../shared/data``.
    A ``--data`` that is missing or a file is named as such: before, it was told "no shared data:
    give --data or set FACESEL_DATA", as if no --data had been given."""
    from pathlib import Path

    from facesel.data import data_root

    if given is not None:
        path = Path(given)
        if not path.exists():
            raise ValueError(f"--data {given}: no such folder")
        if not path.is_dir():
            raise ValueError(f"--data {given}: a file, not a folder (the shared data folder)")
        return path
    root = data_root()
    if root is None or not Path(root).is_dir():
        from facesel.data import data_env_problem

        problem = data_env_problem()
        raise ValueError(f"no shared data: {problem}; give --data DIR" if problem else
                         "no shared data: give --data DIR or set FACESEL_DATA")
    return Path(root)


def add_max_frame_pixels(parser: argparse.ArgumentParser, inputs: str) -> None:
    """``--max-frame-pixels N``: the largest frame a file of ``inputs`` may have (review 8b, finding 1),
    the default of ``facesel serve``'s cameras' ``max_frame_pixels``."""
    from facesel.sources.frame_limit import _FFMPEG_MAX, MAX_FRAME_PIXELS

    def parse(text: str) -> int:
        value = int_at_least(1)(text)
        if value > _FFMPEG_MAX:
            raise argparse.ArgumentTypeError(f"must be at most {_FFMPEG_MAX}, got {text}")
        return value

    parse.__name__ = "number of pixels"
    parser.add_argument("--max-frame-pixels", type=parse, default=MAX_FRAME_PIXELS, metavar="N",
                        help=f"refuse {inputs} of more than N pixels (width x height), before decoding where the "
                        "header says so: a small hostile file can decode to gigabytes (default: %(default)s, an 8K "
                        "UHD frame, as serve's max_frame_pixels)")


TIME_FORMS = "ISO 8601 in UTC unless it names a zone, e.g. 2026-12-06T21:50 or 2026-12-06T22:50+01:00; or Unix seconds"
"""How every time flag (``--from``, ``--to``, ``--now``, ``--start``, ``--until``) is read
(:func:`facesel.vault.timeparse.parse_time`). The helps said "ISO 8601 or Unix seconds", or
nothing, while the review desk reads its window in the computer's local time: an investigator
away from UTC was not told that ``--from 2026-12-06T21:50`` is 21:50 UTC (ux18)."""


def time_text(text: str) -> str:
    """An argparse type for a TIME flag (``--from``, ``--to``, ``--now``, ``--start``, ``--until``):
    the text as given, once :func:`facesel.vault.timeparse.parse_time` takes it; a value it refuses
    is a usage error naming the flag (``argument --from: must be Unix seconds or ISO 8601 ...``, exit
    2), where it was exit 1 after the command had started (ux26). The command parses it again."""
    from facesel.vault.timeparse import parse_time

    try:
        parse_time(text, "TIME")
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("TIME ")) from None
    return text


time_text.__name__ = "time"  # what argparse names in its own messages
