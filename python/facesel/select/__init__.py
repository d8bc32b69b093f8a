"""Selection stages after tracking: the best crop per track and what happens when a track closes.

``finalise`` (with ``evidence``, ``linking``, ``faceness`` and ``merging``) holds closed tracks for
a grace period, re-links fragments of one person by position, time and size, and drops tracks that
are not faces (counted, never silently).
"""
