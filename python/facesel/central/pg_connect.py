"""Connecting to the central store's PostgreSQL server: the connection string's safe name for
messages (:func:`describe_dsn`), libpq's errors with the string's pieces masked
(:func:`scrub_dsn`), and the one connect path every store object takes (the transport rule of
:mod:`facesel.central.transport` first, :class:`CentralUnavailableError` for a server that does
not answer).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict

from facesel.central.transport import check_before_connect, check_connected
from facesel.loopback_pin import pin_dsn
from facesel.redaction import redact_url


class CentralUnavailableError(RuntimeError):
    """The central store cannot be reached (or the connection dropped); nothing was committed."""


def describe_dsn(dsn: str) -> str:
    """``dbname@host:port`` of a connection string, without user or password (for messages and logs)."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparsable connection string>"
    port = str(parts.get('port', 5432))
    port = port if re.fullmatch(r"[0-9,]+", port) else "?"  # not a port: whatever it is (a misplaced password)
    return f"{parts.get('dbname', '?')}@{parts.get('host', 'localhost')}:{port}"


def scrub_dsn(text: str, dsn: str) -> str:
    """libpq's ``text`` about connection string ``dsn`` with every quoted fragment of ``dsn`` masked.

    libpq quotes the piece it could not take: ``unexpected spaces found in "PASS WORD"``, ``invalid
    percent-encoded token: "PA%ZZSS"``, ``missing "=" after "WORD"`` (a password with a space, not
    quoted): the password, or part of it, in an error message (review 5, finding 4). Redacting
    ``password=`` settings cannot catch a piece without its key, so every quoted piece that comes
    from the connection string goes; the message keeps its shape and the store is named apart
    (:func:`describe_dsn`).
    """
    haystacks = (dsn, unquote(dsn))

    def mask(match: re.Match) -> str:
        piece = match.group(1)
        return '"***"' if piece and any(piece in h or unquote(piece) in h for h in haystacks) else match.group(0)

    return redact_url(re.sub(r'"([^"]*)"', mask, text))


def _first_line(err: Exception, dsn: str) -> str:
    text = str(err).strip()
    return scrub_dsn(text.splitlines()[0], dsn) if text else type(err).__name__


@contextmanager
def _reachable(location: str, dsn: str = "") -> Iterator[None]:
    try:
        yield
    except psycopg.OperationalError as err:
        raise CentralUnavailableError(f"central store {location} is unreachable: {_first_line(err, dsn)}") from err


def _connect(dsn: str, location: str, connect_timeout: float) -> psycopg.Connection:
    with _reachable(location, dsn):
        try:
            check_before_connect(dsn, location)  # a remote store must be authenticated (review 6, finding 1)
            # localhost reached at 127.0.0.1 only (review round 14a, finding 1: not whoever listens on [::1])
            conn = psycopg.connect(pin_dsn(dsn), autocommit=True, connect_timeout=max(1, int(connect_timeout)))
            check_connected(conn, location)
            return conn
        except psycopg.ProgrammingError as err:  # libpq could not parse it: a user error, not a crash
            raise ValueError(f"the central store's connection string is malformed ({_first_line(err, dsn)}); "
                             "give it as "
                             "'host=HOST port=PORT dbname=DB user=USER' or as a "
                             "postgresql://USER@HOST:PORT/DB URI (password in ~/.pgpass or PGPASSWORD)") from None
