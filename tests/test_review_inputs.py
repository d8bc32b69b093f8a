"""The find form's values at their edges (review round 3, session 12): a date that exists in the
form's zone but not in the machine's calendar range, NaN and infinities, each one line on the page
(ValueError), never an error 500 with a traceback in the desk's output."""

from __future__ import annotations

import os
import time

import pytest
from facesel.review.app import _filters
from facesel.review.times import parse_local


@pytest.fixture()
def new_york(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_far_dates_are_one_clear_error(new_york):
    assert os.environ["TZ"] == "America/New_York"
    for text in ("9999-12-31T23:59", "0001-01-01T00:00"):
        with pytest.raises(ValueError, match="from must be a date and time"):
            parse_local(text, "from")
    assert parse_local("2026-12-05T15:30", "from") == pytest.approx(1796502600.0)


@pytest.mark.parametrize("field, value", [("min_quality", "nan"), ("min_quality", "inf"), ("min_track", "nan"),
                                          ("min_track", "-inf"), ("min_track", "-1"), ("min_quality", "x")])
def test_numbers_must_be_finite(field, value):
    with pytest.raises(ValueError):
        _filters({field: value})
