"""How a ``facesel run`` ended, said in its last line and in its exit code, never hidden.

Exit codes of ``facesel run`` (also in the README, "Exit codes"):

====  ==========================================================================================
 0    the input was read to its end (or a live input was stopped by SIGTERM, the way a service
      manager ends a stream that never ends by itself); every snapshot was kept. A run that kept
      no person says why in one line (:func:`nothing_kept_line`) and still exits 0: also a single
      image or a one-frame video, which can keep nobody while ``--min-hits`` is over 1 (the line says
      so and points to ``facesel score``; before session 18 the image alone was refused, exit 1)
 1    an error (one line on stderr): bad arguments, unreadable input, vault error, no webcam...
 2    command-line usage error (argparse)
 3    the input ended early: a video file gave fewer frames than it announces (truncated or
      damaged); the snapshots of the frames read were kept
130   stopped by Ctrl-C (SIGINT) before the end of the input; the open tracks were sealed
143   stopped by SIGTERM before the end of a file or folder; the open tracks were sealed
====  ==========================================================================================
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INCOMPLETE = 3

SHORT_INPUT_TOLERANCE = 2
"""Frames a video file may give fewer than its container announces before the run is called
incomplete: the frame count of some containers (an MP4 with an edit list, a GIF) is off by one."""


@dataclass(frozen=True)
class Outcome:
    """How ``facesel run`` ended: its exit ``code``, the line that says why and the reason logged."""
    code: int
    line: str | None
    """The summary's last line when the run did not simply end (None: nothing to add)."""
    reason: str
    """``run_finished``'s reason: ``end of input``, ``--max-frames reached``, ``SIGINT``, ``SIGTERM``,
    ``input ended early``."""


def judge(frames: int, expected: int | None, kind: str, stop_reason: str | None,
          max_frames: int | None = None) -> Outcome:
    """The exit code and the line that says why, from what was read and what stopped the run.

    Parameters
    ----------
    frames : int
        Frames that went through the pipeline.
    expected : int or None
        Frames the source announced (after ``--every`` and ``--max-frames``); None when unknown.
    kind : str
        The source's kind (``file``, ``folder``, ``camera``, ``url``, ``live``).
    stop_reason : str or None
        ``"SIGINT"`` / ``"SIGTERM"`` when a signal stopped the run.
    max_frames : int or None
        ``--max-frames``: a run that went through that many frames stopped there, whatever the
        input held after them (ux21: its ``run_finished`` said ``end of input``).
    """
    of = f" of {expected}" if expected else ""
    if stop_reason is not None:
        live = kind not in ("file", "folder")
        if stop_reason == "SIGTERM" and live:
            return Outcome(EXIT_OK, f"stopped by SIGTERM after {frames} frames (a live input has no end); "
                                    "the tracks open then were closed and kept", stop_reason)
        code = 128 + int(getattr(signal.Signals, stop_reason, signal.SIGINT))
        return Outcome(code, f"INTERRUPTED by {stop_reason} after {frames}{of} frames: the rest of the input was "
                             f"not read; the tracks open then were closed and kept (exit {code})", stop_reason)
    if kind == "file" and expected is not None and frames < expected - SHORT_INPUT_TOLERANCE:
        return Outcome(EXIT_INCOMPLETE, f"INPUT ENDED EARLY: {frames}{of} frames could be decoded (the file is "
                                        "truncated or damaged); the snapshots of the frames read were kept "
                                        f"(exit {EXIT_INCOMPLETE})", "input ended early")
    if max_frames is not None and frames >= max_frames:
        return Outcome(EXIT_OK, None, "--max-frames reached")
    return Outcome(EXIT_OK, None, "end of input")


def nothing_kept_line(frames: int, kept: int, faces_seen: int, min_hits: int, min_face_size: float,
                      finaliser_stats=None, stopped: str | None = None) -> str | None:
    """One line on why a run kept no person, or None when it kept one (the exit code stays 0: the
    run went fine, the input held nobody to keep; before, "tracks 0" was all it said).

    Parameters
    ----------
    frames : int
        Frames that went through the pipeline (after ``--every`` and ``--max-frames``).
    kept : int
        Snapshots kept (the finaliser's releases when there is one, else the tracks closed).
    faces_seen : int
        Detections given to the tracker (``Selector.work["seen"]``, confirmed tracks or not).
    min_hits, min_face_size
        The run's settings, named by their flags in the line.
    finaliser_stats : facesel.select.finalise.FinaliserStats or None
    stopped : str or None
        ``"SIGINT"`` / ``"SIGTERM"`` when a signal stopped the input: too few frames is then the
        stop's doing, not the input's, and "give more frames" would be the wrong advice (ux26).
    """
    if kept > 0:
        return None
    why = "no person was kept: "
    if frames < min_hits and stopped is not None:
        return why + (f"{stopped} stopped the input after {frames} frame{'' if frames == 1 else 's'}, before "
                      f"anyone was seen on --min-hits {min_hits} frames")
    if frames < min_hits:
        return why + (f"the input gave {frames} frame{'' if frames == 1 else 's'}, fewer than --min-hits "
                      f"{min_hits}: a person is kept only after being seen on {min_hits} frames (give more "
                      "frames, or a lower --min-hits)" + ("; 'facesel score IMAGE' reports the faces of a single "
                                                          "image" if frames == 1 else ""))
    if faces_seen == 0:
        return why + (f"no face was detected on any of the {frames} frames (faces smaller than --min-face-size "
                      f"{min_face_size:g} pixels on their shorter side are left out; very small, dark, blurred "
                      "or turned-away faces are not found)")
    if finaliser_stats is not None and finaliser_stats.closed > 0:
        static = finaliser_stats.dropped.get("static", 0)
        hint = "; a face that never moves is dropped as static: --keep-static keeps it" if static else ""
        return why + f"the finaliser dropped every closed track ({finaliser_stats.summary()}){hint}"
    return why + (f"faces were detected ({faces_seen} times) but no track reached --min-hits {min_hits} "
                  "frames (a face seen on fewer frames, or one that jumps between frames, is no person yet)")
