"""Review round 10b, finding 4: the offline check of a central log export read every line whole.

``facesel central audit --log FILE`` checks an export (``central audit --export``) without the
store, e.g. by an auditor the store's operator hands it to. Review 8b bounded each line the query
sends (``FACESEL_CENTRAL_MAX_LOG_LINE_BYTES``), but the export's reader took each line of the file
whole: a hostile export of one 64 MiB line made the checker hold it (more than once: bytes, text
and the JSON parser's try) before it said "edited". No PostgreSQL needed: the export is a file.
"""

from __future__ import annotations

import json
import os

from facesel.central.read_limit import LOG_LINE_ENV
from peak_memory import run_fresh

HOSTILE = 64 << 20  # four times the default bound
BOUND = 1 << 20  # the test's bound: what the reader may hold of a line is a few times this

_CHECKER = """
import json, sys
from peak_memory import peak_kib
from facesel.central.pg_audit import verify_export
before = peak_kib()
result = verify_export(sys.argv[1])
print(json.dumps({"ok": result.ok, "kind": result.kind, "message": result.message,
                  "grown_kib": peak_kib() - before}))
"""


def test_a_stuffed_line_in_an_export_is_refused_without_being_kept(tmp_path):
    export = tmp_path / "central-log.jsonl"
    with open(export, "wb") as f:
        f.write(b"x" * HOSTILE + b"\n" + b'{"seq": 1}\n')
    env = {**os.environ, LOG_LINE_ENV: str(BOUND)}
    done = run_fresh(_CHECKER, export, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["ok"], answer["kind"]) == (False, "too long"), answer
    assert f"entry seq 0 is {HOSTILE} bytes, more than the {BOUND} a reader takes" in answer["message"]
    assert answer["grown_kib"] * 1024 < HOSTILE // 8, answer  # on main: twice the line and more


def test_a_line_at_the_bound_is_read_and_judged(tmp_path, monkeypatch):
    from facesel.central.pg_audit import verify_export

    export = tmp_path / "central-log.jsonl"
    export.write_bytes(b"x" * 5000 + b"\n")
    monkeypatch.setenv(LOG_LINE_ENV, "5000")
    assert verify_export(export).kind == "edited"  # read: no JSON, so edited, not too long
    monkeypatch.setenv(LOG_LINE_ENV, "4999")
    assert verify_export(export).kind == "too long"


def test_a_fifo_in_place_of_the_export_is_refused_unopened(tmp_path):
    from facesel.central.pg_audit import verify_export
    from facesel.vault.fsutil import NotRegularFileError

    fifo = tmp_path / "central-log.jsonl"
    os.mkfifo(fifo)
    try:
        verify_export(fifo)
    except NotRegularFileError as err:
        assert "a FIFO" in str(err)
    except FileNotFoundError as err:  # what main said: refused too, if misnamed
        raise AssertionError(f"a FIFO was called missing: {err}") from None
    else:
        raise AssertionError("a FIFO was read as an export")
