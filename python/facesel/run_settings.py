"""The frame settings of a ``facesel run --plaintext-out`` folder, kept in ``run.json`` beside
``tracks.jsonl``, so that ``facesel eval snapshots`` reads the video as the run did.

``tracks.jsonl`` numbers frames as the run fed them: with ``--every 2`` frame 10 is the video's
frame 20. Given ``--every 1`` (its default), an audit of such a run compared each snapshot with the
wrong frame of the video and said nothing when those frames existed (ux22, "Left as they are"); now
the run writes the settings that decide the numbering, and the audit takes them or refuses a
different value, naming both, before its census of every frame.
"""

from __future__ import annotations

import json
from pathlib import Path

RUN_FILE = "run.json"
FRAME_SETTINGS = ("every", "max_frames", "fps")
"""The settings of ``facesel run`` that decide which frame of its input each frame index names."""


def write_run_settings(folder, *, input, every: int, max_frames: int | None, fps: float | None) -> Path:
    """Write ``folder/run.json``: the input's name (``None`` for a live URL, which may carry a
    password) and the frame settings as given (``max_frames``/``fps`` ``None`` when not given).
    Returns the file's path."""
    from facesel.sources import is_live_target

    path = Path(folder) / RUN_FILE
    record = {"input": None if is_live_target(input) else str(input),
              "every": int(every), "max_frames": None if max_frames is None else int(max_frames),
              "fps": None if fps is None else float(fps)}
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return path


def read_run_settings(folder) -> dict | None:
    """The settings ``run.json`` holds, or None when the folder has none (a run of a facesel that
    did not write it). A file that is not such a record is a ValueError naming it."""
    path = Path(folder) / RUN_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a facesel run's settings ({err})") from None
    if not isinstance(record, dict) or any(key not in record for key in FRAME_SETTINGS):
        raise ValueError(f"{path}: not a facesel run's settings (it needs the keys {', '.join(FRAME_SETTINGS)})")
    return record


def settings_for_audit(folder, given: dict) -> dict:
    """The frame settings an audit of the run in ``folder`` must read its video with.

    Parameters
    ----------
    folder : the run's ``--plaintext-out`` folder
    given : ``{"every": ..., "max_frames": ..., "fps": ...}`` as the audit was given them, None
        for a setting not given

    Returns
    -------
    dict
        Each setting: the run's (from ``run.json``) where it was not given; where it was given, it
        must equal the run's, else ValueError naming both values and the flag. Without ``run.json``
        the given values, ``every`` 1 when not given (as before).
    """
    recorded = read_run_settings(folder)
    if recorded is None:
        out = dict(given)
        out["every"] = 1 if given.get("every") is None else given["every"]
        return out
    out = {}
    for key in FRAME_SETTINGS:
        value, theirs = given.get(key), recorded[key]
        if value is not None and value != theirs:
            flag = "--" + key.replace("_", "-")
            made = f"with {flag} {_shown(theirs)}" if theirs is not None else f"without {flag}"
            raise ValueError(
                f"{flag} {_shown(value)}: the run in {folder} was made {made} ({Path(folder) / RUN_FILE}), so its "
                f"frame numbers would name other frames of the video; leave {flag} out to take the run's, "
                f"or give the run's value")
        out[key] = theirs
    return out


def _shown(value) -> str:
    """A setting as typed on the command line: 25.0 as 25."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
