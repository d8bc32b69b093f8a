"""Closed tracks whose seal fails on a real full disk are kept and sealed later, or counted as lost (ops21).

Before, a seal that failed while a camera ran lost that track, and the restart lost the others
closed with it (ux20: "loses that segment's open tracks, and no counter says how many"). The
vault here lies on a small tmpfs (root only; the last test runs the first one's case on
test_serve_seal_failing.py's stand-in everywhere) filled to its last byte while the camera runs:
every closed track must end sealed, held for the next try, or counted in ``tracks_lost``.
"""

from __future__ import annotations

import logging

import pytest

from facesel.serve.camera import Camera
from facesel.serve.control import status_report
from facesel.serve.metrics import make_registry
from prometheus_client import generate_latest
from small_tmpfs import small_tmpfs
from test_cli_full_disk import _fill
from test_serve import authority, keys, videos  # noqa: F401 - module fixtures
from test_serve_capacity import arcade_camera, serve_config
from test_sources import wait_for


class _Recording(Camera):
    """A camera that keeps every result it closed and every one it sealed (the objects: one held
    and sealed later is the same object)."""

    def __init__(self, config, open_vault=None):
        self.closed_results, self.sealed_results = [], []
        super().__init__(config, open_vault=open_vault,
                         on_sealed=lambda name, result, record_id: self.sealed_results.append(result))

    def _closed(self, result):
        self.closed_results.append(result)
        super()._closed(result)

    def accounted(self) -> bool:
        """Every closed track sealed (once), held or lost."""
        sealed = {id(r) for r in self.sealed_results}
        return (len(sealed) == len(self.sealed_results)
                and len(self.closed_results) == len(sealed) + len(self.held) + self.tracks_lost)


def _camera_on(disk, videos, authority, keys, seal_in_background: bool = True):
    config = serve_config(authority, {"door": arcade_camera(videos, disk / "door", keys("door"), realtime=False,
                                                            live=False, seal_in_background=seal_in_background)})
    return _Recording(config.cameras["door"])


def _full_while_running(camera, disk, tracks: int):
    """Start the camera, fill the disk once its vault is open, and wait for ``tracks`` closed
    tracks whose seals failed (the looping file closes every track at the end of each pass)."""
    camera.start()
    assert wait_for(lambda: camera.processed > 0, timeout=300), camera.health()
    _fill(disk)
    closed_before = len(camera.closed_results)
    assert wait_for(lambda: len(camera.closed_results) - closed_before >= tracks and camera.seal_failing, timeout=600), \
        (camera.health(), len(camera.closed_results))


@pytest.mark.parametrize("in_background", [True, False], ids=["writer-thread", "camera-thread"])
def test_tracks_closed_while_the_disk_is_full_are_sealed_once_it_has_room(videos, authority, keys, tmp_path,
                                                                           in_background):
    with small_tmpfs(tmp_path / "disk", "4m") as disk:
        camera = _camera_on(disk, videos, authority, keys, in_background)
        try:
            _full_while_running(camera, disk, tracks=3)
            # held between two cycles (a cycle takes them out, and its failing retry holds them again)
            assert wait_for(lambda: len(camera.held) >= 1, timeout=300), camera.health()
            assert camera.tracks_lost == 0  # on main: dropped, uncounted
            failed = list(camera.closed_results)  # closed up to now: some sealed before the disk filled
            (disk / "fill").unlink()  # room again: the next cycle seals the held ones first
            # (the held ones are taken out at the next cycle's start, sealed a moment later: wait for the seals)
            all_sealed = lambda: {id(r) for r in failed} <= {id(r) for r in camera.sealed_results}  # noqa: E731
            assert wait_for(all_sealed, timeout=300), "a track closed while the disk was full was never sealed"
        finally:
            camera.stop(timeout=120)
        assert camera.tracks_lost == 0 and camera.accounted()


class _OneCameraService:
    """What :func:`status_report` reads of a service running ``camera`` alone."""

    def __init__(self, camera):
        self.camera_list, self.disabled_cameras = (lambda: [camera]), (lambda: [])
        self.config, self.reloads, self.started_at, self.events = type("C", (), {"path": None})(), 0, 0.0, None

    def sealed_total(self) -> int:
        return 0


def test_tracks_beyond_the_limit_or_held_at_the_stop_are_counted_as_lost(videos, authority, keys, tmp_path,
                                                                        monkeypatch, caplog):
    from facesel.cli.serve import _unsealed

    monkeypatch.setattr(Camera, "HELD_LIMIT", 1)  # a second failed seal pushes the first one out
    with small_tmpfs(tmp_path / "disk", "4m") as disk:
        camera = _camera_on(disk, videos, authority, keys)
        try:
            with caplog.at_level(logging.ERROR, logger="facesel.serve"):
                _full_while_running(camera, disk, tracks=3)
                assert wait_for(lambda: camera.tracks_lost >= 1, timeout=300), camera.health()
            metrics = generate_latest(make_registry(lambda: [camera])).decode()
            lost = [line for line in metrics.splitlines() if line.startswith('facesel_tracks_lost_total{camera="door"}')]
            assert lost and float(lost[0].split()[-1]) >= 1, metrics
            status = status_report(_OneCameraService(camera))["cameras"]["door"]
            assert status["tracks_lost"] >= 1 and "closed tracks LOST (their seals failed)" in _unsealed(status), status
            pushed = [r.getMessage() for r in caplog.records if "closed tracks lost: more than 1 wait" in r.getMessage()]
            assert pushed and "VaultWriteError" in pushed[0] and "No space left on device" in pushed[0], pushed
        finally:
            with caplog.at_level(logging.ERROR, logger="facesel.serve"):
                camera.stop(timeout=120)  # the disk is still full: what is held is lost, and said
        assert camera.accounted(), (len(camera.closed_results), len(camera.sealed_results), camera.tracks_lost)
        assert len(camera.held) == 0 and camera.tracks_lost >= 2
        at_stop = [r.getMessage() for r in caplog.records if "and the camera stopped before its vault" in r.getMessage()]
        assert at_stop and at_stop[-1].startswith("camera door: 1 closed tracks lost: their seals failed ("), at_stop
        assert "No space left on device" in at_stop[-1], at_stop
        assert camera.stop_failure, "a camera that lost tracks at its stop says so (the service exits 1)"


def test_the_same_without_root_on_a_stand_in_full_disk(videos, authority, keys, tmp_path):
    """Where no tmpfs can be mounted (not root): the vault's seal raises its own VaultWriteError
    while ``full`` is set (test_serve_seal_failing.py's stand-in), the same path as above."""
    import threading

    from facesel.serve.retention import open_camera_vault
    from test_serve_seal_failing import _FillingVault

    full = threading.Event()
    config = serve_config(authority, {"door": arcade_camera(videos, tmp_path / "door", keys("door"), realtime=False,
                                                            live=False)})
    camera = _Recording(config.cameras["door"], open_vault=lambda cfg: _FillingVault(open_camera_vault(cfg), full))
    camera.start()
    try:
        assert wait_for(lambda: camera.processed > 0, timeout=300), camera.health()
        full.set()
        closed_before = len(camera.closed_results)
        assert wait_for(lambda: len(camera.closed_results) - closed_before >= 3 and len(camera.held) >= 1,
                        timeout=600), camera.health()
        failed = list(camera.closed_results)
        full.clear()
        all_sealed = lambda: {id(r) for r in failed} <= {id(r) for r in camera.sealed_results}  # noqa: E731
        assert wait_for(all_sealed, timeout=300), "a track closed while the seals failed was never sealed"
    finally:
        camera.stop(timeout=120)
    assert camera.tracks_lost == 0 and camera.accounted()
