"""Reaching the desk from other machines, against a real `facesel review` process: behind a
TLS-terminating proxy (`--public-origin https://...`: only that Host and Origin accepted, the
session cookie Secure), serving TLS itself (`--tls-cert/--tls-key`), and `--allow-remote` refused
where the browser's leg would be plain HTTP. Security review (session 12): before, the wall accepted
only the bound http:// address, so the desk was unusable behind TLS, and the cookie had no Secure flag."""

from __future__ import annotations

import contextlib
import datetime
import http.client
import os
import re
import shutil
import ssl
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from facesel.review.reach import check_reach, check_tls_files, parse_public_origin
from facesel.ports import unclaimed_port
from review_common import FACESEL_HOME
from test_vault_common import make_authority, vault_at

PUBLIC = "https://desk.example.org"
RECORD = "0123456789abcdef0123456789abcdef"  # a well-formed id: the open request is checked, not run


@pytest.fixture(scope="module")
def empty_vault(tmp_path_factory):
    root = tmp_path_factory.mktemp("remote")
    adir = make_authority(root / "auth")[1]
    with vault_at(root / "vault", adir):
        pass
    return adir / "keystore", root / "vault"


def _cli(keystore, vault, *extra):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FACESEL_HOME), os.environ.get("PYTHONPATH", "")])}
    return [sys.executable, "-m", "facesel", "review", "--vault", str(vault), "--keystore", str(keystore),
            *extra], env


@contextlib.contextmanager
def desk(keystore, vault, *extra):
    """A running desk; yields (start URL as printed, the bound port, the process)."""
    argv, env = _cli(keystore, vault, *extra)
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stdout.readline()
        url = re.search(r"(https?://\S+/start\?token=\S+)", line)
        if url is None:
            raise RuntimeError(f"facesel review did not start: {line!r} {process.stderr.read()!r}")
        listening = re.search(r"listening on \S+:([0-9]+)", line)
        port = int(listening.group(1)) if listening else urllib.parse.urlsplit(url.group(1)).port
        yield url.group(1), port, process
    finally:
        process.terminate()
        process.communicate(timeout=30)


def _request(port, method, path, host, headers=None, body=b"", context=None):
    conn = (http.client.HTTPSConnection("127.0.0.1", port, timeout=60, context=context) if context
            else http.client.HTTPConnection("127.0.0.1", port, timeout=60))
    conn.request(method, path, body=body, headers={"Host": host, **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def _session(port, start_path, host, cookie_name, context=None):
    """Exchange the start link for the cookie; returns (the Set-Cookie header, cookie header, CSRF token,
    the session's secret path that the start link redirects to)."""
    response, _ = _request(port, "GET", start_path, host, context=context)
    assert response.status == 303
    base = response.getheader("Location").rstrip("/")
    set_cookie = response.getheader("Set-Cookie")
    value = re.match(rf"{re.escape(cookie_name)}=([^;]+)", set_cookie).group(1)
    cookie = {"Cookie": f"{cookie_name}={value}"}
    response, page = _request(port, "GET", base + "/", host, cookie, context=context)
    assert response.status == 200
    return set_cookie, cookie, re.search(r'name="csrf" value="([^"]+)"', page.decode()).group(1), base


def _post_open(port, host, cookie, csrf, origin, base, context=None):
    body = urllib.parse.urlencode({"record": "cam-1/" + RECORD, "case": "C-1", "reason": "order", "opened_by": "me",
                                   "csrf": csrf}).encode()
    headers = {**cookie, "Origin": origin, "Content-Type": "application/x-www-form-urlencoded"}
    return _request(port, "POST", base + "/open", host, headers, body, context)[0].status


def test_behind_a_proxy_only_the_public_origin_is_accepted_and_the_cookie_is_secure(empty_vault):
    keystore, vault = empty_vault
    with desk(keystore, vault, "--port", str(unclaimed_port()), "--public-origin", PUBLIC) as (url, port, _):
        assert url.startswith(f"{PUBLIC}/start?token=")  # the link the investigator opens through the proxy
        start = url[len(PUBLIC):]
        # What the proxy forwards is accepted; the bound address and any other name are not (DNS rebinding).
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "evil.example", "desk.example.org:8443"):
            assert _request(port, "GET", start, host)[0].status == 421, host
        set_cookie, cookie, csrf, base = _session(port, start, "desk.example.org", "__Host-facesel_review")
        flags = {f.strip().lower() for f in set_cookie.split(";")[1:]}
        assert {"secure", "httponly", "samesite=strict", "path=/"} <= flags and not any(
            f.startswith("domain") for f in flags)
        assert _request(port, "GET", base + "/", f"127.0.0.1:{port}", cookie)[0].status == 421  # the cookie does not help
        for origin in (f"http://127.0.0.1:{port}", "http://desk.example.org", "https://desk.example.org:8443",
                       "https://evil.example", "null"):
            assert _post_open(port, "desk.example.org", cookie, csrf, origin, base) == 403, origin
        assert _post_open(port, "desk.example.org", cookie, csrf, PUBLIC, base) == 303


@pytest.mark.parametrize("value", ["http://desk.example.org", "https://desk.example.org/review",
                                   "https://desk.example.org?a=1", "https://desk.example.org#x", "desk.example.org",
                                   "https://user@desk.example.org", "https://desk .example.org",
                                   "https://desk.example.org:99999", "https://*.example.org", "https://"])
def test_a_public_origin_that_is_not_an_https_origin_is_refused(value):
    with pytest.raises(ValueError, match="^--public-origin "):
        parse_public_origin(value)


def test_accepted_public_origins_name_exactly_one_origin():
    assert parse_public_origin("https://Desk.Example.ORG:443/").origin == PUBLIC
    assert parse_public_origin("https://desk.example.org:443").hosts == {"desk.example.org", "desk.example.org:443"}
    assert parse_public_origin("https://desk.example.org:8443").hosts == {"desk.example.org:8443"}
    assert parse_public_origin("https://[2001:DB8::1]:8443").origin == "https://[2001:db8::1]:8443"
    assert parse_public_origin("http://127.0.0.1:8080").scheme == "http"  # loopback: an ssh tunnel, say


@pytest.mark.parametrize("extra, flag", [(["--public-origin", "http://desk.example.org"], "--public-origin"),
                                         (["--host", "0.0.0.0", "--allow-remote"], "--tls-cert"),
                                         (["--host", "0.0.0.0", "--allow-remote", "--public-origin",
                                           "http://127.0.0.1:9"], "--public-origin https://"),
                                         (["--tls-cert", "missing.pem"], "--tls-key")])
def test_refused_settings_are_one_line_naming_the_flag(empty_vault, extra, flag):
    keystore, vault = empty_vault
    argv, env = _cli(keystore, vault, *extra)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1 and flag in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert "start?token=" not in done.stdout


def test_remote_bind_rule():
    with pytest.raises(ValueError, match="needs TLS"):
        check_reach("0.0.0.0", None, tls=False)
    with pytest.raises(ValueError, match="needs TLS"):
        check_reach("192.168.1.10", parse_public_origin("http://127.0.0.1:8080"), tls=False)
    with pytest.raises(ValueError, match="serves TLS itself"):
        check_reach("127.0.0.1", parse_public_origin("http://127.0.0.1:8080"), tls=True)
    with pytest.raises(ValueError, match="every address"):  # no browser would send 0.0.0.0 as Host
        check_reach("0.0.0.0", None, tls=True)
    assert check_reach("0.0.0.0", parse_public_origin("https://desk.example.org:8443"), tls=True) is None
    assert check_reach("192.168.1.10", None, tls=True) is None
    assert check_reach("127.0.0.1", parse_public_origin(PUBLIC), tls=False) is None
    assert "plain HTTP" in check_reach("0.0.0.0", parse_public_origin(PUBLIC), tls=False)  # proxy on another host


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM), made here: nothing is downloaded."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        if shutil.which("openssl") is None:
            pytest.skip("neither the cryptography package nor openssl is here to make a test certificate")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        key.chmod(0o600)  # as openssl writes it: the desk refuses a key other accounts may read
        return cert, key
    import ipaddress

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                   .not_valid_after(now + datetime.timedelta(days=2))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(private, hashes.SHA256()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.touch(mode=0o600)  # the desk refuses a key other accounts may read (round 13c, finding 7)
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return cert, key


def test_a_tls_key_other_accounts_may_read_is_refused(tmp_path):
    """Review round 13c, finding 7: ``--tls-key`` was used whatever its mode; whoever reads it can pose
    as the desk to the browsers on the network. Round 4's rule for secret files (camera.key, passphrase
    files) now holds for it: refused with the ``chmod`` that fixes it, before anything listens."""
    cert, key = _self_signed(tmp_path)
    check_tls_files(str(cert), str(key))  # 0600: accepted
    key.chmod(0o644)
    with pytest.raises(ValueError, match=rf"--tls-key {re.escape(str(key))}: other users may read or change it "
                                         rf"\(mode 0644\); only its owner may: chmod 600"):
        check_tls_files(str(cert), str(key))  # main: accepted


def test_the_desk_serving_tls_itself(empty_vault, tmp_path):
    keystore, vault = empty_vault
    cert, key = _self_signed(tmp_path)
    trusting = ssl.create_default_context(cafile=str(cert))
    with desk(keystore, vault, "--tls-cert", str(cert), "--tls-key", str(key)) as (url, port, _):
        assert url.startswith(f"https://127.0.0.1:{port}/start?token=")
        start, host = url[len(f"https://127.0.0.1:{port}"):], f"127.0.0.1:{port}"
        with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
            _request(port, "GET", "/", host)  # plain HTTP on the TLS port gets no page
        set_cookie, cookie, csrf, base = _session(port, start, host, "__Host-facesel_review", context=trusting)
        assert "secure" in set_cookie.lower() and "httponly" in set_cookie.lower()
        assert _post_open(port, host, cookie, csrf, f"http://{host}", base, trusting) == 403  # the https origin only
        assert _post_open(port, host, cookie, csrf, f"https://{host}", base, trusting) == 303
        response, _ = _request(port, "GET", base + "/open/holders", host, cookie, context=trusting)
        assert response.status == 200


def test_a_tls_key_that_does_not_load_is_one_line(empty_vault, tmp_path):
    keystore, vault = empty_vault
    cert, _ = _self_signed(tmp_path)
    argv, env = _cli(keystore, vault, "--tls-cert", str(cert), "--tls-key", str(cert))  # the certificate as key
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1 and "--tls-cert/--tls-key" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "start?token=" not in done.stdout
