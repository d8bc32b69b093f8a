"""The find form's values at their edges (review round 3, session 12): a date that exists in the
form's zone but not in the machine's calendar range, NaN and infinities, each one line on the page
(ValueError), never an error 500 with a traceback in the desk's output."""

from __future__ import annotations

import os
import socket
import time

import pytest
from facesel.review.app import _filters
from facesel.review.serve import bind
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


def test_a_port_or_host_the_desk_cannot_listen_on_is_one_line_naming_the_flags():
    # Before (ux20): "facesel review: error: Address already in use" and "... Name or service not
    # known", naming neither --port nor --host, nor what to do.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ValueError, match=rf"^--host 127.0.0.1 --port {port}: cannot listen there \(.+\); "
                                             "another program listens on that port: choose another --port"):
            bind("127.0.0.1", port)
    with pytest.raises(ValueError, match=r"^--host nosuch\.invalid --port 0: cannot listen there .*does not resolve"):
        bind("nosuch.invalid", 0)
    with pytest.raises(ValueError, match=r"^--host 192\.0\.2\.1 --port 0: .*not an address of this computer"):
        bind("192.0.2.1", 0)  # TEST-NET-1: never an address of a real machine
