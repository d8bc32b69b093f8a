"""Store-and-forward: cameras seal locally and ``facesel sync`` ships to PostgreSQL, through
crashes (SIGKILL at each step, and at random moments) and outages of the central store."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from central_common import camera, check_delivered, facesel, orl_paths, sealed_ids
from facesel.central import Selection
from facesel.central.anchors import anchor_problems
from facesel.central.pg_audit import entry_hash
from facesel.central.pg_backend import CentralUnavailableError, PostgresVault
from facesel.central.sync import sync_vault
from facesel.vault import Vault
from facesel.vault.store import record_path
from test_vault_common import orl_faces, track_result


def _central(dsn, pub, cameras, *camera_ids):
    """A central store with these cameras enrolled (authority) and registered (store)."""
    store = PostgresVault.create(dsn, pub)
    cameras.register(store, *camera_ids)
    return store


def _sync_cli(cameras, folder, dsn):
    """``facesel sync`` of the vault ``folder``, whose camera (its folder's name) signs."""
    return facesel("sync", "--vault", str(folder), "--camera", str(cameras.key_dir(folder.name)), "--central", dsn)


def test_two_cameras_forward_and_the_local_copies_go(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    faces = orl_faces(shared_data, 3)
    store = _central(central_dsn, pub, cameras, "cam-a", "cam-b")
    expected, folders = set(), []
    for camera_id in ("cam-a", "cam-b"):
        folder = tmp_path / camera_id
        with Vault(folder, cameras.pub_path, camera=cameras(camera_id)) as vault:
            expected |= {vault.seal(track_result(f, track_id=i)) for i, f in enumerate(faces)}
        report = sync_vault(folder, store, cameras(camera_id), batch_size=2)
        assert (report.stored, report.duplicates, report.deleted, report.skipped) == (3, 0, 3, [])
        folders.append(folder)
    store.close()
    check_delivered(central_dsn, folders, expected)
    # The camera's vault opens cleanly afterwards: recovery finds nothing to repair.
    with Vault(folders[0], cameras.pub_path, camera=cameras("cam-a")) as vault:
        assert vault.rows() == [] and not any(vault.recovery.values()), vault.recovery


def test_sync_signs_only_with_the_vaults_own_camera_key(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    store = _central(central_dsn, pub, cameras, "cam-a", "cam-b")
    folder = tmp_path / "cam-a"
    with Vault(folder, cameras.pub_path, camera=cameras("cam-a")) as vault:
        rid = vault.seal(track_result(orl_faces(shared_data, 1)[0]))
    with pytest.raises(ValueError, match="not the key of vault"):
        sync_vault(folder, store, cameras("cam-b"))  # a registered camera, but not this vault's
    assert record_path(folder, rid).exists() and store.rows() == []
    store.close()
    refused = _sync_cli(cameras, tmp_path / "cam-b", central_dsn)  # no vault there
    assert refused.returncode == 1
    assert _sync_cli(cameras, folder, central_dsn).returncode == 0
    check_delivered(central_dsn, [folder], {rid})


def test_a_tampered_local_record_stays_local_and_is_reported(central_dsn, authority, cameras, tmp_path,
                                                             shared_data):
    pub, _ = authority
    store = _central(central_dsn, pub, cameras, "cam-a")
    folder = tmp_path / "cam-a"
    with Vault(folder, cameras.pub_path, camera=cameras("cam-a")) as vault:
        good, bad = (vault.seal(track_result(f)) for f in orl_faces(shared_data, 2))
    path = record_path(folder, bad)
    data = bytearray(path.read_bytes())
    data[200] ^= 0xFF
    path.write_bytes(bytes(data))
    report = sync_vault(folder, store, cameras("cam-a"))
    assert report.stored == 1 and [rid for rid, _ in report.skipped] == [bad]
    assert "differs from the one sealed" in report.skipped[0][1]
    assert {r.record_id for r in store.rows()} == {good}
    assert path.exists()  # evidence of the tampering is kept, not deleted
    store.close()


def test_an_unregistered_camera_stays_queued_until_registered(central_dsn, authority, cameras, tmp_path,
                                                              shared_data):
    pub, _ = authority
    store = _central(central_dsn, pub, cameras)
    folder = tmp_path / "cam-new"
    with Vault(folder, cameras.pub_path, camera=cameras("cam-new")) as vault:
        rid = vault.seal(track_result(orl_faces(shared_data, 1)[0]))
    report = sync_vault(folder, store, cameras("cam-new"))
    assert report.stored == 0 and "not registered" in report.skipped[0][1]
    assert record_path(folder, rid).exists()
    cameras.register(store, "cam-new")
    assert sync_vault(folder, store, cameras("cam-new")).stored == 1
    store.close()
    check_delivered(central_dsn, [folder], {rid})


def test_eight_cameras_seal_and_sync_at_once(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    camera_ids = [f"cam-{i}" for i in range(8)]
    _central(central_dsn, pub, cameras, *camera_ids).close()  # each camera enrolled with its own key
    faces = orl_paths(shared_data, 4)
    procs = {c: camera(tmp_path / c, cameras.pub_path, cameras.key_dir(c), 6, 2, central_dsn, faces)
             for c in camera_ids}
    expected = set()
    for c, proc in procs.items():
        ids, err = sealed_ids(proc)
        assert proc.returncode == 0, err
        assert len(ids) == 6
        expected |= set(ids)
    check_delivered(central_dsn, [tmp_path / c for c in camera_ids], expected)
    with PostgresVault(central_dsn) as store:
        per_camera = {c: len(store.rows(Selection(camera_ids=(c,)))) for c in camera_ids}
    assert per_camera == dict.fromkeys(camera_ids, 6)


# "after-row-deleted" (review 4): the file of a logged forwarding outlived its index row and stayed
# until the camera's next start, since passes went by index rows only.
@pytest.mark.parametrize("step", ["in-transaction", "after-commit", "after-local-log", "after-row-deleted"])
def test_sigkill_of_sync_at_each_step_then_restart(central_dsn, authority, cameras, tmp_path, shared_data, step):
    pub, _ = authority
    _central(central_dsn, pub, cameras, "cam-a").close()
    folder = tmp_path / "cam-a"
    proc = camera(folder, cameras.pub_path, cameras.key_dir("cam-a"), 10, 0, central_dsn,
                  orl_paths(shared_data, 3), env={"CRASH_IN_SYNC": step})
    ids, _ = sealed_ids(proc)
    assert proc.returncode == -signal.SIGKILL and len(ids) == 10
    with PostgresVault(central_dsn) as store:
        committed = {r.record_id for r in store.rows()}
    assert committed == (set() if step == "in-transaction" else set(ids[:4]))  # the first batch of 4
    done = _sync_cli(cameras, folder, central_dsn)
    assert done.returncode == 0, done.stderr
    check_delivered(central_dsn, [folder], set(ids))


@pytest.mark.slow
def test_sigkill_of_sync_at_random_moments_loses_and_duplicates_nothing(central_dsn, authority, cameras, tmp_path,
                                                                        shared_data):
    pub, _ = authority
    _central(central_dsn, pub, cameras, "cam-a").close()
    folder = tmp_path / "cam-a"
    proc = camera(folder, cameras.pub_path, cameras.key_dir("cam-a"), 60, 0, central_dsn,
                  orl_paths(shared_data, 5))
    ids, _ = sealed_ids(proc)
    assert len(ids) == 60
    rng = random.Random(15)
    for _ in range(4):
        sync = subprocess.Popen([sys.executable, "-m", "facesel", "sync", "--vault", str(folder),
                                 "--camera", str(cameras.key_dir("cam-a")),
                                 "--central", central_dsn, "--batch", "1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 2.5))  # start-up is about 1 s; then one record per transaction
        sync.send_signal(signal.SIGKILL)
        sync.wait()
    done = _sync_cli(cameras, folder, central_dsn)
    assert done.returncode == 0, done.stderr
    check_delivered(central_dsn, [folder], set(ids))


def test_central_store_down_while_cameras_seal(pg_server, central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    _central(central_dsn, pub, cameras, "cam-a", "cam-b").close()
    pub_path = cameras.pub_path
    faces = orl_paths(shared_data, 3)
    pg_server.stop("immediate")  # a crash of the server, not a clean shutdown
    try:
        procs = [camera(tmp_path / c, pub_path, cameras.key_dir(c), 4, 2, central_dsn, faces)
                 for c in ("cam-a", "cam-b")]
        expected = set()
        for proc in procs:
            ids, err = sealed_ids(proc)
            expected |= set(ids)
            assert proc.returncode == 0 and "queued" in err
        assert len(expected) == 8
        for c in ("cam-a", "cam-b"):
            assert len(list((tmp_path / c / "records").glob("*.fsr"))) == 4  # all queued locally
        failed = _sync_cli(cameras, tmp_path / "cam-a", central_dsn)
        assert failed.returncode == 1 and "unreachable" in failed.stderr and "stay queued" in failed.stderr
        with pytest.raises(CentralUnavailableError):
            PostgresVault(central_dsn, connect_timeout=2)
        # A long-running forwarder started during the outage delivers once the store is back. The
        # store comes back once the forwarder has found it down (not after a fixed 2 s: on a loaded
        # machine its start-up alone took longer, and it never saw the outage).
        watcher_err = tmp_path / "watcher.err"
        with open(watcher_err, "w") as err_file:
            watcher = subprocess.Popen([sys.executable, "-m", "facesel", "sync", "--vault", str(tmp_path / "cam-b"),
                                        "--camera", str(cameras.key_dir("cam-b")),
                                        "--central", central_dsn, "--watch", "0.5"],
                                       stdout=subprocess.DEVNULL, stderr=err_file, text=True)
        deadline = time.monotonic() + 120
        while "retrying" not in watcher_err.read_text() and watcher.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        pg_server.start()
    try:
        deadline = time.monotonic() + 120
        while list((tmp_path / "cam-b" / "records").glob("*.fsr")) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        _stop(watcher, signal.SIGINT)
    err = watcher_err.read_text()
    assert "retrying" in err and "stopped by a signal" in err
    assert watcher.returncode == 0  # a forwarder has no end of its own: a signal is its normal stop
    assert _sync_cli(cameras, tmp_path / "cam-a", central_dsn).returncode == 0
    check_delivered(central_dsn, [tmp_path / "cam-a", tmp_path / "cam-b"], expected)


def _stop(proc: subprocess.Popen, sig: int) -> str | None:
    """Send ``sig``; the process's standard error (None where it went to a file). Killed (and the
    test failed) if it does not end."""
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"facesel sync --watch did not end within 60 s of signal {sig}")
    return err


def test_sync_stops_between_batches_when_asked(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    store = _central(central_dsn, pub, cameras, "cam-a")
    folder = tmp_path / "cam-a"
    with Vault(folder, cameras.pub_path, camera=cameras("cam-a")) as vault:
        sealed = {vault.seal(track_result(f, track_id=i)) for i, f in enumerate(orl_faces(shared_data, 3))}
    asked = []
    report = sync_vault(folder, store, cameras("cam-a"), batch_size=1,
                        should_stop=lambda: asked.append(1) or len(asked) > 1)  # stop before the second batch
    assert (report.stored, report.deleted) == (1, 1)
    assert len(list((folder / "records").glob("*.fsr"))) == 2  # the rest stays queued, untouched
    report = sync_vault(folder, store, cameras("cam-a"), batch_size=1)
    assert (report.stored, report.deleted, report.skipped) == (2, 2, [])
    store.close()
    check_delivered(central_dsn, [folder], sealed)


def test_a_watching_forwarder_stops_cleanly_on_sigterm(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    _central(central_dsn, pub, cameras, "cam-a").close()
    folder = tmp_path / "cam-a"
    with Vault(folder, cameras.pub_path, camera=cameras("cam-a")) as vault:
        first = vault.seal(track_result(orl_faces(shared_data, 1)[0]))
    watcher = subprocess.Popen([sys.executable, "-m", "facesel", "sync", "--vault", str(folder),
                                "--camera", str(cameras.key_dir("cam-a")), "--central", central_dsn,
                                "--watch", "0.3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while list((folder / "records").glob("*.fsr")) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        err = _stop(watcher, signal.SIGTERM)
    assert watcher.returncode == 0, err
    assert "stopped by a signal" in err
    check_delivered(central_dsn, [folder], {first})


def _rewrite_central_log_from(dsn: str, seq: int) -> None:
    """What a database owner could do: edit entry ``seq`` and recompute every hash after it."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE audit DISABLE TRIGGER USER")
        entries = [json.loads(r[0]) for r in conn.execute("SELECT line FROM audit ORDER BY seq")]
        entries[seq]["size"] += 1
        prev = entries[seq - 1]["hash"]
        for entry in entries[seq:]:
            entry["prev"] = prev
            entry["hash"] = prev = entry_hash(entry)
            conn.execute("UPDATE audit SET line = %s, hash = %s WHERE seq = %s",
                         (json.dumps(entry, sort_keys=True, separators=(",", ":")), entry["hash"], entry["seq"]))


def _three_sealed_and_forwarded(central_dsn, authority, cameras, folder, shared_data):
    """Camera cam-a enrolled in the central store, three real faces sealed in its vault ``folder``
    and forwarded (central seq 0 created, 1 registered, 2.. received); returns the store."""
    pub, _ = authority
    store = _central(central_dsn, pub, cameras, "cam-a")
    with Vault(folder, cameras.pub_path, camera=cameras("cam-a")) as vault:
        for face in orl_faces(shared_data, 3):
            vault.seal(track_result(face))
    sync_vault(folder, store, cameras("cam-a"))
    return store


def test_a_rewritten_central_log_is_caught_by_the_cameras_anchors(central_dsn, authority, cameras, tmp_path,
                                                                  shared_data):
    folder = tmp_path / "cam-a"
    store = _three_sealed_and_forwarded(central_dsn, authority, cameras, folder, shared_data)
    assert anchor_problems(store, folder) == (3, [])
    _rewrite_central_log_from(central_dsn, 3)  # seq 0 created, 1 registered, 2.. received
    assert store.verify_audit().ok  # the chain alone cannot tell
    checked, problems = anchor_problems(store, folder)
    assert checked == 3 and len(problems) == 2 and all("rewritten" in p for p in problems)
    store.close()
    done = facesel("central", "audit", "--central", central_dsn, "--vault", str(folder))
    assert done.returncode == 1 and "ANCHOR" in done.stdout


def test_anchors_deleted_from_the_cameras_log_do_not_hide_a_rewrite(central_dsn, authority, cameras, tmp_path,
                                                                    shared_data):
    """Review 4 (finding 1's class, decisions from unverified log lines): the anchors were read from
    the camera's log without verifying it, so whoever rewrote the central log and could write the
    camera's folder deleted the two anchors that contradicted the rewrite: the third "agreed" and
    ``central audit`` exited 0. The camera's log is verified first now."""
    folder = tmp_path / "cam-a"
    store = _three_sealed_and_forwarded(central_dsn, authority, cameras, folder, shared_data)
    _rewrite_central_log_from(central_dsn, 3)
    log = folder / "audit.log"
    lines = log.read_bytes().splitlines(keepends=True)
    kept = [line for line in lines if not (b'"reason":"forwarded"' in line
                                           and json.loads(line)["central_seq"] >= 3)]
    assert len(kept) == len(lines) - 2
    log.write_bytes(b"".join(kept))
    checked, problems = anchor_problems(store, folder)
    assert checked == 0 and len(problems) == 1 and "does not verify" in problems[0], problems
    store.close()
    done = facesel("central", "audit", "--central", central_dsn, "--vault", str(folder))
    assert done.returncode == 1 and "ANCHOR" in done.stdout and "does not verify" in done.stdout


def test_one_forwarder_per_vault_at_a_time(central_dsn, authority, cameras, tmp_path, shared_data):
    import fcntl
    import os

    from facesel.central.sync import SYNC_LOCK

    pub, _ = authority
    store = _central(central_dsn, pub, cameras, "cam-a")
    folder = tmp_path / "cam-a"
    with Vault(folder, cameras.pub_path, camera=cameras("cam-a")) as vault:
        vault.seal(track_result(orl_faces(shared_data, 1)[0]))
    fd = os.open(folder / SYNC_LOCK, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a running `facesel sync` holds it
    try:
        with pytest.raises(RuntimeError, match="another facesel sync"):
            sync_vault(folder, store, cameras("cam-a"))
    finally:
        os.close(fd)
    assert sync_vault(folder, store, cameras("cam-a")).stored == 1
    store.close()
