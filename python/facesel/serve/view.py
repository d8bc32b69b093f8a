"""The privacy-safe view of a camera: the scene, its zones and boxes, never a face.

``GET /cameras/NAME/view.jpg`` (one JPEG) and ``GET /cameras/NAME/view.mjpg`` (an MJPEG stream,
``multipart/x-mixed-replace``, at most :data:`STREAM_FPS` frames per second) on the status port,
only with ``serve.view = true`` (off by default: a 404 otherwise). Every use is logged (camera,
client address, and for a stream how long and how many frames).

Each served frame is made from the newest frame the source delivered, as follows, before any
encoding:

1. The frame is shrunk to at most :data:`VIEW_MAX_SIDE` pixels on its longer side (aiming a
   camera needs no more, and a face too small for the detector is then a few pixels wide).
2. Faces are found on the full-size frame by YuNet (:data:`VIEW_DETECTOR`, whatever detector the
   camera's pipeline uses: Haar missed faces YuNet finds) at a low confidence threshold
   (:data:`VIEW_MIN_CONFIDENCE`: it errs towards hiding), and every box of the tracks
   open on the pipeline's newest frame is added (a face turned away that the detector misses
   now is still hidden while its track lives).
3. Each box, grown by :data:`MARGIN` of its size on every side (hair, ears, the chin), is
   replaced by a mosaic of at most :data:`MOSAIC_CELLS` cells across its longer side, each cell
   the mean colour of its pixels, and the mosaic is then blurred. What is left of a face is
   16 averages: no recogniser can undo it, since the detail is not in the file. The detector
   then runs once more on the result and what it finds is hidden too (a face that a neighbour's
   box masked in the first pass, a head seen from behind). Measured in docs/serve.md
   (``experiments/view_privacy.py``).
4. The zones are drawn on top (:meth:`facesel.serve.zones.ZoneMask.draw`), then an outline
   around each hidden region (green: an open track, with its id; yellow: a detection).

The frame is never written to disk; the JPEG goes to the client and is dropped.

A request made by a web page of another site (``Sec-Fetch-Site: cross-site`` or ``same-site``, an
``Origin`` or ``Referer`` naming another host: :func:`facesel.serve.status_http.from_another_site`)
is answered 403 before it takes one of the :data:`MAX_STREAMS` places or runs a render: an
``<img>`` of ``view.mjpg`` on any page the operator opened used to hold both places, and the
operator's own view was refused with 503 until that page was closed (attack20). A newer request
does not take over a place instead: two clients of the port would then push each other out.

A camera that is not up (connecting, reconnecting, ended, stopped, no frames for its
``stall_timeout``: :func:`down_reason`) is answered 503 with its state and reason, for the still
and the stream alike, before a place is taken: a stream of a dead camera held a place sending
nothing until its client went, and a still showed the last scene it saw as if it were live
(ux25). A stream whose camera goes down sends a last picture that says so
(:func:`down_picture`) and ends, giving its place back.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time

import cv2
import numpy as np

from facesel.serve.status_http import from_another_site

_log = logging.getLogger("facesel.serve")

VIEW_MAX_SIDE = 960
#: The detector that finds the faces to hide, whatever detector the camera's pipeline uses.
VIEW_DETECTOR = "yunet"
VIEW_MIN_CONFIDENCE = 0.3
MARGIN = 0.3
MOSAIC_CELLS = 4
STREAM_FPS = 2.0
#: Live streams at once, over all cameras. The status port has 4 workers and a stream keeps one
#: for as long as its client reads: four streams left /metrics, /healthz, /status and /reload
#: without an answer (review 6, finding 4). Two always stay free for them.
MAX_STREAMS = 2
JPEG_QUALITY = 80
#: A camera's view is rendered at most once in this many seconds, whoever asks: the JPEG made last
#: is answered meanwhile. Each render runs the face detector twice on a full frame, and
#: ``view.jpg`` had no bound: any client of the status port, or any web page the operator opened
#: (an ``<img>`` of ``http://127.0.0.1:PORT/cameras/NAME/view.jpg`` in a loop: a GET with a
#: loopback Host passes the browser check, and the picture need not be readable to cost), kept four
#: workers rendering without pause beside the cameras (review round 11, attack20 finding 4). Below
#: the streams' 1 / STREAM_FPS, so a stream still gets a new picture each frame.
MIN_RENDER_SECONDS = 0.8 / STREAM_FPS


def hidden_regions(boxes: np.ndarray, shape, margin: float = MARGIN) -> list[tuple[int, int, int, int]]:
    """``(left, top, right, bottom)`` integer pixel regions that :func:`hide_faces` covers: each
    box grown by ``margin`` of its size on every side, clipped to the image of ``shape``."""
    h, w = shape[:2]
    regions = []
    for x1, y1, x2, y2 in np.asarray(boxes, np.float64).reshape(-1, 4):
        if not np.isfinite([x1, y1, x2, y2]).all():
            continue
        grow_x, grow_y = (x2 - x1) * margin, (y2 - y1) * margin
        left, top = max(0, int(np.floor(x1 - grow_x))), max(0, int(np.floor(y1 - grow_y)))
        right, bottom = min(w, int(np.ceil(x2 + grow_x))), min(h, int(np.ceil(y2 + grow_y)))
        if right - left >= 2 and bottom - top >= 2:
            regions.append((left, top, right, bottom))
    return regions


def hide_faces(image: np.ndarray, boxes: np.ndarray, margin: float = MARGIN, cells: int = MOSAIC_CELLS) -> np.ndarray:
    """``image`` with every box (grown by ``margin``) turned into a blurred coarse mosaic.

    Parameters
    ----------
    image : (H, W, 3) uint8
        Changed in place and returned.
    boxes : (N, 4) float
        x1, y1, x2, y2 in ``image``'s pixels.
    """
    for left, top, right, bottom in hidden_regions(boxes, image.shape, margin):
        region = image[top:bottom, left:right]
        rh, rw = region.shape[:2]
        scale = cells / max(rh, rw)
        small = cv2.resize(region, (max(1, round(rw * scale)), max(1, round(rh * scale))), interpolation=cv2.INTER_AREA)
        mosaic = cv2.resize(small, (rw, rh), interpolation=cv2.INTER_NEAREST)
        kernel = max(3, (min(rh, rw) // cells) | 1)  # about a cell: smooths the cells' edges, adds no detail
        region[:] = cv2.GaussianBlur(mosaic, (kernel, kernel), 0)
    return image


class ViewRenderer:
    """Renders one camera's privacy-safe frames (one detector per camera, used under a lock)."""

    def __init__(self, camera):
        self.camera = camera
        self._detector = None
        self._lock = threading.Lock()
        self._last: tuple[float, bytes] | None = None  # (monotonic time, JPEG) of the newest render

    def _detect(self, image: np.ndarray) -> np.ndarray:
        from facesel.detect import make_detector

        # YuNet at a low threshold whatever the camera's own detector: the view's detector only
        # hides, so it must be the one that misses least. It used to be the camera's kind, and a
        # camera with ``detector = "haar"`` (frontal faces only, its own threshold) served 24 of
        # the 81 faces YuNet finds on 11 arcade frames as plain faces (review round 12c).
        if self._detector is None:
            self._detector = make_detector(VIEW_DETECTOR, min_confidence=VIEW_MIN_CONFIDENCE)
        return self._detector.detect(image).boxes

    def render(self) -> bytes | None:
        """A JPEG of the newest frame with every face hidden; None before the first frame. At most
        one render per :data:`MIN_RENDER_SECONDS` (requests meanwhile get the last one; concurrent
        ones wait for the render under way rather than start their own)."""
        with self._lock:
            now = time.monotonic()
            if self._last is not None and now - self._last[0] < MIN_RENDER_SECONDS:
                return self._last[1]
            jpeg = self._render()
            if jpeg is not None:
                self._last = (now, jpeg)
            return jpeg

    def _render(self) -> bytes | None:
        """:meth:`render`'s work, under the lock."""
        frame = self.camera.newest_frame
        if frame is None:
            return None
        h, w = frame.shape[:2]
        scale = min(1.0, VIEW_MAX_SIDE / max(h, w))
        image = cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) \
            if scale < 1.0 else frame.copy()
        tracks = [(t.track_id, np.asarray(t.box, np.float64) * scale) for t in self._open_tracks()]
        # On the full-size frame: a face of 24 pixels there is 12 on the view, and the
        # detector missed such a face on the shrunk frame (arcade frame 100).
        detected = np.asarray(self._detect(frame), np.float64).reshape(-1, 4) * scale
        hide_faces(image, np.concatenate([detected, np.asarray([b for _, b in tracks], np.float64).reshape(-1, 4)]))
        again = np.asarray(self._detect(image), np.float64).reshape(-1, 4)
        hide_faces(image, again)
        detected = np.concatenate([detected, again])
        self.camera.zones.draw(image, scale)
        # Outlines go around the hidden regions, not across them (a line over a mosaic is no face
        # detail, but keeping them apart keeps the hidden pixels exactly what hide_faces made).
        for left, top, right, bottom in hidden_regions(detected, image.shape):
            cv2.rectangle(image, (left - 1, top - 1), (right, bottom), (0, 220, 255), 1)
        for track_id, box in tracks:
            for left, top, right, bottom in hidden_regions(box, image.shape):
                cv2.rectangle(image, (left - 2, top - 2), (right + 1, bottom + 1), (0, 255, 0), 2)
                cv2.putText(image, f"#{track_id}", (left, max(12, top - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                            (0, 255, 0), 1, cv2.LINE_AA)
        cv2.putText(image, f"facesel {self.camera.config.name}: faces hidden", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (255, 255, 255), 1, cv2.LINE_AA)
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        return encoded.tobytes()

    def _open_tracks(self) -> list:
        adapter = self.camera.adapter
        return adapter.all_tracks() if adapter is not None else []


def _same_camera(view: ViewRenderer, current: ViewRenderer | None) -> bool:
    """False once a reload removed or replaced the camera a stream was opened on: it ends."""
    return current is not None and current.camera is view.camera


def down_reason(camera) -> str | None:
    """Why ``camera`` has no live picture to show (its state, and the reason when one is known), or
    None while its frames flow. A camera that runs but does not seal still has a picture to aim by."""
    info = camera.health()
    if info["state"] in ("running", "not sealing"):
        return None
    return f"{info['state']}: {info['reason']}" if info.get("reason") else info["state"]


def down_picture(name: str, why: str, shape: tuple[int, int] = (540, 960)) -> bytes:
    """A JPEG (``shape`` = (height, width), dark grey) that says camera ``name`` is down and ``why``:
    the last part of a stream whose camera went down, so that the client does not show a stale
    scene as if it were live."""
    image = np.full((*shape, 3), 40, np.uint8)
    lines = [f"facesel {name}: camera DOWN", *[why[i:i + 70] for i in range(0, min(len(why), 280), 70)],
             time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())]
    for k, line in enumerate(lines):
        cv2.putText(image, line, (16, 40 + 32 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 1, cv2.LINE_AA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return encoded.tobytes()


def _write_part(request, jpeg: bytes) -> None:
    """One part of the MJPEG stream (``boundary=frame``), flushed to the client."""
    request.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + str(len(jpeg)).encode()
                        + b"\r\n\r\n" + jpeg + b"\r\n")
    request.wfile.flush()


def _client_left(sock) -> bool:
    """True when the stream's client closed its end (readable with nothing to read)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def routes(service):
    """``routes(method, path)`` for the view endpoints; when ``serve.view`` is off, a 404 that says
    so for a view URL (None for other paths: the status server answers those)."""
    renderers: dict[str, ViewRenderer] = {}
    lock = threading.Lock()
    stream_slots = threading.BoundedSemaphore(MAX_STREAMS)

    def renderer(name):
        camera = next((c for c in service.camera_list() if c.config.name == name), None)
        if camera is None:
            return None
        with lock:
            current = renderers.get(name)
            if current is None or current.camera is not camera:  # a reload made a new camera
                current = renderers[name] = ViewRenderer(camera)
        return current

    def refused(request, name: str) -> bool:
        # A web page of another site showing the view (an <img> of view.mjpg held both stream
        # places and locked the operator out of their own view; attack20): refused before a place
        # is taken or a render run. The picture's pixels were never readable to it (no CORS).
        why = from_another_site(request.headers, "a view request")
        if why is not None:
            _log.warning("view of camera %s refused to %s: %s", name, request.client_address[0], why,
                         extra={"camera": name, "event": "view"})
            request._send(403, "text/plain", (why + ": open the view's URL itself (typed, or a bookmark), "
                                              "not from a web page\n").encode())
        return why is not None

    def opened(request, name: str) -> ViewRenderer | None:
        """The camera's renderer for a view request, or None once the request is answered: 403 from
        another site, 404 for no such camera, 503 with the reason for a camera that is down (no
        stream place taken: a client waiting on a dead camera held one, sending nothing; ux25)."""
        if refused(request, name):
            return None
        view = renderer(name)
        if view is None:
            request._send(404, "text/plain", f"no camera {name!r}{_cameras_named(service)}\n".encode())
            return None
        if (why := down_reason(view.camera)) is not None:
            request._send(503, "text/plain", f"camera {name} is not up ({why}): no view until it runs "
                                             "again; 'facesel serve status' says when\n".encode())
            return None
        return view

    def still(name):
        def answer(request) -> None:
            if (view := opened(request, name)) is None:
                return
            _log.info("view of camera %s served to %s", name, request.client_address[0],
                      extra={"camera": name, "event": "view"})
            jpeg = view.render()
            if jpeg is None:
                request._send(503, "text/plain", b"no frame yet\n")
                return
            request._send(200, "image/jpeg", jpeg)
        return answer

    def stream(name):
        def answer(request) -> None:
            if (view := opened(request, name)) is None:
                return
            client = request.client_address[0]
            if not stream_slots.acquire(blocking=False):
                _log.warning("view stream of camera %s refused to %s: %d streams run already", name, client,
                             MAX_STREAMS, extra={"camera": name, "event": "view"})
                request._send(503, "text/plain", f"{MAX_STREAMS} view streams run already; try later\n".encode())
                return
            _log.info("view stream of camera %s opened by %s", name, client, extra={"camera": name, "event": "view"})
            sent, started, why = 0, time.monotonic(), None
            try:
                request.send_response(200)
                request.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                request.send_header("Cache-Control", "no-store")
                request.end_headers()
                if request.command == "HEAD":
                    return  # the headers of the stream, no frame (the place is given back below)
                while not service.stopping and _same_camera(view, renderer(name)):
                    tick = time.monotonic()
                    if (why := down_reason(view.camera)) is not None:
                        # The camera went down: a last picture that says so, then the end of the
                        # stream, which gives its place back (a browser keeps showing that picture).
                        _write_part(request, down_picture(name, why))
                        sent += 1
                        break
                    jpeg = view.render()
                    if jpeg is None and _client_left(request.connection):
                        break  # nothing to write, so no failed write would tell: ask the socket
                    if jpeg is not None:
                        _write_part(request, jpeg)
                        sent += 1
                    time.sleep(max(0.0, 1.0 / STREAM_FPS - (time.monotonic() - tick)))
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass  # the client went away
            finally:
                stream_slots.release()
                _log.info("view stream of camera %s closed for %s after %.0f s, %d frames%s", name, client,
                          time.monotonic() - started, sent, f" (the camera went down: {why})" if why else "",
                          extra={"camera": name, "event": "view"})
        return answer

    def off(request) -> None:
        # A 404 that says why: "not found: try /metrics or /healthz" sent an operator who had
        # followed the README's view URL looking for a typo (ux18). Nothing of the camera is read.
        request._send(404, "text/plain", b"the privacy-safe view is off: set serve.view = true in the config "
                                         b"and restart the service (a reload does not change it)\n")

    def route(method, path):
        if method != "GET" or not path.startswith("/cameras/"):
            return None
        parts = path.split("/")
        if len(parts) != 4 or parts[3] not in ("view.jpg", "view.mjpg"):
            return None
        if not service.config.view:
            return off
        return still(parts[2]) if parts[3] == "view.jpg" else stream(parts[2])

    return route


def _cameras_named(service) -> str:
    """`` (cameras: a, b)``, the names a view URL may take (the ones /healthz lists too), or ``""``."""
    names = sorted(camera.config.name for camera in service.camera_list())
    return f" (cameras: {', '.join(names)})" if names else ""


def paths_hint(service) -> str:
    """What the status port's 404 adds for an unknown path: the view's URLs when ``serve.view`` is
    on (``; the view: /cameras/NAME/view.jpg or view.mjpg (cameras: ...)``), else ``""``."""
    if not service.config.view:
        return ""
    return f"; the view: /cameras/NAME/view.jpg or view.mjpg{_cameras_named(service)}"
