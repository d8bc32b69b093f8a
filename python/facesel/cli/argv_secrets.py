"""No secret on the command line: a connection string or a camera URL given as an argument must
hold no password or token (review round 9, finding 4).

Every account on the machine can read every process's command line (``ps``, ``/proc/PID/cmdline``
is world-readable unless ``/proc`` is mounted ``hidepid``), for as long as the process runs:
``facesel sync --watch --central 'postgresql://cam:PASSWORD@central/evidence'`` showed the store's
password to all of them for ever. The environment (``$FACESEL_CENTRAL``, ``PGPASSWORD``) is
readable by the same user only, and a passfile (``PGPASSFILE``, ``~/.pgpass``, ``passfile=`` in the
string) keeps it out of both. The same held for ``facesel run rtsp://admin:PASSWORD@camera/...``,
a live run that goes on for hours: a camera with credentials belongs in a config file (owner-only,
``--config``), as for ``facesel serve``.
"""

from __future__ import annotations

import re

# Text forms of a password, for a string libpq's parser (through psycopg) cannot read: a
# ``password`` setting, or a URI's ``user:password@``.
_PASSWORD_SETTING = re.compile(r"(^|[\s?&])password\s*=", re.IGNORECASE)
_URI_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@?#]*:[^/@?#]*@", re.IGNORECASE)


def holds_password(dsn: str) -> bool:
    """Whether the PostgreSQL connection string ``dsn`` (URI or ``key=value`` form) sets a password."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        return bool(conninfo_to_dict(dsn).get("password"))
    except Exception:  # noqa: BLE001 - no psycopg, or a string libpq cannot parse: judged by its text below
        pass
    return bool(_PASSWORD_SETTING.search(dsn) or _URI_PASSWORD.search(dsn))


def refuse_password_on_command_line(dsn: str, flag: str, env: str) -> str:
    """``dsn`` when it holds no password; else ValueError naming ``flag`` and the ways that keep a
    password out of the process list (the string itself is not quoted: it holds the password)."""
    if holds_password(dsn):
        raise ValueError(f"{flag} holds a password, and every account on this machine can read a command line "
                         f"(ps, /proc/PID/cmdline) for as long as the command runs: give the connection string in "
                         f"${env} instead, or keep the password in a passfile (PGPASSFILE, ~/.pgpass, or passfile= "
                         "in the string)")
    return dsn


def refuse_url_secret_on_command_line(url: str, what: str) -> str:
    """``url`` when it holds no password or secret query value (:func:`facesel.redaction.url_holds_secret`);
    else ValueError naming ``what`` and ``--config``, the URL shown with its secrets masked."""
    from facesel.redaction import redact_url, url_holds_secret

    if "://" in url and url_holds_secret(url):  # a file's name is no URL, whatever it holds
        raise ValueError(f"{what} {redact_url(url)} holds a password or token, and every account on this machine can "
                         "read a command line (ps, /proc/PID/cmdline) for as long as the command runs: put the camera "
                         "in a config file that only you may read (chmod 600) and give --config FILE")
    return url
