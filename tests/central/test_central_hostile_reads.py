"""Review 7b, open item 1 (low): a hostile central store made its readers allocate what it sent.

``read()`` fetched a record's ``bytea`` (up to 1 GB) or its whole object before the digest was
checked, and ``rows()`` took whatever text a row held. The owner of the tables can already
destroy records; this let them also exhaust the memory of the authority's opening machine.

Now the query returns a record's bytes only when ``octet_length`` (known to PostgreSQL without
reading them) is within the reader's bound (``FACESEL_CENTRAL_MAX_RECORD_BYTES``, 256 MiB by
default), an object is fetched with a ``Range`` and read through a cap, and an index row's text
columns come back only when short. The attackers are the tables' owner on a real PostgreSQL server
and a real HTTP server answering for the object store.
"""

from __future__ import annotations

import json
import os
import re
import threading

import pytest
from facesel.central.backend import Selection
from facesel.central.pg_backend import PostgresVault
from facesel.central.read_limit import DEFAULT_LIMIT, LIMIT_ENV, record_read_limit
from facesel.vault.errors import RecordError
from hostile_store import as_owner, one_synced_record, point_record_at_object, read_request
from network_attacker import Listener
from peak_memory import run_fresh

HOSTILE = 64 << 20   # what the store sends: far above the bound the tests set, far below what it could
BOUND = 1 << 20

# Run in a fresh process, so its peak memory is the read's own: prints the growth of the peak
# resident size over the read (KiB, Linux's VmHWM: ru_maxrss would start at pytest's peak) and what
# the read answered.
_READER = """
import json, sys
from peak_memory import peak_kib
from facesel.central.pg_backend import PostgresVault
store = PostgresVault(sys.argv[1])
before = peak_kib()
try:
    answer = "returned %d bytes" % len(store.read(sys.argv[2]))
except Exception as err:
    answer = "%s: %s" % (type(err).__name__, err)
grown = peak_kib() - before
print(json.dumps({"grown_kib": grown, "answer": answer}))
"""


def test_an_inflated_record_is_refused_before_its_bytes_travel(central_dsn, authority, cameras, tmp_path,
                                                               shared_data):
    with PostgresVault.create(central_dsn, authority[0]) as store:
        record_id = one_synced_record(store, cameras, tmp_path / "cam-a", shared_data)
    as_owner(central_dsn, ("UPDATE records SET data = data || convert_to(repeat('x', %s), 'UTF8') "
                           "WHERE record_id = %s", (HOSTILE, record_id)))
    env = {**os.environ, LIMIT_ENV: str(BOUND)}
    done = run_fresh(_READER, central_dsn, record_id, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["answer"].startswith("RecordError"), result
    assert record_id in result["answer"] and str(BOUND) in result["answer"]
    named = int(re.search(r"holds (\d+) bytes", result["answer"]).group(1))
    assert named > HOSTILE  # the stored size: the record's own bytes plus the padding
    # The hostile bytes never reached the reader: its peak grew by far less than they weigh (the
    # old read held them twice, libpq's copy and Python's).
    assert result["grown_kib"] * 1024 < HOSTILE // 4, result


def test_a_record_within_the_bound_still_reads(central_dsn, authority, cameras, tmp_path, shared_data, monkeypatch):
    with PostgresVault.create(central_dsn, authority[0]) as store:
        record_id = one_synced_record(store, cameras, tmp_path / "cam-a", shared_data)
        size = store.rows(Selection(record_ids=(record_id,)))[0].size
        monkeypatch.setenv(LIMIT_ENV, str(size))
        assert len(store.read(record_id)) == size
        monkeypatch.setenv(LIMIT_ENV, str(size - 1))
        with pytest.raises(RecordError, match=f"record {record_id}: .* holds {size} bytes .* more than the {size - 1}"):
            store.read(record_id)


def test_the_bound_setting_is_checked(monkeypatch):
    monkeypatch.delenv(LIMIT_ENV, raising=False)
    assert record_read_limit() == DEFAULT_LIMIT == 256 << 20
    for bad in ("0", "-5", "lots", str((1 << 30) + 1)):
        monkeypatch.setenv(LIMIT_ENV, bad)
        with pytest.raises(ValueError, match=f"{LIMIT_ENV} must be .* got '{bad}'"):
            record_read_limit()


def test_a_row_stuffed_with_a_huge_value_is_refused_unread(central_dsn, authority, cameras, tmp_path, shared_data):
    with PostgresVault.create(central_dsn, authority[0]) as store:
        record_id = one_synced_record(store, cameras, tmp_path / "cam-a", shared_data)
        as_owner(central_dsn, ("UPDATE records SET sha256 = sha256 || repeat('0', %s) WHERE record_id = %s",
                               (8 << 20, record_id)))
        with pytest.raises(RecordError, match=f"record {record_id}: .* sha256 of {64 + (8 << 20)} bytes"):
            store.rows()


def test_a_stuffed_log_entry_is_refused_unread(central_dsn, authority, cameras, tmp_path, shared_data):
    with PostgresVault.create(central_dsn, authority[0]) as store:
        record_id = one_synced_record(store, cameras, tmp_path / "cam-a", shared_data)
        as_owner(central_dsn, ("ALTER TABLE audit DISABLE TRIGGER USER", ()),
                 ("UPDATE audit SET line = line || repeat(' ', %s) WHERE record_id = %s AND event = 'received'",
                  (8 << 20, record_id)))
        with pytest.raises(RecordError, match=f"record {record_id}: .* 'received' entry .* more than 4096"):
            store.logged_digests([record_id])


class _HugeObject:
    """An HTTP server answering every request as an S3 object of ``HOSTILE`` bytes; counts what it sent.
    ``declare``: say the size in Content-Length (else the body just runs until the connection closes)."""

    def __init__(self, declare: bool) -> None:
        self.declare, self.sent, self.requests = declare, 0, []
        self.lock = threading.Lock()
        self.listener = Listener("127.0.0.1", self.serve)
        self.endpoint = f"http://127.0.0.1:{self.listener.port}"

    def serve(self, conn) -> None:
        self.requests.append(read_request(conn))
        length = f"Content-Length: {HOSTILE}\r\n" if self.declare else "Connection: close\r\n"
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: binary/octet-stream\r\n{length}\r\n".encode())
        chunk = b"x" * (1 << 20)
        for _ in range(HOSTILE // len(chunk)):
            conn.sendall(chunk)
            with self.lock:
                self.sent += len(chunk)


@pytest.mark.parametrize("declare", [True, False], ids=["content-length", "undeclared"])
def test_a_huge_object_is_refused_without_reading_it(central_dsn, authority, cameras, tmp_path, shared_data,
                                                     monkeypatch, declare):
    pytest.importorskip("boto3")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv(LIMIT_ENV, str(BOUND))
    bucket = _HugeObject(declare)
    try:
        with PostgresVault.create(central_dsn, authority[0]) as store:
            record_id = one_synced_record(store, cameras, tmp_path / "cam-a", shared_data)
        point_record_at_object(central_dsn, record_id, bucket.endpoint)
        with PostgresVault(central_dsn) as store:
            with pytest.raises(RecordError, match=f"record {record_id}: object .* holds .* more than the {BOUND}"):
                store.read(record_id)
        assert bucket.requests and f"range: bytes=0-{BOUND}".encode() in bucket.requests[0].lower()
        # The reader stopped early: what the server managed to write is what the sockets' buffers
        # took, not the object.
        assert bucket.sent < HOSTILE // 2
    finally:
        bucket.listener.close()
