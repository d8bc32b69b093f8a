"""Someone on the network path, for the tests of review 6: listeners on this machine's own
non-loopback address (where a remote server would be), and test certificates made here.

No tests here.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import threading
from pathlib import Path

import pytest


def outside_address() -> str:
    """An IPv4 address of this machine that is not loopback (what a remote server's looks like);
    the test skips when the machine has none."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # UDP: nothing is sent, the kernel only picks a source address
        address = probe.getsockname()[0]
    except OSError:
        address = ""
    finally:
        probe.close()
    if not address or ipaddress.ip_address(address).is_loopback:
        pytest.skip("this machine has no non-loopback IPv4 address to stage a remote server on")
    return address


class Listener:
    """A TCP listener on ``address`` that runs ``serve(conn)`` for each connection in a thread;
    :attr:`connections` counts them."""

    def __init__(self, address: str, serve) -> None:
        self.sock = socket.create_server((address, 0))
        self.sock.settimeout(0.5)
        self.address, self.port = self.sock.getsockname()[:2]
        self.serve, self.connections, self.stop = serve, 0, threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                self.serve(conn)
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def recv_exact(conn: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def record_bytes(captured: list[bytes], limit: int = 65536):
    """A ``serve`` that keeps whatever a client sends first (up to ``limit`` bytes, 5 s)."""

    def serve(conn: socket.socket) -> None:
        conn.settimeout(5)
        data = b""
        try:
            while len(data) < limit and (chunk := conn.recv(4096)):
                data += chunk
        except OSError:
            pass
        captured.append(data)

    return serve


def certificate_authority(directory: Path, address: str) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate for ``address``, server key), PEM files made here with
    the cryptography package (nothing downloaded); skips without it."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        pytest.skip("the cryptography package is needed to make a test certificate")
    now = datetime.datetime.now(datetime.timezone.utc)

    def issue(subject: str, key, issuer_name, issuer_key, ca: bool, san=None):
        builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(issuer_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if san is not None:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        if ca:
            builder = builder.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                          content_commitment=False, key_encipherment=False,
                                                          data_encipherment=False, key_agreement=False,
                                                          encipher_only=False, decipher_only=False), critical=True)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "facesel test CA")])
    ca_cert = issue("facesel test CA", ca_key, ca_name, ca_key, ca=True)
    server_cert = issue(address, server_key, ca_name, ca_key, ca=False,
                        san=[x509.IPAddress(ipaddress.ip_address(address))])
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    paths[2].chmod(0o600)
    return paths
