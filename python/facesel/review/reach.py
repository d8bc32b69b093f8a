"""Who may reach the desk: the origin a browser uses, TLS, and the rule for binding beyond loopback.

The Host and Origin checks (:mod:`facesel.review.security`) accept exactly one origin's values.
Without ``--public-origin`` that is the bound address (``http://127.0.0.1:PORT``, or ``https://``
when the desk serves TLS itself). Behind a TLS-terminating reverse proxy the browser speaks to
``https://desk.example.org``: the proxy forwards that name as Host, the browser sends it as Origin,
and the bound address must then be refused (a page that reaches the bound port some other way is
not the desk's own). An ``https`` origin also marks the session cookie ``Secure`` with the
``__Host-`` prefix, so it never travels in clear and no sibling host can set it.

Passphrases, share files and faces cross the network whenever the desk is bound beyond loopback,
so such a bind is refused unless the browser's leg is TLS: served here (``--tls-cert``) or by the
proxy (an ``https`` ``--public-origin``).
"""

from __future__ import annotations

import ipaddress
import re
import ssl
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from facesel.vault.fsutil import ExposedSecretError, read_regular

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"\A{_LABEL}(?:\.{_LABEL})*\Z")
_DEFAULT_PORT = {"http": 80, "https": 443}


def is_loopback(host: str) -> bool:
    """True for a loopback IP literal or ``localhost``."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def bind_address(host: str) -> str:
    """The address the desk binds and names in its start link for ``--host`` (review round 13c,
    finding 1): ``localhost`` becomes ``127.0.0.1``, anything else is kept.

    Why: a link naming ``localhost`` is not the desk's alone. Browsers resolve that name to ``::1``
    as well as ``127.0.0.1`` and try ``::1`` first (Chromium resolves it itself, whatever
    ``/etc/hosts`` says), while a desk bound to ``localhost`` listens on ``127.0.0.1`` only; any
    account of the machine may listen on ``[::1]`` at the same port (no conflict with ours), and
    it then receives the one-time start link and can relay the whole session (passphrases, share
    files, faces) to the desk. An address literal names one socket: ours. ``localhost:PORT``
    stays an accepted ``Host`` (a request that reached our socket is ours)."""
    return "127.0.0.1" if host.strip().lower() == "localhost" else host


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


@dataclass(frozen=True)
class PublicOrigin:
    """A checked ``--public-origin``: ``origin`` as a browser serialises it (``https://host[:port]``,
    lower case, no default port) and the ``Host`` header values that name it."""

    scheme: str
    origin: str
    hosts: frozenset[str]


def parse_public_origin(text: str) -> PublicOrigin:
    """Check ``--public-origin`` (ValueError names the flag): ``https://`` (``http://`` only for a
    loopback host), a DNS name or IP literal, an optional port, and nothing else (no user, path,
    query or fragment: an origin is scheme, host and port only)."""
    def refuse(why: str) -> ValueError:
        return ValueError(f"--public-origin {text!r}: {why} (expected https://HOST[:PORT], the address "
                          "browsers use to reach the desk)")

    if not isinstance(text, str) or any(c.isspace() or not c.isprintable() for c in text):
        raise refuse("spaces or control characters")
    parts = urllib.parse.urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORT:
        raise refuse("the scheme must be https")
    if "@" in parts.netloc:
        raise refuse("no user name or password")
    if parts.path not in ("", "/") or "?" in text or "#" in text:
        raise refuse("an origin has no path, query or fragment")
    try:
        port = parts.port
    except ValueError:
        raise refuse("the port must be a number from 1 to 65535") from None
    name = (parts.hostname or "").lower()
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        if not _DNS_NAME.match(name):
            raise refuse("the host must be a DNS name (ASCII, punycode for others) or an IP address") from None
        shown = name
    else:
        shown = f"[{address.compressed}]" if address.version == 6 else address.compressed
        if address.version == 6 and not parts.netloc.lower().startswith("["):
            raise refuse("an IPv6 address goes in brackets")
    if port == 0:
        raise refuse("the port must be a number from 1 to 65535")
    if scheme == "http" and not is_loopback(name):
        raise refuse("the scheme must be https (http only for a loopback host): passphrases and faces "
                      "would cross the network in clear")
    if scheme == "http" and name == "localhost":  # review round 13c, finding 1 (bind_address)
        raise refuse("over http give a loopback address, http://127.0.0.1:PORT or http://[::1]:PORT, not the name "
                     "localhost: browsers resolve it to ::1 as well as 127.0.0.1, and any account of the browser's "
                     "machine may listen on the one the desk (or its ssh tunnel) does not hold and receive the "
                     "start link")
    default = _DEFAULT_PORT[scheme]
    authority = shown if port in (None, default) else f"{shown}:{port}"
    hosts = {authority} | ({f"{shown}:{default}"} if port in (None, default) else set())
    return PublicOrigin(scheme, f"{scheme}://{authority}", frozenset(hosts))


def check_tls_files(cert: str | None, key: str | None) -> None:
    """Both TLS files or neither, and they must load as a certificate chain with its key
    (ValueError names the flags; uvicorn would otherwise fail after the start link was printed);
    the key, a secret, must be readable by its owner only (mode 0600, as ``camera.key``)."""
    if (cert is None) != (key is None):
        raise ValueError("give both --tls-cert and --tls-key, or neither")
    if cert is None:
        return
    for flag, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not Path(path).is_file():
            raise ValueError(f"{flag} {path}: no such file")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as err:
        raise ValueError(f"--tls-cert/--tls-key ({cert}, {key}) do not load as a PEM certificate chain and its "
                         f"unencrypted private key: {err}") from None
    try:  # whoever reads the key can pose as the desk to browsers: a secret file (review round 13c, finding 7)
        read_regular(Path(key), 1 << 20, private=True)
    except ExposedSecretError as err:
        raise ValueError(f"--tls-key {key}: {err.strerror}") from None
    except OSError as err:
        raise ValueError(f"--tls-key {key}: cannot be read ({err.strerror or err})") from None


def check_reach(host: str, public: PublicOrigin | None, tls: bool) -> str | None:
    """Refuse a bind beyond loopback whose browser leg would be plain HTTP, and an ``http``
    public origin in front of a desk that serves TLS. Returns a warning to print, or None."""
    if tls and public is not None and public.scheme != "https":
        raise ValueError(f"--public-origin {public.origin}: the desk serves TLS itself (--tls-cert), so browsers "
                         "reach it over https://")
    if is_loopback(host):
        return None
    if not tls and (public is None or public.scheme != "https"):
        raise ValueError(f"--allow-remote on --host {host} needs TLS: give --tls-cert/--tls-key, or put a "
                         "TLS-terminating proxy in front and give --public-origin https://NAME; otherwise "
                         "passphrases, share files and faces cross the network in clear")
    if public is None and _is_wildcard(host):
        raise ValueError(f"--host {host} listens on every address, and no browser sends it as Host: give "
                         "--public-origin https://NAME:PORT, the address browsers use")
    if not tls:
        return (f"WARNING: the desk serves plain HTTP on {host}; the hop from the proxy serving "
                f"{public.origin} to it is not encrypted. Keep that hop on a trusted network, or bind to "
                "127.0.0.1 beside the proxy, or give --tls-cert/--tls-key.")
    return None


@dataclass(frozen=True)
class Reach:
    """What the wall accepts and how the session cookie is marked, for one running desk."""

    hosts: frozenset[str]
    origins: frozenset[str]
    base: str            # the URL prefix of the printed start link
    secure: bool         # mark the session cookie Secure (and __Host-)


def reach_for(host: str, port: int, public: PublicOrigin | None, tls: bool) -> Reach:
    """The accepted Host and Origin values: the public origin's only when given, else the bound address
    (with its ``127.0.0.1``/``localhost`` twins when bound to either)."""
    if public is not None:
        return Reach(public.hosts, frozenset({public.origin}), public.origin, public.scheme == "https")
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    hosts = {f"{shown}:{port}"} | ({f"127.0.0.1:{port}", f"localhost:{port}"} if host in ("127.0.0.1", "localhost")
                                   else set())
    return Reach(frozenset(hosts), frozenset(f"{scheme}://{h}" for h in hosts), f"{scheme}://{shown}:{port}", tls)
