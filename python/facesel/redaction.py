"""Credentials out of every text a URL can reach: errors, ``last_error``, health reasons, logs, metrics.

A camera URL (``rtsp://admin:secret@10.0.0.5/s1``) or a database connection string
(``host=db password=secret``) ends up inside error messages written by code we do not control:
FFmpeg and OpenCV quote the URL they failed to open, libpq quotes the string it could not parse.
So redaction is not done once at the place a URL is printed, but on *text*: :func:`redact_url`
removes the credentials of every URL and ``password=`` setting found anywhere in a string, and
every secret registered with :func:`remember_url_secrets` wherever it appears (a password that a
library printed on its own, or percent-decoded). :func:`facesel.sources.make_source` and the
serve config register the password of every source URL they see.

The text keeps its shape (``rtsp://***@10.0.0.5/s1``), so an operator still sees which camera failed.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import unquote, urlsplit

MASK = "***"

# scheme://userinfo@ -- the userinfo is anything up to the first '@' that comes before the path
# (no '/', whitespace or quote in between). Covers rtsp, rtsps, http(s), rtmp, postgresql, s3...
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@'\"<>]*@")
# Secrets in query strings (?password=..., &token=...) and libpq key=value strings (password=...).
_SECRET_KEY = r"(?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|auth|signature|sig)"
# In a query the secret word may be one part of a longer name, as signed and OAuth URLs spell it
# (``access_token``, ``X-Amz-Signature``, ``client_secret``, ``session_token``, Google's ``key``):
# those went out as they were, in logs, /status and MQTT/webhook ``camera_down`` reasons, and a
# config holding such a URL was not held to mode 0600 (review round 12c). The word must stand
# between separators (``_``, ``-``, ``.``), so ``keyframe`` or ``monkey`` are left alone. Each
# parameter is matched whole, then its name searched: linear in the text's length (one pattern
# with the word's surroundings optional took 0.6 s on ``?_key_key...`` of 20,000 characters).
_QUERY_PARAM = re.compile(r"(?P<key>[?&;](?P<name>[\w.~%-]+)=)(?P<value>[^&#\s'\"]*)")
_SECRET_NAME = re.compile(r"(?:^|[_.-])(?:pass(?:word|wd|code)?|pwd|secret|token|api[_-]?key|access[_-]?key|key|"
                          r"auth|signature|sig|jwt|credential)(?:$|[_.-])", re.IGNORECASE)


def _query_secrets(text: str):
    """The ``?name=value`` / ``&name=value`` matches of ``text`` whose name says the value is a secret."""
    return (m for m in _QUERY_PARAM.finditer(text) if _SECRET_NAME.search(m.group("name")))


_CONNINFO_SECRET = re.compile(rf"(?P<key>(?:^|(?<=\s)){_SECRET_KEY}\s*=\s*)(?:'(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


_known: set[str] = set()
_known_sorted: tuple[str, ...] = ()
_known_lock = threading.Lock()


def redact_url(text: object) -> str:
    """``text`` (any object, as ``str``) with the credentials of every URL and connection string in it masked.

    >>> redact_url("cannot open rtsp://admin:pw@10.0.0.5:554/s1: refused")
    'cannot open rtsp://***@10.0.0.5:554/s1: refused'
    >>> redact_url("host=db user=cam password='p w' dbname=x")
    'host=db user=cam password=*** dbname=x'
    """
    # The rules that read a secret's *name* go first, on the text as given: a remembered secret that
    # is also a word of a name (a password "secret" and ``client_secret=...``, a password "password"
    # and ``password=...``) would otherwise be masked inside the name and leave the value in the clear.
    out = _by_name(str(text))
    for secret in _known_sorted:  # before the URL rule: a decoded password may hold an '@' that would cut it short
        out = out.replace(secret, MASK)
    out = _USERINFO.sub(lambda m: m.group("scheme") + MASK + "@", out)
    return _by_name(out)


def _by_name(text: str) -> str:
    """``text`` with the values of secret-named query parameters and connection settings masked."""
    out = _QUERY_PARAM.sub(lambda m: m.group("key") + MASK if _SECRET_NAME.search(m.group("name")) else m.group(0), text)
    return _CONNINFO_SECRET.sub(lambda m: m.group("key") + MASK, out)


def url_secrets(url: object) -> list[str]:
    """The password of ``url``'s userinfo and its secret query values, raw and percent-decoded.

    Passwords of 3 characters or fewer are left out, so that redaction does not shred ordinary
    words (the URL form is still masked by :func:`redact_url`).
    """
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return []
    values = [parts.netloc.rpartition("@")[0].partition(":")[2]] if "@" in parts.netloc else []
    values += [m.group("value") for m in _query_secrets("?" + parts.query)]
    found = {form for value in values for form in (value, unquote(value)) if len(form) > 3}
    return sorted(found, key=len, reverse=True)


def url_holds_secret(url: object) -> bool:
    """Whether ``url`` has a password in its userinfo or a secret query value (any length: what
    :func:`url_secrets` leaves out of the redaction is still a secret)."""
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return bool(_USERINFO.search(text) or next(_query_secrets(text), None))
    password = parts.netloc.rpartition("@")[0].partition(":")[2] if "@" in parts.netloc else ""
    return bool(password) or any(m.group("value") for m in _query_secrets("?" + parts.query))


def remember_url_secrets(url: object) -> None:
    """Mask the password (and query secrets) of ``url`` in every later :func:`redact_url`, in any form."""
    global _known_sorted
    found = url_secrets(url)
    if found and not _known.issuperset(found):
        with _known_lock:
            _known.update(found)
            _known_sorted = tuple(sorted(_known, key=len, reverse=True))  # longest first: one may contain another
