"""``facesel review``: the Starlette application (routes only; the checks live in their modules).

Routes (all but ``/start`` and ``/static/*`` need the session cookie and lie under the session's
secret path ``/s/SECRET`` (``DeskState.url_base``; :class:`SessionPath`), which the start link
leads to; every POST needs the same origin and the session's CSRF token):

=======================  ==========================================================================
GET  /start?token=T      exchange the one-time start token for the session cookie
GET  /                   find: filters, matching records (metadata only), counts per camera and day
POST /open               an opening request: chosen records (``CAMERA/RECORD_ID`` each), case reference,
                         reason, who, and for a late arrival the acknowledgement
                         (:data:`facesel.review.sources.ACKNOWLEDGEMENT`)
GET  /open/holders       the holders' step: "1 of 2", a share upload and a passphrase field
POST /open/holders       one holder's share and passphrase; at K, verify, decrypt, *log*, then view
POST /open/cancel        drop the request and the share values given so far
GET  /opening            view: snapshots, clips, quality plots (logged as a ``view`` first)
GET  /opening/r/C/R/...  one picture of record R of camera C whose view was logged (``crop``,
                         ``clip/NNNN``); the old ``/opening/r/R/...`` while R names one record
POST /opening/export     the evidence bundle (zip), logged as ``export``
POST /end                end the session (logged), drop everything
=======================  ==========================================================================

The records come from a :mod:`facesel.review.sources` source: a vault folder or the central store.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import re
from pathlib import Path

import jinja2
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from facesel.review.bundle import build_bundle
from facesel.review.catalog import Filters, parse_record_key
from facesel.review.holders import MAX_SHARE_BYTES, TooManyAttempts
from facesel.review.plots import quality_svg
from facesel.review.memory_open import logged_records, record_key_of
from facesel.review.record_view import MetadataError, shown_metadata
from facesel.review.sources import ACKNOWLEDGEMENT, asked_late_arrivals, desk_late_refusal
from facesel.review.security import Refused, WallMiddleware, plain_answer, check_csrf, check_origin
from facesel.review.state import DeskState, PendingOpening
from facesel.review.times import duration_text, local_text, parse_local, utc_text
from facesel.vault.errors import AuditError, EpochUnavailableError, KeyMaterialError, RecordError
from facesel.vault.record import RECORD_ID
from facesel.vault.signing import CAMERA_ID

COOKIE = "facesel_review"
# Over https: Secure, and the __Host- prefix, with which a browser keeps only a cookie set by this
# exact host over TLS with path / (no sibling subdomain or plain-HTTP page can plant or replace it).
SECURE_COOKIE = "__Host-facesel_review"
HERE = Path(__file__).parent
STATIC = {"review.css": "text/css; charset=utf-8", "review.js": "text/javascript; charset=utf-8"}
MAX_BODY = 256 * 1024
ENDED_GRACE = 5.0
"""Seconds the desk still answers after its session ended before it stops: the ended page's
stylesheet and script are fetched after the page itself."""
_PICTURE = re.compile(r"\A(crop|clip/[0-9]{4})\Z")
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                          undefined=jinja2.StrictUndefined)


def _page(name: str, state: DeskState, status: int = 200, **values) -> HTMLResponse:
    with state.lock:
        message, state.message = state.message, None
    html = _env.get_template(name).render(csrf=state.csrf or "", message=message, opening=state.opening,
                                          base=state.url_base, **values)
    return HTMLResponse(html, status_code=status)


class SessionPath:
    """Serve the pages only under ``base`` (``/s/SECRET``); ``/start`` and ``/static/*`` as they are.

    Why (review 7b, finding 1): browsers do not separate cookies by port, so the session cookie of
    ``http://127.0.0.1:DESK`` also goes to any program another account runs on a loopback port,
    once the investigator's browser loads a page from it. Over http the cookie's ``Path`` is
    ``base``, so it is not sent there at all; and whatever cookie a program holds, a page needs
    ``base`` too, which the browser sends to this origin only (``Referrer-Policy: same-origin``).
    The routes themselves stay ``/``, ``/opening``, ...: the prefix is stripped here and added to
    the ``Location`` of every redirect.
    """

    def __init__(self, app, base: str) -> None:
        self.app, self.base = app, base

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope["type"] != "http" or path == "/start" or path.startswith("/static/"):
            return await self.app(scope, receive, send)
        if not path.startswith(self.base + "/"):
            return await plain_answer(send, 404, "not found: the desk's pages are at the address its start link leads to")
        inner = path[len(self.base):]
        scope = {**scope, "path": inner, "raw_path": inner.encode("latin-1")}

        async def prefixed_send(message):
            if message["type"] == "http.response.start":
                headers = [(k, self.base.encode() + v if k.lower() == b"location" and v.startswith(b"/")
                            and not v.startswith(b"//") else v) for k, v in message.get("headers", [])]
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, prefixed_send)


def _number(q, key: str, label: str) -> float | None:
    if not q.get(key):
        return None
    try:
        value = float(q[key])
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"{label} must be a number, got {q[key]!r}")
    return value


def _filters(q) -> Filters:
    """The find form's query values as checked :class:`Filters` (ValueError names the field)."""
    filters = Filters(camera=q.get("camera") or None, start=parse_local(q.get("from", ""), "from"),
                      end=parse_local(q.get("to", ""), "to"), min_quality=_number(q, "min_quality", "quality"),
                      min_track_seconds=_number(q, "min_track", "track length"))
    filters.check()
    return filters


def _refused(text: str, status: int = 403) -> Response:
    return Response(text, status_code=status, media_type="text/plain; charset=utf-8")


def build_app(state: DeskState, allowed_hosts: set[str], allowed_origins: set[str], secure_cookie: bool = False,
              on_ended=None):
    """The ASGI application for ``state`` (wrapped in :class:`WallMiddleware`); ``secure_cookie``
    when browsers reach it over https (TLS here or at a proxy). ``on_ended(why)`` is called once,
    :data:`ENDED_GRACE` seconds after the session ended (the server's owner stops it then: no
    other session can begin)."""
    keystore = state.keystore()
    source = state.source
    cookie = SECURE_COOKIE if secure_cookie else COOKIE
    # The __Host- prefix needs path /; over plain http the cookie is kept to the session's path,
    # so another loopback port never receives it (SessionPath).
    cookie_flags = {"path": "/" if secure_cookie else state.url_base, "httponly": True, "samesite": "strict",
                    "secure": secure_cookie}

    def authed(request: Request) -> bool:
        return state.current(request.cookies.get(cookie))

    async def checked_form(request: Request, **limits):
        if not authed(request):
            raise Refused("no live session: start again with the URL printed by facesel review")
        check_origin(request.headers, allowed_origins)
        form = await request.form(**limits)
        check_csrf(state.csrf, form.get("csrf"))
        return form

    async def start(request: Request):
        session = state.begin(request.query_params.get("token", ""))
        if session is None:
            return _refused("this start link is wrong or was used already; restart facesel review for a new one")
        response = RedirectResponse(state.url_base + "/", status_code=303)
        response.set_cookie(cookie, session, **cookie_flags)
        return response

    async def find(request: Request):
        if not authed(request):
            return _refused("no live session: start again with the URL printed by facesel review", 401)
        q = request.query_params
        error, result = None, None
        try:
            result = await run_in_threadpool(source.search, _filters(q))
        except ValueError as err:
            error = str(err)
        return _page("find.html", state, q=q, result=result, error=error, local_text=local_text, utc_text=utc_text,
                     duration_text=duration_text, source_label=source.label, acknowledgement=ACKNOWLEDGEMENT)

    async def open_request(request: Request):
        form = await checked_form(request, max_files=0, max_fields=1000)
        keys = [parse_record_key(v) for v in form.getlist("record") if isinstance(v, str)]
        case, reason, who = (str(form.get(k) or "").strip() for k in ("case", "reason", "opened_by"))
        acknowledged = form.get("acknowledge_after_revocation") == "yes"
        problem, late = None, {}
        if not keys or None in keys:
            problem = "choose at least one record to open"
        elif not case or not reason or not who:
            problem = "the case reference, the reason and your name are all required"
        else:  # before any share is asked for, as central open refuses without its flag
            late, problem = await run_in_threadpool(asked_late_arrivals, source, list(dict.fromkeys(keys)))
            if late and not acknowledged:
                problem = f"refused: {desk_late_refusal(late)}"
        if problem:
            state.message = problem
            return RedirectResponse("/", status_code=303)
        with state.lock:
            state.drop_pending()
            state.end_opening("a new opening was requested")
            state.pending = PendingOpening(list(dict.fromkeys(keys)), case, reason, who, state.collector(),
                                           after_revocation=late, acknowledged=ACKNOWLEDGEMENT if late else None)
        return RedirectResponse("/open/holders", status_code=303)

    async def holders_page(request: Request):
        if not authed(request):
            return _refused("no live session", 401)
        if state.pending is None:
            return RedirectResponse("/", status_code=303)
        return _page("holders.html", state, pending=state.pending, max_share=MAX_SHARE_BYTES)

    async def add_holder(request: Request):
        form = await checked_form(request, max_files=1, max_fields=4)
        pending = state.pending
        if pending is None:
            return RedirectResponse("/", status_code=303)
        upload, passphrase = form.get("share"), form.get("passphrase")
        if not hasattr(upload, "read"):
            state.message = "choose the holder's share file"
            return RedirectResponse("/open/holders", status_code=303)
        data = await upload.read(MAX_SHARE_BYTES + 1)
        await upload.close()
        name = Path(str(upload.filename or "share")).name
        try:
            index = await run_in_threadpool(pending.holders.add, data, name, str(passphrase or ""))
        except TooManyAttempts as err:
            if pending.holders.cancelled:
                state.drop_pending()
            state.message = f"refused: {err}"
            return RedirectResponse("/open/holders" if state.pending else "/", status_code=303)
        except KeyMaterialError as err:
            state.message = f"refused: {err}"
            return RedirectResponse("/open/holders", status_code=303)
        finally:
            del data, passphrase
        if not pending.holders.complete:
            state.message = f"share {index} accepted"
            return RedirectResponse("/open/holders", status_code=303)
        try:
            opening = await run_in_threadpool(_finish, pending)
        except (KeyMaterialError, RecordError, EpochUnavailableError, AuditError, ValueError) as err:
            state.drop_pending()
            state.message = f"nothing was opened: {err}"
            return RedirectResponse("/", status_code=303)
        with state.lock:
            state.pending, state.opening = None, opening
            state.viewed.clear()
        return RedirectResponse("/opening", status_code=303)

    def _finish(pending: PendingOpening):
        master, used = pending.holders.combine()
        return source.open(keystore, master, used, pending.records, pending.case, pending.reason,
                           pending.opened_by, acknowledged=pending.acknowledged)

    async def cancel(request: Request):
        await checked_form(request, max_files=0, max_fields=4)
        state.drop_pending()
        state.message = "the opening request was cancelled; the shares given were forgotten"
        return RedirectResponse("/", status_code=303)

    async def view(request: Request):
        if not authed(request):
            return _refused("no live session", 401)
        opening = state.opening
        if opening is None or opening.ended:
            return RedirectResponse("/", status_code=303)
        records = list(opening.records)
        # Logged before the page (and so before any of its pictures) is sent.
        await run_in_threadpool(opening.log, "view", record_ids=[r.row.record_id for r in records],
                                records=logged_records(records), shown=["snapshot", "clip", "quality plot"])
        with state.lock:
            state.viewed.update(record_key_of(r.row) for r in records)
        items = []
        for r in records:
            item = {"row": r.row, "clips": sorted(n for n in r.snapshot.blobs if n.startswith("clip/")),
                    "problem": None, "after_revocation": opening.after_revocation.get(record_key_of(r.row))}
            try:  # the camera's word: checked field by field, one bad record does not hide the others
                best, track = shown_metadata(r.snapshot.meta)
            except MetadataError as err:
                item["problem"] = str(err)
            else:
                item.update(best=best, track=track, plot=Markup(quality_svg(
                    track["frame_indices"], track["qualities"], best["frame_index"], best["quality"])))
            items.append(item)
        return _page("view.html", state, items=items, local_text=local_text, utc_text=utc_text,
                     duration_text=duration_text)

    def picture_of(rest: str) -> tuple[tuple[str, str] | None, str, str | None]:
        """``(camera, record id)``, the picture's name, and why it is refused (None when it is not),
        from the address after ``/opening/r/``: ``CAMERA/RECORD_ID/NAME``, or the old
        ``RECORD_ID/NAME`` while that id names one viewed record."""
        first, _, after = rest.partition("/")
        second, _, name = after.partition("/")
        if CAMERA_ID.match(first) and RECORD_ID.match(second):
            return (first, second), name, None
        if not RECORD_ID.match(first):
            return None, after, "not an opened record whose view was logged"
        with state.lock:
            cameras = sorted(camera for camera, rid in state.viewed if rid == first)
        if len(cameras) > 1:  # an address without the camera (before session 21): never one of them at random
            return None, after, (f"record {first} of this opening is held by cameras {', '.join(cameras)}: the "
                                 f"address must name the camera (/opening/r/CAMERA/{first}/{after})")
        return ((cameras[0], first) if cameras else None), after, None

    async def picture(request: Request):
        if not authed(request):
            return _refused("no live session", 401)
        key, name, refusal = picture_of(request.path_params["rest"])
        opening = state.opening
        if refusal is not None:
            return _refused(refusal, 404)
        if opening is None or key not in state.viewed or not _PICTURE.match(name):
            return _refused("not an opened record whose view was logged", 404)
        record = opening.by_key(*key)
        blob = None if record is None else record.snapshot.blobs.get(name)
        if blob is None:
            return _refused("no such picture", 404)
        media = "image/png" if blob[:4] == b"\x89PNG" else "image/jpeg"
        return Response(blob, media_type=media)

    async def export(request: Request):
        await checked_form(request, max_files=0, max_fields=4)
        opening = state.opening
        if opening is None or opening.ended:
            return _refused("nothing is open to export", 409)
        data = await run_in_threadpool(build_bundle, opening)
        await run_in_threadpool(opening.log, "export", record_ids=[r.row.record_id for r in opening.records],
                                records=logged_records(opening.records), bundle_sha256=hashlib.sha256(data).hexdigest())
        name = f"evidence-{opening.case}-{opening.entry['seq']}.zip"
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
        return Response(data, media_type="application/zip",
                        headers={"content-disposition": f'attachment; filename="{safe}"'})

    async def end(request: Request):
        await checked_form(request, max_files=0, max_fields=4)
        await run_in_threadpool(state.end, "ended by the investigator")
        response = _page("ended.html", state)
        response.delete_cookie(cookie, **cookie_flags)
        return response

    async def static(request: Request):
        name = request.path_params["name"]
        if name not in STATIC:
            return _refused("not found", 404)
        return Response((HERE / "static" / name).read_bytes(), media_type=STATIC[name])

    async def refused_handler(request: Request, exc: Refused):
        return _refused(str(exc))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async def watch():
            while True:
                await asyncio.sleep(1.0)
                await run_in_threadpool(state.expire_if_idle)
                if on_ended is not None and state.ended_for(ENDED_GRACE):
                    on_ended(state.ended_why)
                    return

        task = asyncio.create_task(watch())
        try:
            yield
        finally:
            task.cancel()
            await run_in_threadpool(state.end, "the review server stopped")
            await run_in_threadpool(source.close)

    routes = [Route("/start", start), Route("/", find), Route("/open", open_request, methods=["POST"]),
              Route("/open/holders", holders_page), Route("/open/holders", add_holder, methods=["POST"]),
              Route("/open/cancel", cancel, methods=["POST"]), Route("/opening", view),
              Route("/opening/r/{rest:path}", picture),
              Route("/opening/export", export, methods=["POST"]), Route("/end", end, methods=["POST"]),
              Route("/static/{name}", static)]
    app = Starlette(routes=routes, exception_handlers={Refused: refused_handler}, lifespan=lifespan)
    return WallMiddleware(SessionPath(app, state.url_base), allowed_hosts, MAX_BODY)
