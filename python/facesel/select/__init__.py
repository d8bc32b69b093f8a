"""Selection: which crops to score (policy), the best crop per track (store), per-track logs,
the per-frame view, and the post-close stages between a track's close and the sinks.

``finalise`` (with ``evidence``, ``linking``, ``faceness`` and ``merging``) is the default
post-close stage: it holds closed tracks for a grace period, re-links fragments of one person by
position, time and size, and drops tracks that are not faces (counted, never silently).
"""

from facesel.select.post_close import PostCloseStage, check_post_close
from facesel.select.tracklog import DecimatedSeries, SelectedTrack, TrackLog
from facesel.select.view import FrameView, TrackView

__all__ = ["DecimatedSeries", "FrameView", "PostCloseStage", "SelectedTrack", "TrackLog", "TrackView",
           "check_post_close"]
