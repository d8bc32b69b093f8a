"""The page's outer wall, as one ASGI middleware plus two checks the routes call.

* Host header: only the addresses the server was bound to, or only the ``--public-origin``'s
  (:mod:`facesel.review.reach`) (defeats DNS rebinding: a hostile page that points its own name at
  127.0.0.1 still sends its own name as Host).
* Request bodies: refused past ``max_body`` bytes, counted as they arrive (a lying or absent
  Content-Length does not help), so an upload never spills to a temporary file.
* Every response: a strict Content-Security-Policy (own files only, no inline script or style, no
  framing, forms post only here), ``Cache-Control: no-store``, referrers only to this page, no MIME sniffing.
* POST: same origin (``Origin``, or ``Sec-Fetch-Site: same-origin`` where a browser sends no
  Origin) and a CSRF token bound to the session, compared in constant time.
"""

from __future__ import annotations

import secrets

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"cache-control", b"no-store"),
    (b"pragma", b"no-cache"),
    (b"referrer-policy", b"same-origin"),  # "no-referrer" makes Chromium send "Origin: null" on forms
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class Refused(Exception):
    """A request that fails a security check (answered 403, with the reason)."""


async def plain_answer(send, status: int, text: str) -> None:
    """Send a plain-text ASGI answer with ``status`` and the desk's security headers."""
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *HEADERS]})
    await send({"type": "http.response.body", "body": body})


class WallMiddleware:
    """Host check, body limit and security headers around the whole application."""

    def __init__(self, app, allowed_hosts: set[str], max_body: int) -> None:
        self.app, self.allowed_hosts, self.max_body = app, {h.lower() for h in allowed_hosts}, int(max_body)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if host not in self.allowed_hosts:
            return await plain_answer(send, 421, "this page is only served under the address it was started on")
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            return await plain_answer(send, 413, f"request larger than {self.max_body} bytes refused")
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise Refused(f"request larger than {self.max_body} bytes refused")
            return message

        async def secured_send(message):
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in dict(HEADERS)]
                message = {**message, "headers": kept + HEADERS}
            await send(message)

        started = False

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await secured_send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Refused as err:
            if not started:
                await plain_answer(send, 413, str(err))


def check_origin(headers, allowed_origins: set[str]) -> None:
    """Raise Refused unless a POST comes from this page's own origin."""
    origin = headers.get("origin")
    if origin is not None:
        if origin not in allowed_origins:
            raise Refused(f"a form from another origin ({origin}) was refused")
        return
    if headers.get("sec-fetch-site") != "same-origin":
        raise Refused("a form without a same-origin proof (Origin or Sec-Fetch-Site) was refused")


def check_csrf(expected: str | None, given: object) -> None:
    """Raise Refused unless ``given`` is the session's CSRF token."""
    if not expected or not isinstance(given, str) or not secrets.compare_digest(expected, given):
        raise Refused("the form's CSRF token is missing or wrong (reload the page)")
