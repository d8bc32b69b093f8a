"""Review 8b, finding 2: one line of the central audit log was unbounded.

``central audit`` streams the log through a server-side cursor, but took each line whole: the
tables' owner (who may append to ``audit``) put a line as large as PostgreSQL allows (1 GB) and
every reader of the log, the authority's check, its export and the head a witness keeps,
allocated it. Now the query sends a line only when ``octet_length`` (known without reading it) is
within ``FACESEL_CENTRAL_MAX_LOG_LINE_BYTES`` (16 MiB by default: an ``open`` of 100,000 records
is about 3.5 MB): the check reports the entry as too long, the export and the head refuse it,
each naming its seq, its length and the bound. The attacker is the tables' owner on a real
PostgreSQL server.
"""

from __future__ import annotations

import json
import os

import pytest
from facesel.central.pg_backend import PostgresVault
from facesel.central.read_limit import DEFAULT_LOG_LINE, LOG_LINE_ENV
from hostile_store import as_owner
from peak_memory import run_fresh

HOSTILE = 64 << 20  # four times the default bound; far below the 1 GB the owner could write

# A fresh process, so that its peak is the reading's own (KiB, Linux's VmHWM).
_READER = """
import json, sys
from peak_memory import peak_kib
from facesel.central.pg_backend import PostgresVault
store = PostgresVault(sys.argv[1])
before = peak_kib()
answers = {}
result = store.verify_audit()
answers["verify"] = [result.ok, result.kind, result.message]
for name, call in (("export", store.audit_lines), ("head", store.head)):
    try:
        call()
        answers[name] = "read"
    except ValueError as err:
        answers[name] = str(err)
answers["grown_kib"] = peak_kib() - before
print(json.dumps(answers))
"""


def _stuffed_line(dsn: str, length: int) -> int:
    """Append an entry of ``length`` bytes as the tables' owner; its seq."""
    with PostgresVault(dsn) as store:
        seq = store.head()["seq"] + 1
    as_owner(dsn, ("INSERT INTO audit (seq, event, line, hash) VALUES (%s, 'note', repeat('x', %s), %s)",
                   (seq, length, "0" * 64)))
    return seq


def test_a_stuffed_log_line_is_refused_unread(central_dsn, authority):
    PostgresVault.create(central_dsn, authority[0]).close()
    seq = _stuffed_line(central_dsn, HOSTILE)
    env = {k: v for k, v in os.environ.items() if k != LOG_LINE_ENV}  # the default bound
    done = run_fresh(_READER, central_dsn, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)
    named = f"entry seq {seq} is {HOSTILE} bytes, more than the {DEFAULT_LOG_LINE} a reader takes ({LOG_LINE_ENV})"
    assert answers["verify"][:2] == [False, "too long"] and named in answers["verify"][2], answers
    assert named in answers["export"] and named in answers["head"], answers
    # the line never reached the reader (on main its peak grew by more than the line weighs)
    assert answers["grown_kib"] * 1024 < HOSTILE // 4, answers


def test_the_bound_is_a_setting_and_a_line_at_it_is_read(central_dsn, authority, monkeypatch):
    PostgresVault.create(central_dsn, authority[0]).close()
    seq = _stuffed_line(central_dsn, 5000)
    with PostgresVault(central_dsn) as store:
        monkeypatch.setenv(LOG_LINE_ENV, "5000")
        # read: the line is no JSON, so the chain check says edited (not too long), the export has it
        assert store.verify_audit().kind == "edited"
        assert store.audit_lines()[-1] == "x" * 5000
        monkeypatch.setenv(LOG_LINE_ENV, "4999")
        assert store.verify_audit().kind == "too long"
        with pytest.raises(ValueError, match=f"entry seq {seq} is 5000 bytes, more than the 4999"):
            store.audit_lines()
        monkeypatch.setenv(LOG_LINE_ENV, "0")
        with pytest.raises(ValueError, match=f"{LOG_LINE_ENV} must be a whole number of bytes"):
            store.verify_audit()
