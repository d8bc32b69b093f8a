"""Selection: which crops to score (policy), the best crop per track (store), per-track logs,
the per-frame view, and the post-close stages between a track's close and the sinks."""

from facesel.select.post_close import PostCloseStage, check_post_close
from facesel.select.tracklog import DecimatedSeries, SelectedTrack, TrackLog
from facesel.select.view import FrameView, TrackView

__all__ = ["DecimatedSeries", "FrameView", "PostCloseStage", "SelectedTrack", "TrackLog", "TrackView",
           "check_post_close"]
