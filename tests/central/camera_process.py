"""A camera as its own process, for the central tests (run as a script, not collected).

    python camera_process.py VAULT AUTHORITY_PUB CAMERA_KEY COUNT SYNC_EVERY DSN FACE...

Seals COUNT real faces into VAULT, signed with the camera key folder CAMERA_KEY, printing each
record id once ``seal`` returned.
With SYNC_EVERY > 0 it also forwards the vault to DSN after every SYNC_EVERY seals and at the
end (an unreachable store is reported and skipped: the records wait). CRASH_IN_SYNC=<step> makes
it SIGKILL itself at one step of the first forwarding: "in-transaction" (inside the central
transaction, before commit), "after-commit" (committed centrally, nothing logged locally),
"after-local-log" (logged locally, file not yet deleted), "after-row-deleted" (logged, index row
deleted, file not yet).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facesel.central import pg_audit, sync  # noqa: E402
from facesel.central.pg_backend import CentralUnavailableError, PostgresVault  # noqa: E402
from facesel.vault import Vault  # noqa: E402
from facesel.vault.index import Index  # noqa: E402
from test_vault_common import track_result  # noqa: E402


def _die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def _arm(step: str) -> None:
    if step == "in-transaction":
        real_append = pg_audit.append

        def append(conn, now, event, **fields):
            entry = real_append(conn, now, event, **fields)
            if event == "received" and entry["seq"] >= 4:  # some rows inserted, none committed
                _die()
            return entry
        pg_audit.append = append
    elif step == "after-commit":
        sync._LocalVault.forget = _die
    elif step == "after-local-log":
        Index.delete = _die
    elif step == "after-row-deleted":
        Path.unlink = _die  # the forwarder's next step after the row: the file's deletion
    elif step:
        raise ValueError("CRASH_IN_SYNC must be in-transaction, after-commit, after-local-log or after-row-deleted, "
                         f"got {step!r}")


def _forward(vault_dir: str, dsn: str, camera_key: str) -> None:
    try:
        with PostgresVault(dsn, connect_timeout=2) as store:
            sync.sync_vault(vault_dir, store, camera_key, batch_size=4)
    except CentralUnavailableError as err:
        print(f"queued: {err}", file=sys.stderr, flush=True)


def main() -> None:
    vault_dir, pub, camera_key, count, sync_every, dsn, *faces = sys.argv[1:]
    count, sync_every = int(count), int(sync_every)
    images = [cv2.imread(p, cv2.IMREAD_COLOR) for p in faces]
    with Vault(vault_dir, pub, camera=camera_key) as vault:
        for i in range(count):
            print(vault.seal(track_result(images[i % len(images)], track_id=i)), flush=True)
            if sync_every and (i + 1) % sync_every == 0:
                _forward(vault_dir, dsn, camera_key)
    if sync_every:
        _forward(vault_dir, dsn, camera_key)
    _arm(os.environ.get("CRASH_IN_SYNC", ""))
    if os.environ.get("CRASH_IN_SYNC"):
        _forward(vault_dir, dsn, camera_key)


if __name__ == "__main__":
    main()
