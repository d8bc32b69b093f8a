"""Review round 15b (attack25): the forwarder read a sparse file under a record's name whole.

``facesel sync`` read each record file (up to ``MAX_RECORD``, 1 GiB) before comparing it with the
digest its ``seal`` entry logged; a sparse file (no disk used) that a writer of the vault folder put
under a record's name cost twice its size in memory at every pass. Now the size the seal logged
bounds the read: a larger file stays local, reported, unread. Bytes counted, never timed.
"""

from __future__ import annotations

import numpy as np
from facesel.central.pg_backend import PostgresVault
from facesel.central.sync import sync_vault
from facesel.vault import Vault
from facesel.vault.store import record_path
from test_vault_common import count_reads, plant_sparse, track_result


def test_a_sparse_file_under_a_records_name_stays_local_unread(central_dsn, authority, cameras, tmp_path,
                                                               monkeypatch):
    pub, _ = authority
    store = PostgresVault.create(central_dsn, pub)
    cameras.register(store, "cam-a")
    folder = tmp_path / "cam-a"
    with Vault(folder, cameras.pub_path, camera=cameras("cam-a")) as vault:
        good, bad = (vault.seal(track_result(np.full((24, 20, 3), v, np.uint8))) for v in (60, 120))
    path = record_path(folder, bad)
    size = path.stat().st_size
    plant_sparse(path, 64 << 20)
    counted = count_reads(monkeypatch)
    report = sync_vault(folder, store, cameras("cam-a"))
    read = sum(counted)
    assert read < 4 << 20, f"the forwarder read {read} bytes"  # main: 64 MiB more
    assert report.stored == 1 and [rid for rid, _ in report.skipped] == [bad]
    assert f"more than the {size} bytes logged" in report.skipped[0][1], report.skipped
    assert {r.record_id for r in store.rows()} == {good}
    assert path.exists()  # kept for investigation, as a tampered record is
    store.close()
