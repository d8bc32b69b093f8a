"""The central store's connection must reach the store, not whoever answers on its address.

libpq's default ``sslmode`` is ``prefer``: TLS if the server offers it, plain TCP if not, and no
certificate check either way. Anyone on the path to a remote store can then answer as the store:
ask for the password in clear (libpq sends it), and tell ``facesel sync`` that every record was
stored, so that the camera deletes its only copy (review 6, finding 1).

Rule: a store on this machine (a Unix socket, ``localhost``, a loopback address) is reached as
given; any other host needs the server authenticated: ``sslmode=verify-full`` (or ``verify-ca``,
with a CA of your own) or ``gssencmode=require`` (Kerberos). Host names count as remote (DNS is
on the attacker's path too). :func:`check_before_connect` applies the rule to the connection
string plus libpq's environment (``PGHOST``, ``PGSSLMODE``, ...) before a byte is sent;
:func:`check_connected` applies it again to the live connection (a ``service=`` entry of
``pg_service.conf`` is only known then). ``FACESEL_CENTRAL_ALLOW_UNVERIFIED=1`` lets the operator
take an unverified connection on a network they trust; it is logged as a warning each time.

The object store's endpoint (``blob_endpoint``, for large records) is read from the store's own
``authority`` table, so whoever writes that table chose it: :func:`check_blob_endpoint` applies the
same rule to it (review 7b). ``https://`` is verified by boto3 (its CA store, or ``AWS_CA_BUNDLE``);
``http://`` is taken only for this machine, or with the same opt-out.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from urllib.parse import urlparse

from psycopg import pq
from psycopg.conninfo import conninfo_to_dict

ALLOW_ENV = "FACESEL_CENTRAL_ALLOW_UNVERIFIED"
VERIFYING_SSL = {"verify-full", "verify-ca"}

log = logging.getLogger("facesel.central")


class UnverifiedStoreError(ValueError):
    """A remote store would be reached without authenticating the server."""


def _is_local(host: str) -> bool:
    """True for a Unix socket folder, ``localhost`` or a loopback address; a host name is remote."""
    host = host.strip()
    if not host or host.startswith(("/", "@")) or host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _defaults() -> dict[str, str]:
    """libpq's defaults as this process sees them (its ``PG*`` environment variables included)."""
    return {o.keyword.decode(): o.val.decode() for o in pq.Conninfo.get_defaults() if o.val is not None}


def _remote_hosts(params: dict[str, str]) -> list[str]:
    """The hosts libpq would connect to that are not on this machine. ``host`` and ``hostaddr``
    are parallel comma-separated lists; where an entry of ``hostaddr`` is given it is the address
    connected to, else the ``host`` entry is."""
    hosts = (params.get("host") or "").split(",")
    addrs = (params.get("hostaddr") or "").split(",")
    count = max(len(hosts), len(addrs))
    hosts, addrs = hosts + [""] * (count - len(hosts)), addrs + [""] * (count - len(addrs))
    return [addr or host for host, addr in zip(hosts, addrs) if not _is_local(addr or host)]


def _verifies(params: dict[str, str]) -> bool:
    return params.get("sslmode", "prefer") in VERIFYING_SSL or params.get("gssencmode") == "require"


def _refuse(location: str, hosts: list[str], warn: bool = True) -> None:
    why = (f"the central store {location} is on another machine ({', '.join(hosts)}) and its connection does not "
           "authenticate the server: anyone on the path could answer as the store, take the password and tell "
           "'facesel sync' that records were stored. Add sslmode=verify-full (with sslrootcert=CA.pem when the "
           "server's certificate is not signed by a CA in the system's store), or gssencmode=require")
    if os.environ.get(ALLOW_ENV) == "1":
        if warn:
            log.warning("%s; going on because %s=1 (connection not verified)", why, ALLOW_ENV)
        return
    raise UnverifiedStoreError(f"{why}; or set {ALLOW_ENV}=1 on a network you trust")


def check_before_connect(dsn: str, location: str) -> None:
    """Refuse ``dsn`` (before connecting) when it reaches a remote store unauthenticated.

    Raises
    ------
    UnverifiedStoreError
        With the settings that fix it. A ``service=`` whose host is not given here or in the
        environment is left to :func:`check_connected`.
    psycopg.ProgrammingError
        ``dsn`` cannot be parsed (the caller's own message for it applies).
    """
    given = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    params = {**_defaults(), **given}
    hosts = _remote_hosts(params)
    if hosts and not _verifies(params):
        _refuse(location, hosts)


def check_connected(conn, location: str) -> None:
    """The same rule on a live psycopg connection (what libpq really used); closes it if refused."""
    used = {o.keyword.decode(): o.val.decode() for o in conn.pgconn.info if o.val is not None}
    host = conn.info.hostaddr or conn.info.host or ""
    if _is_local(host):
        return
    authenticated = _verifies(used) and (conn.pgconn.ssl_in_use or used.get("gssencmode") == "require")
    if not authenticated:
        try:
            _refuse(location, [host], warn=False)  # the check before connecting warned already
        except UnverifiedStoreError:
            conn.close()
            raise


def check_blob_endpoint(endpoint: str | None) -> None:
    """Refuse an object-store endpoint that would be reached without TLS on another machine.

    None (AWS's own endpoints, https) and ``https://`` pass; ``http://`` passes for ``localhost``
    and loopback addresses, or with ``FACESEL_CENTRAL_ALLOW_UNVERIFIED=1`` (logged as a warning).

    Raises
    ------
    UnverifiedStoreError
        For ``http://`` to a host name or a non-loopback address, naming the endpoint.
    ValueError
        For an endpoint that is not an ``http(s)://HOST[:PORT]`` URL.
    """
    if endpoint is None:
        return
    parsed = urlparse(endpoint) if isinstance(endpoint, str) else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"the object store's endpoint must be an https://HOST[:PORT] URL, got {endpoint!r}")
    if parsed.scheme == "https" or _is_local(parsed.hostname):
        return
    why = (f"the object store's endpoint {endpoint} (named by the central store's own table) is plain http to "
           "another machine: anyone on the path, or whoever wrote that table, would answer for the bucket. "
           "Use an https:// endpoint (AWS_CA_BUNDLE=CA.pem for a CA of your own)")
    if os.environ.get(ALLOW_ENV) == "1":
        log.warning("%s; going on because %s=1 (connection not verified)", why, ALLOW_ENV)
        return
    raise UnverifiedStoreError(f"{why}; or set {ALLOW_ENV}=1 on a network you trust")
