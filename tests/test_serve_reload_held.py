"""A reload that replaces a camera hands its unsealed closed tracks over instead of losing them (ops22).

ops21 kept closed tracks whose seal failed in memory until the camera's vault wrote again; a
reload that changed the camera stopped it, and whatever was still held was lost (counted and
logged). Now a camera replaced by one on the same vault folder hands them to its successor, which
seals them first once the vault writes; a removed camera (or one moved to another vault) tries
them once with its own vault and loses, counted, only what still fails.
"""

from __future__ import annotations

import threading

from facesel.serve.camera import Camera
from facesel.serve.config import parse_config
from facesel.serve.retention import open_camera_vault
from facesel.serve.service import Service
from facesel.vault.errors import VaultWriteError
from test_serve import authority, camera, config_dict, keys, videos  # noqa: F401 - module fixtures
from test_serve_capacity import arcade_camera, serve_config
from test_serve_held_bytes import _result
from test_serve_seal_failing import _FillingVault
from test_sources import wait_for


class _RefusalsKept(_FillingVault):
    """The stand-in full disk, which also notes every result it refused (shared by both cameras)."""

    def __init__(self, vault, full: threading.Event, refused: list):
        super().__init__(vault, full)
        self._refused = refused

    def seal(self, result):
        if self._full.is_set():
            self._refused.append(result)
        return super().seal(result)


def _patient_config(authority, cameras):
    """serve_config's, with the reload's wait for a camera's stop at its longest: a camera still
    busy after it (a slow machine) keeps and counts its held tracks itself, which is not the case
    tested here (see test_a_camera_still_busy_when_the_service_asks_counts_its_held_tracks_itself)."""
    return parse_config({"serve": {"listen": "", "log_level": "warning", "shutdown_timeout": 600},
                         "defaults": {"authority": str(authority)}, "cameras": cameras})


def test_a_reload_that_changes_a_camera_on_the_same_vault_hands_its_held_tracks_over(videos, authority, keys,
                                                                                     tmp_path):
    full, refused, sealed = threading.Event(), [], []
    door = arcade_camera(videos, tmp_path / "door", keys("door"), realtime=False, live=False)
    service = Service(_patient_config(authority, {"door": door}),
                      open_vault=lambda cfg: _RefusalsKept(open_camera_vault(cfg), full, refused),
                      on_sealed=lambda name, result, record_id: sealed.append(result))
    service.start()
    try:
        old = service.cameras["door"]
        assert wait_for(lambda: old.processed > 0, timeout=300), old.health()
        full.set()
        assert wait_for(lambda: len(old.held) >= 1, timeout=600), old.health()
        changes = service.reload(_patient_config(authority, {"door": {**door, "buffer_frames": 5}}))
        assert changes["changed"] == ["door"]
        new = service.cameras["door"]
        assert new is not old and new.config.buffer_frames == 5
        # on main: the stop lost what was held (tracks_lost >= 1, carried into the new camera)
        assert new.tracks_lost == 0 and old.tracks_lost == 0, (old.tracks_lost, new.tracks_lost)
        failed = {id(r) for r in refused}
        assert failed, "no seal failed before the reload"
        full.clear()  # the vault writes again: the new camera seals what the old one could not
        assert wait_for(lambda: failed <= {id(r) for r in sealed}, timeout=300), \
            "a track whose seal failed before the reload was never sealed"
    finally:
        late = service.stop(timeout=120)
    assert not late
    counts = service.cameras["door"].counters()
    assert counts["tracks_lost"] == 0 and counts["tracks_held"] == 0, counts
    assert len({id(r) for r in sealed}) == len(sealed), "a track was sealed twice"


def _idle_camera(videos, authority, keys, tmp_path, open_vault):
    door = camera(videos / "intel_head_pose_female.gif", tmp_path / "v", keys("door"))
    return Camera(parse_config(config_dict(authority, {"door": door})).cameras["door"], open_vault=open_vault)


def _failing_vault(config):
    raise VaultWriteError("could not store record x: No space left on device; nothing was stored")


def test_a_hand_over_decided_by_the_camera_first_gives_the_held_tracks_to_the_service(videos, authority, keys,
                                                                                     tmp_path):
    # The camera's thread reaches its end (its last try fails) before the service asks for them.
    cam = _idle_camera(videos, authority, keys, tmp_path, _failing_vault)
    results = [_result(1, 20), _result(2, 20)]
    for result in results:
        cam.held.hold(result)
    cam.request_stop(hand_over=True)
    cam._last_try_of_held()  # what the camera's thread runs after its last cycle
    assert cam.tracks_lost == 0 and not cam.stop_failure
    assert cam.hand_over_held() == results and len(cam.held) == 0
    assert cam.hand_over_held() == []  # taken once


def test_a_camera_still_busy_when_the_service_asks_counts_its_held_tracks_itself(videos, authority, keys, tmp_path):
    # The service's wait ran out (the camera is late): it takes nothing, and the camera, when it
    # ends, loses and counts them as without a hand-over: each result handed over or counted, once.
    cam = _idle_camera(videos, authority, keys, tmp_path, _failing_vault)
    cam.held.hold(_result(1, 20))
    cam.request_stop(hand_over=True)
    assert cam.hand_over_held() == []
    cam._last_try_of_held()
    assert cam.tracks_lost == 1 and len(cam.held) == 0 and "1 closed tracks not sealed" in cam.stop_failure
    assert cam.hand_over_held() == []


def test_a_stop_without_a_hand_over_still_loses_and_counts(videos, authority, keys, tmp_path):
    cam = _idle_camera(videos, authority, keys, tmp_path, _failing_vault)
    cam.held.hold(_result(1, 20))
    cam.request_stop()
    cam._last_try_of_held()
    assert cam.tracks_lost == 1 and cam.hand_over_held() == []


def test_tracks_handed_over_beyond_the_successors_bounds_are_counted_lost(videos, authority, keys, tmp_path):
    door = camera(videos / "intel_head_pose_female.gif", tmp_path / "v", keys("door"), held_max_bytes=1024 * 1024)
    config = parse_config(config_dict(authority, {"door": door})).cameras["door"]
    cam = Camera(config, held=[_result(i, 400) for i in range(3)])  # 480 KB each: two fit
    assert len(cam.held) == 2 and cam.tracks_lost == 1


def test_a_reload_during_a_stop_is_refused(videos, authority, keys, tmp_path):
    door = camera(videos / "intel_head_pose_female.gif", tmp_path / "v", keys("door"), loop=True)
    service = Service(serve_config(authority, {"door": door})).start()
    service.stop(timeout=120)
    try:
        service.reload(serve_config(authority, {"door": {**door, "buffer_frames": 5}}))
    except RuntimeError as err:
        assert "the service is stopping: reload refused" in str(err)
    else:
        raise AssertionError("a reload after the stop started a camera")
    assert all(cam.stopping for cam in service.camera_list())


def test_a_stop_during_a_reload_waits_for_it_and_stops_the_cameras_it_started(videos, authority, keys, tmp_path):
    # The reload is stood in for by holding its lock while it "starts" a camera: a stop asked for
    # meanwhile must stop that camera too, not leave it running with the tracks handed to it.
    door = camera(videos / "intel_head_pose_female.gif", tmp_path / "v", keys("door"), loop=True)
    gate = camera(videos / "intel_head_pose_female.gif", tmp_path / "w", keys("gate"), loop=True)
    config = serve_config(authority, {"door": door, "gate": gate})
    service = Service(serve_config(authority, {"door": door})).start()
    stopped: list = []
    with service._reload_lock:
        stopper = threading.Thread(target=lambda: stopped.append(service.stop(timeout=120)))
        stopper.start()
        assert wait_for(lambda: service.stopping, timeout=60)
        service._start_camera(config.cameras["gate"])  # what the reload under way does last
        assert not stopped and not service.cameras["gate"].stopping  # the stop waits for the reload
    stopper.join(timeout=300)
    assert stopped == [[]], stopped
    assert all(cam.stopping and cam.join(0) for cam in service.camera_list()), \
        [(cam.config.name, cam.state) for cam in service.camera_list()]
