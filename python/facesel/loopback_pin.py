"""``localhost`` in a client setting reached as ``127.0.0.1``, the one socket the operator meant.

Why (review round 14a, finding 1; the class of round 13c's finding 1): where ``/etc/hosts`` maps
``localhost`` to ``::1`` as well as ``127.0.0.1`` (Debian's and Ubuntu's default), Python's,
libpq's, paho's, boto3's and FFmpeg's resolvers return ``::1`` first and the client connects
there when something answers. A service on this machine usually listens on ``127.0.0.1`` only, and
any account may listen on ``[::1]`` at the same port (no conflict with it). That account then
receives what the client sends: ``serve``'s events and the token in its webhook URL, the MQTT
username and password, the central store's password (libpq answers a cleartext password request)
and the records it forwards, an object store's signed requests, a camera URL's credentials, and
it answers in their place (frames for a camera, "stored" for ``facesel sync``).

An address literal names one socket. So a client reaching ``localhost`` (or a name under
``.localhost``, which systemd's resolver maps to loopback too) over an unauthenticated transport
connects to ``127.0.0.1``; the setting keeps its words in messages. Where the transport checks
the server's name (``https://``, ``rtsps://``, MQTT with ``tls``, PostgreSQL with ``sslmode``
``verify-full``), nobody else on the machine holds a certificate for it: a URL is left as given,
and PostgreSQL's ``hostaddr`` is set beside the name, which libpq still uses to check the
certificate. A service that listens on ``::1`` alone is reached by naming ``[::1]``.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

#: The address ``localhost`` is reached at by this project's clients.
LOOPBACK = "127.0.0.1"

#: URL schemes whose transport authenticates the server by its name: left as given.
NAME_CHECKED_SCHEMES = frozenset({"https", "rtsps", "rtmps", "wss", "mqtts", "tls"})


def is_localhost(host: str) -> bool:
    """True for ``localhost`` and names under ``.localhost`` (any case, a final dot allowed)."""
    name = host.strip().rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def pin_host(host: str) -> str:
    """``host`` as a client should connect to it: :data:`LOOPBACK` for a ``localhost`` name, else unchanged."""
    return LOOPBACK if isinstance(host, str) and is_localhost(host) else host


def pin_url(url: str) -> str:
    """``url`` with a ``localhost`` host replaced by :data:`LOOPBACK`, userinfo, port, path, query
    and fragment kept byte for byte; unchanged for a scheme in :data:`NAME_CHECKED_SCHEMES`, a URL
    without a host, or one that does not parse."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018 - a bad port raises ValueError: such a URL is left to its client's error
    except (ValueError, TypeError, AttributeError):
        return url
    if not hostname or parts.scheme.lower() in NAME_CHECKED_SCHEMES or not is_localhost(hostname):
        return url
    userinfo, at, hostport = parts.netloc.rpartition("@")
    # hostport is HOST[:PORT]; a localhost name holds no ':' (not an IPv6 literal)
    _, colon, port = hostport.partition(":")
    return urlunsplit(parts._replace(netloc=f"{userinfo}{at}{LOOPBACK}{colon}{port}"))


def pin_dsn(dsn: str) -> str:
    """A libpq connection string that reaches each ``localhost`` host entry at :data:`LOOPBACK`.

    ``host`` and ``hostaddr`` are parallel comma-separated lists (an empty ``hostaddr`` entry means
    "resolve the host"); each ``localhost`` entry without an address gets ``127.0.0.1``. The host
    list is read from ``dsn`` or, where it names none, from libpq's environment (``PGHOST``,
    ``PGHOSTADDR``). The name stays in ``host``: libpq checks a ``verify-full`` certificate and
    looks up ``~/.pgpass`` by it. A ``service=`` entry's host is known only once connected and is
    left to libpq. ``dsn`` returned unchanged when nothing is pinned.

    Raises
    ------
    psycopg.ProgrammingError
        ``dsn`` cannot be parsed (the caller's own message for it applies).
    """
    from psycopg import pq
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    given = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    defaults = {o.keyword.decode(): o.val.decode() for o in pq.Conninfo.get_defaults() if o.val is not None}
    hosts = (given.get("host") if "host" in given else defaults.get("host", "")).split(",")
    addrs = (given.get("hostaddr") if "hostaddr" in given else defaults.get("hostaddr", "")).split(",")
    if addrs == [""]:
        addrs = [""] * len(hosts)
    if len(addrs) != len(hosts):
        return dsn  # lists of different lengths: libpq refuses the string itself, with its own words
    pinned = [addr or (LOOPBACK if is_localhost(host) else "") for host, addr in zip(hosts, addrs)]
    if pinned == addrs:
        return dsn
    extra = {"hostaddr": ",".join(pinned)}
    if "host" not in given:
        extra["host"] = ",".join(hosts)  # libpq pairs a hostaddr list with the host list of the same string
    return make_conninfo(dsn, **extra)
