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


# -- pending markers left by a writer killed between its write and its rename (ops22) ---------


def _pending_of_killed_writer(tmp_path: Path, registry: Path, age: float, name: str = "0123456789abcdef"):
    """A pending marker as a writer killed before its rename leaves it (whole, unlocked), dated
    ``age`` seconds ago, and the empty staging folder it names; returns both."""
    folder = tmp_path / f".case.partial-{name[:8]}"
    folder.mkdir(mode=0o700)
    registry.mkdir(parents=True, mode=0o700, exist_ok=True)
    registry.parent.chmod(0o700)
    info = folder.lstat()
    pending = registry / f".{name}.json.pending"
    pending.write_text(json.dumps({"staging": str(folder), "dev": info.st_dev, "ino": info.st_ino,
                                   "out": str(tmp_path / "case"), "pid": 1}))
    pending.chmod(0o600)
    when = pending.stat().st_mtime - age
    os.utime(pending, (when, when))
    return pending, folder


def test_a_sweep_removes_a_stale_pending_marker_and_its_empty_folder(tmp_path, registry):
    pending, folder = _pending_of_killed_writer(tmp_path, registry, age=staging.STALE_PENDING_SECONDS + 60)
    staging.sweep_killed_openings()
    assert not pending.exists()  # on main: left for ever (the sweep looked at *.json only)
    assert not folder.exists()


def test_a_sweep_leaves_a_fresh_unlocked_pending_marker_alone(tmp_path, registry):
    # A concurrent writer between its create and its lock: unlocked, but young.
    pending, folder = _pending_of_killed_writer(tmp_path, registry, age=0)
    staging.sweep_killed_openings()
    assert pending.exists() and folder.exists()


def test_a_sweep_leaves_an_old_pending_marker_whose_writer_holds_its_lock(tmp_path, registry):
    # A writer stalled between its lock and its rename (a slow fsync) for longer than the age.
    pending, folder = _pending_of_killed_writer(tmp_path, registry, age=staging.STALE_PENDING_SECONDS + 60)
    fd = os.open(pending, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another open file description: the sweep's flock conflicts
        staging.sweep_killed_openings()
        assert pending.exists() and folder.exists()
    finally:
        os.close(fd)


def test_a_sweep_leaves_a_pending_marker_dated_in_the_future(tmp_path, registry):
    pending, folder = _pending_of_killed_writer(tmp_path, registry, age=-staging.STALE_PENDING_SECONDS * 10)
    staging.sweep_killed_openings()
    assert pending.exists() and folder.exists()


def test_a_pending_marker_renamed_by_its_writer_during_the_sweeps_lock_is_passed_over(tmp_path, registry,
                                                                                      monkeypatch):
    # Opened by the sweep; before the sweep's lock its writer renames it to its marker name and
    # is killed (its lock released): the sweep then gets the lock, but the pending name no longer
    # links to that file, so it neither removes the folder nor fails unlinking a name that is gone.
    pending, folder = _pending_of_killed_writer(tmp_path, registry, age=staging.STALE_PENDING_SECONDS + 60)
    marker = registry / "0123456789abcdef.json"
    holder = os.open(pending, os.O_RDONLY)  # the writer's own lock
    fcntl.flock(holder, fcntl.LOCK_EX)

    def writer_renames_and_dies():
        os.rename(pending, marker)
        os.close(holder)

    ran = _run_first_inside_flock(monkeypatch, lambda op: op & fcntl.LOCK_NB, writer_renames_and_dies)
    staging.sweep_killed_openings()
    assert ran and marker.exists() and folder.exists()
    staging.sweep_killed_openings()  # the next sweep finds the killed opening's marker and cleans up
    assert not marker.exists() and not folder.exists()


def test_openings_register_and_unregister_with_stale_pending_sweeping_on(tmp_path, registry):
    # An opening's own registration is never swept by its sweep (its pending file is fresh and
    # locked), and a stale one beside it is.
    stale, stale_folder = _pending_of_killed_writer(tmp_path, registry, age=staging.STALE_PENDING_SECONDS * 2)
    out = tmp_path / "out"
    staging.write_staged(out, lambda folder: (folder / "crop.png").write_bytes(b"x"))
    assert (out / "crop.png").read_bytes() == b"x"
    assert not stale.exists() and not stale_folder.exists()
    assert sorted(p.name for p in registry.iterdir()) == []
