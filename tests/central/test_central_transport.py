"""Review 6, finding 1 (high): the central store's connection was taken unauthenticated.

libpq's default ``sslmode`` is ``prefer``: it takes whatever answers on the store's address, with
TLS or without, and checks no certificate. Anyone on the path to the store (ARP or DNS spoofing,
a rogue access point, a compromised router) could therefore

* ask the client for its password in clear (``AuthenticationCleartextPassword``), and libpq sends
  it: the store's password, from every camera;
* answer ``facesel sync`` as the store: every record "stored", so the camera logs it forwarded and
  deletes its only copy, while the records went to the attacker's database.

Now a connection to a store that is not on this machine (a host name, or an address that is not
loopback) needs ``sslmode=verify-full`` or ``verify-ca`` (or GSSAPI encryption required), checked
before anything is sent and again on the live connection; ``FACESEL_CENTRAL_ALLOW_UNVERIFIED=1``
is the operator's explicit, logged, choice for a network they trust.

The attacker here is a real listener on this machine's own non-loopback address: a fake server
that asks for the password in clear, and a plain relay to a real PostgreSQL server (the
attacker's own database, initialised with the public authority.pub and camera key).
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading

import pytest
from central_common import facesel
from network_attacker import Listener, outside_address, recv_exact
from facesel.central.pg_backend import PostgresVault
from facesel.vault import Vault
from facesel.vault.store import record_path
from test_vault_common import orl_faces, track_result

SECRET = "Hunter2Sesame"


def _ask_password_in_clear(captured: list):
    """A fake PostgreSQL server: refuses TLS, asks for the password in clear, keeps what it gets."""

    def serve(conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            while True:
                length, code = struct.unpack("!ii", recv_exact(conn, 8))
                body = recv_exact(conn, length - 8)
                if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: "no"
                    conn.sendall(b"N")
                    continue
                break  # the startup message
            conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
            kind, length = conn.recv(1), struct.unpack("!i", recv_exact(conn, 4))[0]
            if kind == b"p":
                captured.append(recv_exact(conn, length - 4).rstrip(b"\0").decode("utf-8", "replace"))
        except (OSError, ConnectionError, struct.error):
            pass

    return serve


def _relay_to(port: int):
    """A plain TCP relay to 127.0.0.1:``port`` (the attacker's own database)."""

    def pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve(conn: socket.socket) -> None:
        with socket.create_connection(("127.0.0.1", port)) as upstream:
            back = threading.Thread(target=pump, args=(upstream, conn), daemon=True)
            back.start()
            pump(conn, upstream)
            back.join(timeout=10)

    return serve


@pytest.mark.parametrize("command", ["central", "sync"])
def test_a_password_is_never_sent_to_an_unverified_remote_store(tmp_path, command):
    captured: list[str] = []
    fake = Listener(outside_address(), _ask_password_in_clear(captured))
    dsn = f"host={fake.address} port={fake.port} dbname=evidence user=cam password={SECRET}"
    args = ["central", "list"] if command == "central" else ["sync", "--vault", str(tmp_path), "--camera", "c"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGSSL")}
    env.update(FACESEL_CENTRAL=dsn)
    env.pop("FACESEL_CENTRAL_ALLOW_UNVERIFIED", None)
    if command == "sync":  # sync checks the store before the vault: give it one to get that far
        (tmp_path / "vault.json").write_text("{}")
    try:
        done = subprocess.run([sys.executable, "-m", "facesel", *args], capture_output=True, text=True,
                              timeout=120, env=env)
    finally:
        fake.close()
    assert captured == [], f"the store's password went to a server nobody verified: {captured}"
    assert fake.connections == 0, "nothing at all should be sent before the server is known"
    assert done.returncode == 1 and "sslmode=verify-full" in done.stderr, done.stderr
    assert SECRET not in done.stderr and "Traceback" not in done.stderr, done.stderr


def _two_sealed(tmp_path, cameras, shared_data) -> tuple:
    folder = tmp_path / "cam-a"
    with Vault(folder, cameras.pub_path, camera=cameras("cam-a")) as vault:
        ids = {vault.seal(track_result(face, track_id=i)) for i, face in enumerate(orl_faces(shared_data, 2))}
    return folder, ids


def test_sync_never_deletes_records_on_the_word_of_an_unverified_store(pg_server, central_dsn, authority, cameras,
                                                                      tmp_path, shared_data):
    pub, _ = authority
    # The attacker's database: authority.pub and camera.pub are public, so anyone can set one up.
    with PostgresVault.create(central_dsn, pub) as attackers:
        cameras.register(attackers, "cam-a")
    folder, ids = _two_sealed(tmp_path, cameras, shared_data)
    relay = Listener(outside_address(), _relay_to(pg_server.port))
    outside = f"{central_dsn.replace('host=127.0.0.1', f'host={relay.address}')}"
    outside = outside.replace(f"port={pg_server.port}", f"port={relay.port}")
    assert f"port={relay.port}" in outside and "127.0.0.1" not in outside, outside
    try:
        os.environ.pop("FACESEL_CENTRAL_ALLOW_UNVERIFIED", None)
        done = facesel("sync", "--vault", str(folder), "--camera", str(cameras.key_dir("cam-a")), "--central", outside)
        kept = {rid for rid in ids if record_path(folder, rid).exists()}
        assert kept == ids, f"records deleted after an unverified store said 'stored': {ids - kept} ({done.stdout})"
        assert done.returncode == 1 and "sslmode=verify-full" in done.stderr, done.stderr
        assert relay.connections == 0
        with PostgresVault(central_dsn) as store:
            assert store.rows() == []
        # The explicit opt-out (a network the operator trusts) still forwards, and says so.
        allowed = subprocess.run([sys.executable, "-m", "facesel", "sync", "--vault", str(folder), "--camera",
                                  str(cameras.key_dir("cam-a")), "--central", outside], capture_output=True,
                                 text=True, timeout=300, env={**os.environ, "FACESEL_CENTRAL_ALLOW_UNVERIFIED": "1"})
        assert allowed.returncode == 0, allowed.stderr
        assert "not verified" in allowed.stderr, allowed.stderr
        assert not any(record_path(folder, rid).exists() for rid in ids)
    finally:
        relay.close()


def test_a_store_on_this_machine_needs_no_tls(central_dsn, authority):
    """Loopback (and Unix sockets) stay as they were: the tests' server, a store beside the desk."""
    pub, _ = authority
    with PostgresVault.create(central_dsn, pub) as store:
        assert store.rows() == []


@pytest.mark.parametrize("dsn, remote", [
    ("host=127.0.0.1 dbname=x", []), ("host=localhost", []), ("host=/run/postgresql", []), ("host=::1", []),
    ("postgresql:///evidence", []),  # a Unix socket
    ("host=db.example dbname=x", ["db.example"]), ("host=192.0.2.7", ["192.0.2.7"]),
    ("host=db.example hostaddr=127.0.0.1", []),  # hostaddr is what is connected to
    ("host=localhost,db.example hostaddr=127.0.0.1,", ["db.example"]),  # an empty hostaddr entry: host's
    ("postgresql://u@127.0.0.1:5,db.example/x", ["db.example"]),
])
def test_which_stores_count_as_on_another_machine(dsn, remote):
    from facesel.central.transport import _remote_hosts
    from psycopg.conninfo import conninfo_to_dict

    assert _remote_hosts({k: str(v) for k, v in conninfo_to_dict(dsn).items()}) == remote


def test_a_verified_connection_string_passes_the_check_before_connecting(monkeypatch):
    from facesel.central.transport import UnverifiedStoreError, check_before_connect

    for name in ("PGSSLMODE", "PGGSSENCMODE", "PGHOST", "PGHOSTADDR", "FACESEL_CENTRAL_ALLOW_UNVERIFIED"):
        monkeypatch.delenv(name, raising=False)
    check_before_connect("host=db.example sslmode=verify-full", "x")
    check_before_connect("host=db.example gssencmode=require", "x")
    with pytest.raises(UnverifiedStoreError, match="sslmode=verify-full"):
        check_before_connect("host=db.example sslmode=require", "x")  # TLS, but anyone's certificate
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    check_before_connect("host=db.example", "x")  # libpq's environment counts
    monkeypatch.setenv("PGSSLMODE", "prefer")
    monkeypatch.setenv("PGHOST", "db.example")
    with pytest.raises(UnverifiedStoreError):
        check_before_connect("dbname=x", "x")  # the host from the environment
