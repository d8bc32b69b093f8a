"""Openings of one user running at once share the registry of staging folders (flaky19).

Every opening sweeps the registry for killed openings' markers. On a machine where several
openings ran at once (test runs side by side), an opening failed now and then with
"...openings/XXXX.json does not exist": its sweep had opened a marker that another sweep, or the
marker's own opening as it ended, unlinked before the sweep took the lock. A sweep could also
lock a marker created but not yet locked nor written, take it for a killed opening's and unlink
it, leaving a live opening unregistered.

Each interleaving is made here deterministically: the other party's step runs inside the
``flock`` call of the party under test, at the moment the race window is open.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest
from facesel.vault import staging


@pytest.fixture
def registry(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return staging.registry_dir()


def _run_first_inside_flock(monkeypatch, when, other_party) -> list[bool]:
    """Make the first ``flock(fd, op)`` with ``when(op)`` true run ``other_party()`` before it
    locks. Returns a list that holds True once the other party ran."""
    real_flock = fcntl.flock
    ran: list[bool] = []

    def flock(fd, op):
        if when(op) and not ran:
            ran.append(True)
            other_party()
        return real_flock(fd, op)

    monkeypatch.setattr(staging.fcntl, "flock", flock)
    return ran


def _killed_opening(out: Path) -> Path:
    """A registered staging folder whose opening is gone (its marker's lock released); returns it."""
    folder = out.parent / f".{out.name}.partial-0123abcd"
    folder.mkdir(mode=0o700)
    (folder / "crop.png").write_bytes(b"stand-in for a decrypted picture")
    fd, _ = staging._register(folder, out)
    os.close(fd)  # what SIGKILL does to the lock
    return folder


def test_a_sweep_passes_over_a_killed_openings_marker_another_sweep_spent_meanwhile(tmp_path, registry,
                                                                                     monkeypatch):
    folder = _killed_opening(tmp_path / "case-a")
    other_removed: list[Path] = []
    ran = _run_first_inside_flock(monkeypatch, lambda op: op & fcntl.LOCK_NB,
                                  lambda: other_removed.extend(staging.sweep_killed_openings()))
    assert staging.sweep_killed_openings() == []  # raised FileNotFoundError on the marker before
    assert ran and other_removed == [folder] and not folder.exists()
    assert list(registry.iterdir()) == []


def test_a_sweep_passes_over_the_marker_of_an_opening_that_ended_meanwhile(tmp_path, registry, monkeypatch):
    out = tmp_path / "case-b"
    folder = out.parent / f".{out.name}.partial-4567cdef"
    folder.mkdir(mode=0o700)
    live = staging._register(folder, out)  # a running opening holds its marker's lock

    def opening_ends():  # as write_staged does: output in place, then the marker unlinked and unlocked
        os.rename(folder, out)
        staging._unregister(*live)

    ran = _run_first_inside_flock(monkeypatch, lambda op: op & fcntl.LOCK_NB, opening_ends)
    assert staging.sweep_killed_openings() == []  # raised FileNotFoundError on the marker before
    assert ran and out.is_dir() and list(registry.iterdir()) == []


def test_a_sweep_between_a_markers_creation_and_its_lock_leaves_the_opening_registered(tmp_path, registry,
                                                                                       monkeypatch):
    swept: list[Path] = []
    ran = _run_first_inside_flock(monkeypatch, lambda op: op == fcntl.LOCK_EX,
                                  lambda: swept.extend(staging.sweep_killed_openings()))
    out = tmp_path / "case-d"
    with staging.staging_folder(out) as live:
        assert ran and swept == []
        markers = [p for p in registry.iterdir() if staging._MARKER.match(p.name)]
        # Before: the sweep locked the empty new marker, read nothing and unlinked it.
        assert len(markers) == 1, "the live opening's marker was swept away"
        assert json.loads(markers[0].read_text())["staging"] == str(live)
    assert list(registry.iterdir()) == []
