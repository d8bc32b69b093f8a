"""Review 5, finding 6 (medium): the index is a cache, but whoever can write the vault folder
could use it to stop evidence from being sealed.

``index.sqlite`` is a database anyone with write access to the folder can replace with one of their
own. A trigger on ``records`` (a recursive query that never ends) made the camera's next seal hang
for ever inside its index insert: no snapshot was sealed again, and nothing said why. A view in
place of the table hung ``facesel list`` and the desk's find. And garbage under the index's name
stopped the camera from starting at all, although the records and the signed log are the truth.
Now an index must be exactly ours (one table, its two indexes, our columns; no trigger or view),
readers refuse any other in one line, and the camera moves it into ``quarantine/`` (logged) and
rebuilds it from the records. The camera runs in a child process with a deadline: the hang is
what the test looks for.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import facesel
import pytest
from facesel.vault.audit import AuditLog
from test_vault_common import (
    T0,
    FakeClock,
    camera_dir,
    make_authority,
    orl_faces,
    run_cli,
    track_result,
    vault_at,
)

HOME = str(Path(facesel.__file__).resolve().parents[1])
TESTS = str(Path(__file__).resolve().parent)
ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"

CAMERA = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[4])
    import cv2
    from facesel.vault import Vault
    from test_vault_common import FakeClock, T0, DAY, track_result
    clock = FakeClock(T0 + 3 * 3600)
    face = cv2.imread(sys.argv[3], cv2.IMREAD_COLOR)
    with Vault(sys.argv[1], sys.argv[2] + "/authority.pub", camera=sys.argv[5], clock=clock, elapsed=clock) as vault:
        print("sealed", vault.seal(track_result(face, track_id=9)), len(vault.rows()), flush=True)
""")


@pytest.fixture
def sealed(tmp_path, shared_data):
    adir = make_authority(tmp_path / "auth")[1]
    clock = FakeClock(T0)
    with vault_at(tmp_path / "v", adir, clock=clock) as vault:
        ids = []
        for i, face in enumerate(orl_faces(shared_data, 2)):
            clock.advance(3600)
            ids.append(vault.seal(track_result(face, track_id=i)))
    face = shared_data / "faces" / "orl" / "s3" / "1.pgm"
    return adir, tmp_path / "v", ids, face


def _camera(adir, vault_dir, face, timeout=60):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([HOME, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", CAMERA, str(vault_dir), str(adir), str(face), TESTS,
                           str(camera_dir(adir))], capture_output=True, text=True, env=env, timeout=timeout)


def _tamper(vault_dir, *statements):
    db = sqlite3.connect(vault_dir / "index.sqlite")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


@pytest.mark.parametrize("how", ["trigger", "view", "garbage"])
def test_a_foreign_index_never_stops_the_camera_sealing(sealed, capsys, how):
    adir, vault_dir, _, face = sealed
    if how == "trigger":  # every insert runs a query that never ends
        _tamper(vault_dir, "DELETE FROM records",
                f"CREATE TRIGGER slow AFTER INSERT ON records BEGIN SELECT ({ENDLESS}); END")
    elif how == "view":
        _tamper(vault_dir, "DROP TABLE records",
                "CREATE TABLE records_real (x)",
                f"CREATE VIEW records AS SELECT ({ENDLESS}) AS record_id, 1 AS camera_id, 1 AS epoch_id, "
                "1 AS sealed_at, 1 AS first_timestamp, 1 AS last_timestamp, 1 AS quality, 1 AS track_id, "
                "1 AS size, 1 AS sha256",
                "CREATE INDEX records_sealed_at ON records_real (x)")
    else:
        for extra in ("index.sqlite-wal", "index.sqlite-shm"):
            (vault_dir / extra).unlink(missing_ok=True)
        (vault_dir / "index.sqlite").write_bytes(b"not a database" * 100)
    done = _camera(adir, vault_dir, face)  # before: the trigger and the view hung (timeout); garbage: no start
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == "sealed" and done.stdout.split()[2] == "3"  # two rebuilt + the new one
    replaced = [e for e in AuditLog(vault_dir / "audit.log").entries() if e["event"] == "index-replaced"]
    assert len(replaced) == 1 and all((vault_dir / p).is_file() for p in replaced[0]["moved_to"])
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)
    assert code == 0, out


def test_a_reader_refuses_a_foreign_index_in_one_line(sealed):
    _, vault_dir, _, _ = sealed
    _tamper(vault_dir, "ALTER TABLE records RENAME TO records_real",
            f"CREATE VIEW records AS SELECT * FROM records_real WHERE ({ENDLESS}) > 0")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([HOME, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "facesel", "list", "--vault", str(vault_dir)], capture_output=True,
                          text=True, env=env, timeout=60)  # before: a query that never ended
    assert done.returncode == 1 and "not a usable vault index" in done.stderr and "view records" in done.stderr, \
        done.stderr
