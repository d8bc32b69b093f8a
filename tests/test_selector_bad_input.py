"""A careless user of the Python API (ux12's round): ``Selector(sinks=...)`` given one sink bare or
None gets a TypeError that says what is wanted, not Python's "object is not iterable"."""

from __future__ import annotations

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
