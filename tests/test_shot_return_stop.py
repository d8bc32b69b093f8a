"""A camera stopped while the shot-return link holds a result: the stop still seals it.

The shot-return link (:mod:`facesel.select.shot_return`, on by default) holds a result whose track a
scene cut ended for up to 10 s of stream time, in case the cut comes back to its shot. A serve
camera that stops (``facesel serve`` shutdown, or a reload that changed the camera) closes its
pipeline with :meth:`facesel.serve.pipeline_adapter.PipelineAdapter.flush` (``Camera._serve_once``'s
``finally``); these tests run that very adapter over a real intercut interview made in memory
(:mod:`facesel.eval.intercut`, two video-retalking talking heads cut A | B | A | B, 2 s a shot) and
stop it while results are held.
"""

from __future__ import annotations

import cv2
import pytest

FPS = 25.0


@pytest.fixture(scope="module")
def detector():
    from facesel.config import PipelineConfig
    from facesel.selector import default_detector

    cv2.setNumThreads(1)
    return default_detector(PipelineConfig())


@pytest.fixture(scope="module")
def interview(shared_data):
    from facesel.eval import intercut

    for family, kind, clips, frames, owner in intercut.material(shared_data, families_only=["retalking"]):
        if kind == "interview":
            return frames, owner
    pytest.fail("no retalking interview in the intercut material")


def _serve(detector, frames, shot_return: bool):
    """The serve adapter over ``frames`` (stamps at 25 fps), stopped after the last one: what the
    sink got before the stop, what it got in all, and the results the finaliser held at the stop."""
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.serve.pipeline_adapter import PipelineAdapter, check_pipeline_settings
    from facesel.sinks.base import CallbackSink

    sealed = []
    settings = check_pipeline_settings({"shot_return": shot_return}, "test")
    adapter = PipelineAdapter(settings, sinks=[CallbackSink(sealed.append)], detector=detector,
                              scorer=LaplacianVarianceScorer())
    segment = [(frame, t / FPS) for t, frame in enumerate(frames)]
    for _ in adapter.views([segment], need_frames=True):
        pass
    before = list(sealed)
    held = adapter.selector.finaliser.held
    adapter.flush()  # what a camera's stop does
    assert adapter.selector.finaliser.held == 0
    return before, sealed, held


def _persons(results, owner) -> list[int]:
    return sorted(owner[int(r.best.frame_index)] for r in results)


def test_a_stop_while_the_link_holds_results_seals_every_person(shared_data, detector, interview):
    frames, owner = interview
    # A1 | B1 | A2 | B2, stopped 1.6 s into B2 (7.6 s of stream): A1 and B1 ended at cuts more
    # than the 3 s grace period before the stop, and the link holds what the cuts ended
    cut = 4 * 50 - 10
    before, sealed, held = _serve(detector, frames[:cut], shot_return=True)
    assert held >= 1  # the link held results when the camera stopped
    assert _persons(sealed, owner[:cut]) == [0, 1]  # the stop sealed one snapshot per person, A and B
    assert len(sealed) > len(before)
    # without the link the grace period had already let A1 and B1 go: every person is sealed
    # either way, the link only makes the seal come later (here: at the stop)
    before_off, sealed_off, _ = _serve(detector, frames[:cut], shot_return=False)
    assert set(_persons(sealed_off, owner[:cut])) == {0, 1}
    assert len(before_off) > len(before)
