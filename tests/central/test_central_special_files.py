"""Review 4, finding 4 (medium): the class "a special file in place of a record" (round 2 closed it
for the vault's readers: every one of them refuses a FIFO, device, folder or link at once, checked
on the open descriptor) was open again in the paths written since: the forwarder (``facesel sync``)
and the file backend of ``central`` read records with ``Path.read_bytes()``. A FIFO put in place of
one record file by anyone who can write the vault folder blocked ``facesel sync`` for ever, so no
record of that camera reached the central store again, and a huge sparse file would have been read
whole into memory. Both now read through the vault's own regular-file reader.
"""

from __future__ import annotations

import os
import threading

from central_common import facesel
from facesel.central.file_backend import FileVaultBackend
from facesel.central.pg_backend import PostgresVault
from facesel.vault import Vault
from facesel.vault.errors import RecordError
from facesel.vault.store import record_path
from test_vault_common import orl_faces, track_result


def _fifo_in_place_of(path) -> None:
    path.unlink()
    os.mkfifo(path)


def test_sync_is_not_blocked_by_a_fifo_in_place_of_a_record(central_dsn, authority, cameras, tmp_path, shared_data):
    cameras.in_new_store(central_dsn, authority[0])
    folder = tmp_path / "cam-a"
    with Vault(folder, cameras.pub_path, camera=cameras("cam-a")) as vault:
        blocked, good = (vault.seal(track_result(f, track_id=i)) for i, f in enumerate(orl_faces(shared_data, 2)))
    _fifo_in_place_of(record_path(folder, blocked))
    # Before: the forwarder waited on the FIFO for ever (this timeout fired); now it says why and goes on.
    done = facesel("sync", "--vault", str(folder), "--camera", str(cameras.key_dir("cam-a")), "--central",
                   central_dsn, timeout=120)
    assert done.returncode == 1 and blocked in done.stderr and "not a regular file" in done.stderr, done.stderr
    with PostgresVault(central_dsn) as store:
        assert {r.record_id for r in store.rows()} == {good}
    assert not record_path(folder, good).exists()
    assert record_path(folder, blocked).is_fifo()  # left in place for the camera's recovery to quarantine


def test_the_file_backend_refuses_a_fifo_at_once(tmp_path, authority, cameras, shared_data):
    folder = tmp_path / "cam-a"
    with Vault(folder, cameras.pub_path, camera=cameras("cam-a")) as vault:
        rid = vault.seal(track_result(orl_faces(shared_data, 1)[0]))
    path = record_path(folder, rid)
    _fifo_in_place_of(path)
    backend = FileVaultBackend(folder)
    outcome = []

    def read():
        try:
            backend.read(rid)
            outcome.append("read")
        except RecordError as err:
            outcome.append(str(err))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # the old code: blocked in open() on the FIFO; let it go before failing
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(10)
    backend.close()
    assert len(outcome) == 1 and "not a regular file" in outcome[0], outcome
