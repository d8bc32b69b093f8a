"""`facesel batch`'s progress and summary lines say what became of each video (ux22)."""

from facesel.central.batch import VideoOutcome
from facesel.cli.batch import outcome_state, summary_line

UNREADABLE = "ValueError: cannot read video file /a/bad.mp4: FFmpeg could not open it"


def test_an_unreadable_video_is_failed_not_queued_in_none():
    bad = VideoOutcome("/a/bad.mp4", 0, 0, 0, 0.0, None, UNREADABLE, attempts=2)
    state = outcome_state(bad)
    assert state.startswith("FAILED after 2 attempts: ValueError") and "QUEUED" not in state and "None" not in state
    queued = VideoOutcome("/a/v.mp4", 50, 2, 0, 1.0, "/spool/task-1", "store unreachable")
    assert "QUEUED in /spool/task-1" in outcome_state(queued) and "facesel sync --vault /spool/task-1" in outcome_state(queued)
    assert outcome_state(VideoOutcome("/a/v.mp4", 50, 1, 1, 1.0, None)) == "ok"


def test_the_summary_counts_the_failed_and_queued_videos():
    ok = VideoOutcome("/a/ok.mp4", 250, 1, 1, 2.0, None)
    bad = VideoOutcome("/a/bad.mp4", 0, 0, 0, 0.0, None, UNREADABLE, attempts=2)
    queued = VideoOutcome("/a/v.mp4", 50, 2, 0, 1.0, "/spool/task-1", "store unreachable")
    line = summary_line([ok, bad, bad, queued], 3.0)
    assert line.startswith("4 video(s), 300 frames, 3 records sealed, 1 stored centrally in 3.0 s")
    assert "; 2 FAILED" in line and "; 1 with records QUEUED" in line
    assert "FAILED" not in summary_line([ok], 3.0) and "QUEUED" not in summary_line([ok], 3.0)
