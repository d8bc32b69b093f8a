"""Cues that a track's box has moved from one person onto another, with no identity computed.

A tracker associates boxes by position and size only, so when one person steps into the place
another has just left (a doorway, a turnstile, a cut between two shots of a TV programme), the
track slides onto the second person and that person never gets a snapshot of their own. These
cues look for what no head does between two frames:

- **scene cut**: the whole frame changes at once (mean absolute difference of a tiny grey
  thumbnail against the previous frame's);
- **fade**: the whole frame changes over a few frames (the thumbnail against the one
  ``fade_span`` frames back): a cross-fade or a dissolve, where no two consecutive frames differ
  much but the picture before and after does (since tv27 also recorded as a cut for the
  finaliser when the frames inside the span are mixes of its two ends: ``SwitchRule.fade_cut``,
  ``fade_blend``);
- **size / aspect jump**: the box's size or its width-to-height ratio jumps;
- **appearance jump**: a coarse colour histogram of the box and of the band below it (neck,
  collar, clothes) moves away from the track's own running histogram.

None of them is a recognition feature: a colour histogram of 4 x 4 x 4 bins over a few hundred
sampled pixels says "mostly dark blue below a mostly pink blob", which two strangers share and
one person loses by taking off a coat; it is compared only with the same track's last second, never
stored, and never compared across tracks except in the finaliser's re-link of two fragments that
already touch in space and time (``docs/persons.md``). Each cue costs microseconds a box
(:func:`appearance`: two fixed grids of 12 x 12 pixels, one ``bincount``).

Layout (one job a module; every name is importable from ``facesel.track_cues`` as before):

- :mod:`~facesel.track_cues.rule`: :class:`SwitchRule` and the still-picture thresholds;
- :mod:`~facesel.track_cues.scene`: :class:`SceneChange` (cuts and fades) and its thumbnail;
- :mod:`~facesel.track_cues.sampling`: the sample grid, grey samples, pinned-logo patches;
- :mod:`~facesel.track_cues.colours`: colour histograms of the box and band, their distance;
- :mod:`~facesel.track_cues.crowding`: boxes whose colours are not asked (a crowd);
- :mod:`~facesel.track_cues.jumps`: the size and aspect jumps of a box;
- :mod:`~facesel.track_cues.body`: the body below a head, without the head (measured only, no
  link reads it; import it from its module).

The C++ core's fast paths are chosen in the module that uses them (``_CORE_*`` there: a test that
forces the numpy path patches that module).
"""

from __future__ import annotations

from facesel.track_cues.colours import (appearance, appearances, appearances_numpy, distance, distance_whole, histogram,
                                        regions)
from facesel.track_cues.crowding import crowded, crowded_numpy
from facesel.track_cues.jumps import aspect_jump, box_jumps, box_jumps_numpy, size_jump
from facesel.track_cues.rule import LIVE_GREY, SCENE_MOVES, STILL_GREY, SwitchRule
from facesel.track_cues.sampling import (BINS, GRID, grey_samples, grey_samples_many, grey_samples_numpy,
                                         middle_regions, pinned_patches, pinned_patches_numpy)
from facesel.track_cues.scene import BASELINE, MOVE_REACH, REPEATED, SceneChange, moved_difference, thumbnail

__all__ = [
    "BASELINE", "BINS", "GRID", "LIVE_GREY", "MOVE_REACH", "REPEATED", "SCENE_MOVES", "STILL_GREY",
    "SceneChange", "SwitchRule", "appearance", "appearances", "appearances_numpy", "aspect_jump", "box_jumps",
    "box_jumps_numpy", "crowded", "crowded_numpy", "distance", "distance_whole", "grey_samples", "grey_samples_many",
    "grey_samples_numpy", "histogram", "middle_regions", "moved_difference", "pinned_patches", "pinned_patches_numpy",
    "regions", "size_jump", "thumbnail",
]
