"""Review round 14a, finding 1, for the central store: ``host=localhost`` in a store's connection
string is reached at ``127.0.0.1``, never at whoever listens on ``[::1]`` at that port.

Where ``/etc/hosts`` maps ``localhost`` to ``::1`` too, libpq tries ``::1`` first; an account
listening there is asked for the password (libpq answers a cleartext request) and answers
``facesel sync`` as the store. libpq resolves in C, so the tests cannot give it Debian's
``/etc/hosts`` answer; they check what the connection was told: the address ``127.0.0.1`` beside
the name ``localhost`` (which libpq keeps for a ``verify-full`` certificate and ``~/.pgpass``), on
the session's real PostgreSQL server (``tests/test_localhost_clients.py`` shows the squatter
case for Python's clients).
"""

from __future__ import annotations

import psycopg
import pytest
from facesel.central import pg_connect
from psycopg.conninfo import conninfo_to_dict


@pytest.fixture
def told(monkeypatch) -> list[dict]:
    """The connection strings libpq is handed (parsed), each connection still made for real."""
    for name in ("PGHOST", "PGHOSTADDR", "PGSERVICE"):
        monkeypatch.delenv(name, raising=False)
    seen, real = [], psycopg.connect

    def connect(conninfo, *args, **kwargs):
        seen.append(conninfo_to_dict(conninfo))
        return real(conninfo, *args, **kwargs)

    monkeypatch.setattr(pg_connect.psycopg, "connect", connect)
    return seen


def test_a_store_at_localhost_is_connected_at_127_0_0_1(pg_server, told):
    dsn = pg_server.dsn.replace("host=127.0.0.1", "host=localhost")
    assert "host=localhost" in dsn
    conn = pg_connect._connect(dsn, "test store", 5)
    try:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        conn.close()
    assert len(told) == 1
    assert told[0].get("hostaddr") == "127.0.0.1", "libpq was left to resolve localhost (::1 first on Debian)"
    assert told[0]["host"] == "localhost"  # kept: a verify-full certificate and ~/.pgpass go by the name


def test_a_store_named_by_address_is_connected_as_given(pg_server, told):
    conn = pg_connect._connect(pg_server.dsn, "test store", 5)
    conn.close()
    assert told == [conninfo_to_dict(pg_server.dsn)]
