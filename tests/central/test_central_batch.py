"""Archives: ``facesel batch`` runs one pipeline per real video, on a process pool or on Ray, and
every record lands in the central store; Ray seals the same records as a sequential run."""

from __future__ import annotations

import pytest
from central_common import facesel
from facesel.central import Selection
from facesel.central.batch import VideoTask, run_batch
from facesel.central.pg_backend import PostgresVault
from facesel.central.sync import sync_vault
from facesel.vault import Vault
from facesel.vault.keys import AuthorityPublic
from test_vault_common import orl_faces, share_paths, track_result

VIDEOS = ("intel_face_demographics_walking.gif", "intel_head_pose_female.gif")


def _store(dsn, pub, cameras):
    """A central store accepting the archive camera (enrolled with the authority first)."""
    store = PostgresVault.create(dsn, pub)
    cameras.register(store, "archive")
    return store


def _task(video, cameras, dsn, spool, **kwargs) -> VideoTask:
    return VideoTask(video, str(cameras.key_dir("archive")), dsn, AuthorityPublic.load(cameras.pub_path).to_dict(),
                     spool, **kwargs)


def _signature(store) -> list[tuple]:
    """What the pipeline decided, without the random ids and the seal times: (track, quality) pairs."""
    return sorted((r.track_id, round(r.quality, 9)) for r in store.rows())


@pytest.mark.slow
def test_ray_seals_the_same_records_as_a_sequential_run(pg_server, authority, cameras, tmp_path, shared_data):
    pytest.importorskip("ray")
    pub, _ = authority
    videos = [str(shared_data / "videos" / name) for name in VIDEOS]
    signatures, seen = [], []
    for name, kwargs in (("sequential", {"workers": 1}), ("ray", {"workers": 2, "ray_address": "local"})):
        dsn = pg_server.create_database(f"batch_{name}")
        with _store(dsn, pub, cameras) as store:
            tasks = [_task(v, cameras, dsn, str(tmp_path / name)) for v in videos]
            outcomes = run_batch(tasks, progress=lambda done, total, outcome: seen.append((name, done, total)),
                                 **kwargs)
            assert [o.video for o in outcomes] == videos and all(o.error is None for o in outcomes)
            assert sum(o.sealed for o in outcomes) == sum(o.stored for o in outcomes) == len(store.rows()) > 0
            assert list((tmp_path / name).iterdir()) == []  # every task's spool folder delivered and removed
            assert store.verify_audit().ok
            signatures.append(_signature(store))
    assert signatures[0] == signatures[1]
    assert [s for s in seen if s[0] == "ray"] == [("ray", 1, 2), ("ray", 2, 2)]


@pytest.mark.slow
def test_two_cameras_and_an_archive_batch_in_one_store_opened_across_cameras(central_dsn, authority, cameras,
                                                                             tmp_path, shared_data):
    pub, folder = authority
    store = _store(central_dsn, pub, cameras)
    for n, camera_id in enumerate(("cam-a", "cam-b")):
        cameras.register(store, camera_id)
        with Vault(tmp_path / camera_id, cameras.pub_path, camera=cameras(camera_id)) as vault:
            vault.seal(track_result(orl_faces(shared_data, 2)[n]))
        sync_vault(tmp_path / camera_id, store, cameras(camera_id))
    store.close()
    videos = [str(shared_data / "videos" / name) for name in VIDEOS]
    done = facesel("batch", *videos, "--central", central_dsn, "--camera", str(cameras.key_dir("archive")),
                   "--authority", str(cameras.pub_path), "--workers", "2", "--spool", str(tmp_path / "spool"))
    assert done.returncode == 0, done.stderr
    assert "[2/2]" in done.stderr
    with PostgresVault(central_dsn) as store:
        archived = store.rows(Selection(camera_ids=("archive",)))
    assert archived and f"{len(archived)} records sealed, {len(archived)} stored centrally" in done.stdout
    shares = share_paths(folder)
    opened = facesel("central", "open", "--all", "--central", central_dsn, "--share", str(shares[0]),
                     "--share", str(shares[1]), "--reason", "case 15/3", "--out", str(tmp_path / "out"))
    assert opened.returncode == 0, opened.stderr
    assert f"opened {len(archived) + 2} record(s) from 3 camera(s)" in opened.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["archive", "cam-a", "cam-b"]


def test_batch_refuses_an_unregistered_camera_before_any_work(central_dsn, authority, cameras, tmp_path,
                                                              shared_data):
    pub, _ = authority
    _store(central_dsn, pub, cameras).close()
    cameras("site-7")  # enrolled with the authority, but not registered with the central store
    done = facesel("batch", str(shared_data / "videos" / VIDEOS[0]), "--central", central_dsn,
                   "--camera", str(cameras.key_dir("site-7")), "--authority", str(cameras.pub_path),
                   "--spool", str(tmp_path / "spool"))
    assert done.returncode == 1 and "'site-7' (--camera) is not registered" in done.stderr
    assert not (tmp_path / "spool").exists()


def test_an_unreadable_video_is_reported_and_the_others_still_run(central_dsn, authority, cameras, tmp_path,
                                                                  shared_data):
    pub, _ = authority
    _store(central_dsn, pub, cameras).close()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    good = str(shared_data / "videos" / VIDEOS[1])
    tasks = [_task(v, cameras, central_dsn, str(tmp_path / "spool"), max_frames=6) for v in (str(broken), good)]
    bad, fine = run_batch(tasks)
    assert bad.error and bad.frames == 0 and bad.queued_in is None
    assert fine.error is None and fine.frames == 6


@pytest.mark.slow
def test_batch_on_a_started_ray_cluster_retries_a_failure_once_and_matches_a_sequential_run(
        pg_server, authority, cameras, tmp_path, shared_data, monkeypatch):
    """``ray start --head`` and a worker node joining it (each its own process, as a user starts
    them), then ``run_batch`` with the cluster's address: the same records as a sequential run,
    and a broken video run twice, then reported, in both."""
    pytest.importorskip("ray")
    from ray_cluster import RayCluster

    pub, _ = authority
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    videos = [str(shared_data / "videos" / name) for name in VIDEOS] + [str(broken)]
    cluster = RayCluster(workers=1, cpus=2, head_cpus=0).start()  # the head runs no task: the worker node does
    for key, value in cluster.driver_env.items():  # HOME and RAY_AUTH_MODE, as the nodes have (see ray_cluster)
        monkeypatch.setenv(key, value)
    signatures, progress = [], []
    try:
        for name, kwargs in (("sequential", {"workers": 1}), ("cluster", {"ray_address": cluster.address})):
            dsn = pg_server.create_database(f"batch_{name}_cluster")
            with _store(dsn, pub, cameras) as store:
                tasks = [_task(v, cameras, dsn, str(tmp_path / name)) for v in videos]
                outcomes = run_batch(tasks, progress=lambda done, total, outcome: progress.append((name, done, total)),
                                     **kwargs)
                assert [o.video for o in outcomes] == videos  # nothing lost, in the order given
                *good, bad = outcomes
                assert all(o.error is None and o.attempts == 1 for o in good)
                assert bad.error and bad.attempts == 2 and bad.stored == 0 and bad.queued_in is None
                assert sum(o.stored for o in good) == len(store.rows()) > 0
                assert store.verify_audit().ok
                signatures.append(_signature(store))
    finally:
        cluster.stop()
    assert signatures[0] == signatures[1]
    assert [p for p in progress if p[0] == "cluster"] == [("cluster", 1, 3), ("cluster", 2, 3), ("cluster", 3, 3)]
