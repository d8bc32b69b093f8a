"""A careless user of the Python API (ux12's round): ``Selector(sinks=...)`` given one sink bare or
None gets a TypeError that says what is wanted, not Python's "object is not iterable"."""

from __future__ import annotations

import numpy as np
import pytest
from facesel import Selector
from facesel.scoring import LaplacianVarianceScorer
from facesel.sinks import CallbackSink


@pytest.mark.parametrize("sinks", [CallbackSink(lambda result: None), None, 5, "vault"])
def test_sinks_that_are_not_a_list_of_sinks_are_named(sinks):
    with pytest.raises(TypeError, match=r"sinks must be a list of sinks .*got (CallbackSink|NoneType|int|str)"):
        Selector(scorer=LaplacianVarianceScorer(), sinks=sinks)


def test_a_list_of_sinks_is_taken():
    got = []
    sink = CallbackSink(got.append)
    for sinks in ([sink], (sink,), iter([sink])):
        assert Selector(scorer=LaplacianVarianceScorer(), sinks=sinks).sinks == (sink,)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(("items", "given"), [
    ([np.zeros((64, 64, 3), np.uint8)] * 2, r"a ndarray of shape \(64, 64, 3\)"),
    ([(np.zeros((64, 64, 3), np.uint8),)], "a tuple of 1"),
    ([5], "an? int"),
])
def test_run_names_items_that_are_not_frame_timestamp_pairs(threads, items, given):
    # Before: run(list_of_frames) raised "_front() takes from 3 to 5 positional arguments but 65
    # were given" (1 thread) or "timestamp must be a finite number or None, got array(...)" (2).
    selector = Selector(scorer=LaplacianVarianceScorer(), threads=threads)
    with pytest.raises(TypeError, match=rf"frames must yield \(frame, timestamp\) pairs .*got {given}"):
        list(selector.run(items, live=False))


@pytest.mark.parametrize("threads", [1, 2])
def test_run_takes_pairs_and_none_timestamps(threads):
    frame = np.zeros((64, 64, 3), np.uint8)
    selector = Selector(scorer=LaplacianVarianceScorer(), threads=threads)
    views = list(selector.run(zip([frame] * 3, [None, None, None]), live=False))
    assert [v.frame_index for v in views] == [0, 1, 2]
    views = list(selector.run([(frame, 10.0), [frame, 10.5]], live=False))
    assert [v.timestamp for v in views] == [10.0, 10.5]
