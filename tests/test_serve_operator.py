"""The operator's side of ``facesel serve``: pid file, ``serve status`` / ``serve reload`` on the
status port, counters that survive a reload, per-camera retention, MQTT and webhook events
(a real mosquitto broker and a real HTTP server, started here), the privacy-safe view on the
arcade video, and zones."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest
from facesel.serve.config import parse_config
from facesel.video import open_source
from facesel.serve.service import Service
from facesel.ports import unclaimed_port
from process_helpers import running

from test_serve import LogReader, authority, camera, config_dict, fetch, keys, metric_values, videos  # noqa: F401
from test_sources import wait_for

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
MOSQUITTO = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
EVENT_FIELDS = {"event", "camera", "time", "track_id", "frame", "timestamp", "first_frame", "last_frame",
                "first_timestamp", "last_timestamp", "quality", "record_id", "state", "reason", "count", "total"}


def records(folder) -> set[str]:
    return {path.name[: -len(".fsr")] for path in (folder / "records").glob("*.fsr")}


def facesel(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "facesel", *map(str, args)], capture_output=True, text=True,
                          env=ENV, timeout=120)


# -- pid file, status, reload, counters across a reload: a real process -------------------------

@pytest.mark.slow
def test_pid_file_status_reload_and_a_summary_that_counts_every_record(videos, authority, keys, tmp_path):
    port = unclaimed_port()
    config_path, pid_path = tmp_path / "facesel.toml", tmp_path / "run" / "facesel.pid"
    head = (f'[serve]\nlisten = "127.0.0.1:{port}"\nlog_format = "json"\n[defaults]\nauthority = "{authority}"\n'
            f'[cameras.walk]\nsource = "{videos / "intel_face_demographics_walking.gif"}"\nloop = true\n'
            f'vault = "walk"\ncamera_key = "{keys("walk")}"\n[cameras.walk.pipeline]\nscorer = "laplacian"\n')
    config_path.write_text(head)
    pid_path.parent.mkdir()  # --pid-file no longer makes its folder (ux20)
    process = subprocess.Popen([sys.executable, "-m", "facesel", "serve", "--config", str(config_path),
                                "--pid-file", str(pid_path)], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               text=True, env=ENV)
    logs = LogReader(process.stderr)
    # running() last, so that it exits first: the process is killed before its pipe is closed (see it)
    with contextlib.closing(logs), running(process):
        assert wait_for(lambda: pid_path.is_file() and pid_path.read_text().strip() == str(process.pid), timeout=180)
        # a second service with the same pid file stops before starting anything
        other = tmp_path / "other.toml"
        other.write_text(head.replace(f"127.0.0.1:{port}", "127.0.0.1:0").replace('vault = "walk"', 'vault = "w2"'))
        second = facesel("serve", "--config", other, "--pid-file", pid_path)
        assert second.returncode == 1 and f"already runs as pid {process.pid}" in second.stderr

        def status():
            done = facesel("serve", "status", "--config", config_path, "--json")
            return json.loads(done.stdout) if done.returncode == 0 else None
        assert wait_for(lambda: (s := status()) is not None and s["cameras"]["walk"]["sealed"] >= 2, timeout=120)
        text = facesel("serve", "status", "--config", config_path)
        assert text.returncode == 0 and f"facesel serve pid {process.pid}" in text.stdout and "walk: up" in text.stdout
        before = metric_values(fetch(port, "/metrics")[1])

        config_path.write_text(head + "min_hits = 2\n")  # the camera changes: it is restarted
        done = facesel("serve", "reload", "--config", config_path)
        assert done.returncode == 0 and "changed walk" in done.stdout, done.stderr
        after = metric_values(fetch(port, "/metrics")[1])
        for name in ("facesel_records_sealed_total", "facesel_frames_processed_total", "facesel_faces_detected_total",
                     "facesel_frames_received_total"):
            assert after[(name, "walk")] >= before[(name, "walk")] > 0, name  # no reset at the reload
        # The restarted camera is up once its first frame came (a moment that depends on the machine's
        # speed and load: waited for); from then on the refused reload below must leave it up.
        assert wait_for(lambda: status()["cameras"]["walk"]["up"], timeout=180)

        config_path.write_text(head + "min_hits = 0\n")
        refused = facesel("serve", "reload", "--config", config_path)
        assert refused.returncode == 1 and "config refused" in refused.stderr and "min_hits" in refused.stderr
        assert status()["cameras"]["walk"]["up"] and status()["reloads"] == 1
        assert wait_for(lambda: status()["cameras"]["walk"]["sealed"] > after[("facesel_records_sealed_total", "walk")],
                        timeout=120)
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)
    assert code == 0
    assert not pid_path.exists()
    summary = logs.find("records sealed in this run")[0]["message"]
    assert summary.startswith(f"stopped; {len(records(tmp_path / 'walk'))} records sealed")  # both cameras' worth
    errors = [e["message"] for e in logs.lines if e.get("level") in ("error", "raw")]
    assert len(errors) == 1 and errors[0].startswith("reload: config refused, cameras unchanged")  # logged, too
    gone = facesel("serve", "status", "--config", config_path)
    assert gone.returncode == 1 and "no facesel serve answers" in gone.stderr


# -- per-camera retention -----------------------------------------------------------------------

def test_camera_retention_is_refused_when_longer_than_the_authority(videos, authority, keys, tmp_path):
    gif = videos / "intel_head_pose_female.gif"

    def parse(**extra):
        return parse_config(config_dict(authority, {"door": camera(gif, tmp_path / "door", keys("door"), **extra)}))
    with pytest.raises(ValueError, match=r"retention_hours = 200 is longer than the authority's retention \(168 hours"):
        parse(retention_hours=200)
    with pytest.raises(ValueError, match="more than 72 hours: give the reason in retention_reason"):
        parse(retention_hours=96)
    assert parse(retention_hours=96, retention_reason="weekend closure").cameras["door"].retention_seconds == 96 * 3600
    with pytest.raises(ValueError, match="retention_hours must be a positive number"):
        parse(retention_hours=0)


@pytest.mark.slow
def test_a_camera_retention_purges_before_the_authority_would(videos, authority, keys, tmp_path):
    """The authority keeps 7 days; this camera keeps 3 seconds: its records are purged while it runs."""
    gif = videos / "intel_face_demographics_walking.gif"
    config = parse_config(config_dict(authority, {
        "short": camera(gif, tmp_path / "short", keys("short"), loop=True, retention_hours=3 / 3600),
    }))
    service = Service(config).start()
    try:
        short = service.cameras["short"]
        assert wait_for(lambda: short.sealed >= 2, timeout=120)
        assert wait_for(lambda: len(records(tmp_path / "short")) < short.sealed, timeout=180)
    finally:
        service.stop()


# -- events: MQTT (a real mosquitto) and a webhook (a real HTTP server) --------------------------

@contextlib.contextmanager
def mosquitto(tmp_path):
    if MOSQUITTO is None:
        if os.environ.get("CI"):
            pytest.fail("mosquitto is not installed (CI is set)")
        pytest.skip("mosquitto is not installed (Debian package mosquitto)")
    port = unclaimed_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    broker = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with running(broker):
        def accepts():
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
            return False
        assert wait_for(accepts, timeout=60)
        yield port
        broker.terminate()
        broker.wait(10)


class Subscriber:
    def __init__(self, port: int, topic: str):
        import paho.mqtt.client as mqtt

        self.messages: list[tuple[str, bytes, bool]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda client, data, message: self.messages.append(
            (message.topic, message.payload, message.retain))
        self.client.on_connect = lambda client, data, flags, code, props: client.subscribe(topic, qos=1)
        # set once the broker has acknowledged the subscription: connected alone (is_connected())
        # comes before on_connect has sent it, and what is published before then reaches no one
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


class Webhook:
    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.headers["Content-Type"], self.headers["X-Facesel-Event"], json.loads(body)))
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.slow
def test_events_to_mqtt_and_a_webhook_are_metadata_only_and_match_the_vault(videos, authority, keys, tmp_path):
    pytest.importorskip("paho.mqtt")
    with mosquitto(tmp_path) as port:
        subscriber, hook = Subscriber(port, "facesel/#"), Webhook()
        try:
            assert wait_for(subscriber.subscribed.is_set, timeout=60)
            config = parse_config(config_dict(
                authority, {"walk": camera(videos / "intel_face_demographics_walking.gif", tmp_path / "walk",
                                           keys("walk"))},
                mqtt={"port": port, "topic": "facesel"}, webhook={"url": hook.url}))
            service = Service(config).start()
            try:
                walk = service.cameras["walk"]
                assert wait_for(lambda: walk.state == "ended", timeout=120)  # a file camera ends with its file
            finally:
                assert service.stop() == []
            assert wait_for(lambda: ("facesel/status", b"offline", False) in subscriber.messages, timeout=60)
        finally:
            subscriber.close()
            hook.close()
    events = [(topic, json.loads(payload)) for topic, payload, _ in subscriber.messages if topic != "facesel/status"]
    sealed = {event["record_id"] for _, event in events if event["event"] == "track_sealed"}
    assert sealed and sealed == records(tmp_path / "walk")  # one event per record on disk
    kinds = [event["event"] for _, event in events]
    assert kinds[0] == "camera_up" and "camera_down" in kinds
    opened = {e["track_id"] for _, e in events if e["event"] == "track_opened"}
    closed = {e["track_id"] for _, e in events if e["event"] == "track_closed"}
    assert closed and closed <= opened
    for topic, event in events:
        assert topic == f"facesel/walk/{event['event']}" and event["camera"] == "walk"
        assert set(event) <= EVENT_FIELDS  # no pixels, boxes or landmarks
    assert max(len(payload) for _, payload, _ in subscriber.messages) < 400
    # The webhook got the same events, one POST each, as JSON.
    assert [body for _, _, body in hook.received] == [event for _, event in events]
    assert all(kind == "application/json" and name == body["event"] for kind, name, body in hook.received)


def test_a_broker_that_is_down_never_stops_a_camera(videos, authority, keys, tmp_path):
    config = parse_config(config_dict(
        authority, {"walk": camera(videos / "intel_head_pose_female.gif", tmp_path / "walk", keys("walk"))},
        mqtt={"port": unclaimed_port()}, webhook={"url": f"http://127.0.0.1:{unclaimed_port()}/", "timeout": 1}))
    service = Service(config).start()
    try:
        walk = service.cameras["walk"]
        assert wait_for(lambda: walk.state == "ended", timeout=120)
    finally:
        assert service.stop() == []
    # the open tracks are sealed as the camera finishes; every delivery to the webhook failed
    assert walk.sealed >= 1 and len(records(tmp_path / "walk")) == walk.sealed and service.events.failed >= 1


# -- the privacy-safe view ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def arcade_frames(shared_data):
    frames = [frame for frame, _ in open_source(shared_data / "videos" / "arcade_walkers_1080p.mp4")]
    return frames


@pytest.fixture(scope="module")
def still_arcade(arcade_frames, tmp_path_factory):
    """Arcade frame 60 (7 faces, some 12 pixels wide on the view) as a 10-frame MJPG video, and the
    frame as the camera decodes it."""
    path = tmp_path_factory.mktemp("still") / "arcade60.avi"
    frame = arcade_frames[60]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, (frame.shape[1], frame.shape[0]))
    for _ in range(10):
        writer.write(frame)
    writer.release()
    capture = cv2.VideoCapture(str(path))
    ok, decoded = capture.read()
    capture.release()
    assert ok
    return path, decoded


def face_boxes(image, min_confidence=0.6):
    from facesel.detect import make_detector

    return make_detector("yunet", min_confidence=min_confidence).detect(image).boxes


def hidden_well(original: np.ndarray, served: np.ndarray) -> list[float]:
    """For every face YuNet finds on the full-size original: how far the served JPEG's pixels are
    from the original's in that box, over how far a plain JPEG encoding of the original is (1.0:
    the face is served as it is). Measured on 21 arcade frames: 2.8 or more for all 156 faces
    with the view's defaults; 1.2 for a face the view missed before it detected at full size."""
    scale = served.shape[1] / original.shape[1]
    shrunk = cv2.resize(original, (served.shape[1], served.shape[0]), interpolation=cv2.INTER_AREA)
    plain = cv2.imdecode(cv2.imencode(".jpg", shrunk, [cv2.IMWRITE_JPEG_QUALITY, 80])[1], cv2.IMREAD_COLOR)
    ratios = []
    for box in face_boxes(original) * scale:
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        face = shrunk[y1:y2, x1:x2].astype(np.float64)
        ratios.append(np.abs(face - served[y1:y2, x1:x2]).mean() / np.abs(face - plain[y1:y2, x1:x2]).mean())
    return ratios


def fetch_bytes(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.mark.slow
def test_the_view_hides_every_face_and_is_logged(still_arcade, authority, keys, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="facesel")
    path, original = still_arcade
    assert len(face_boxes(original)) >= 5  # the frame has faces: the checks below can fail
    config = parse_config(config_dict(authority, {"arcade": camera(path, tmp_path / "v", keys("arcade"), loop=True)},
                                      view=True))
    service = Service(config).start()
    try:
        port = service.status.port
        assert wait_for(lambda: fetch_bytes(port, "/cameras/arcade/view.jpg")[0] == 200, timeout=120)
        code, jpeg = fetch_bytes(port, "/cameras/arcade/view.jpg")
        assert code == 200 and jpeg[:3] == b"\xff\xd8\xff"
        served = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert min(hidden_well(original, served)) >= 2.0
        assert len(face_boxes(served)) == 0
        assert len(face_boxes(cv2.resize(served, (original.shape[1], original.shape[0])))) == 0
        # the MJPEG stream: two parts, each a JPEG with no face in it
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/cameras/arcade/view.mjpg", timeout=30) as stream:
            assert stream.headers["Content-Type"].startswith("multipart/x-mixed-replace")
            parts = []
            while len(parts) < 2:
                line = stream.readline()
                if line.lower().startswith(b"content-length:"):
                    stream.readline()
                    parts.append(stream.read(int(line.split(b":")[1])))
        for part in parts:
            assert len(face_boxes(cv2.imdecode(np.frombuffer(part, np.uint8), cv2.IMREAD_COLOR))) == 0
        assert fetch_bytes(port, "/cameras/nobody/view.jpg")[0] == 404
    finally:
        service.stop()
    used = [r for r in caplog.records if r.getMessage().startswith(("view of camera arcade served",
                                                                     "view stream of camera arcade"))]
    assert len(used) >= 3  # the still and the stream's open and close: every use is logged


def test_the_view_is_off_by_default(still_arcade, authority, keys, tmp_path):
    path, _ = still_arcade
    service = Service(parse_config(config_dict(authority, {"arcade": camera(path, tmp_path / "v", keys("arcade"),
                                                                            loop=True)}))).start()
    try:
        assert wait_for(lambda: service.cameras["arcade"].processed > 0, timeout=120)
        assert service.cameras["arcade"].newest_frame is None  # not even kept
        for url in ("/cameras/arcade/view.jpg", "/cameras/arcade/view.mjpg"):
            code, body = fetch_bytes(service.status.port, url)
            # ux18: the answer said "not found: try /metrics or /healthz", not that the view is off
            assert code == 404 and body.startswith(b"the privacy-safe view is off: set serve.view = true"), body
    finally:
        service.stop()


def test_a_disabled_camera_is_listed_as_disabled_and_never_makes_the_service_degraded(videos, authority, keys,
                                                                                        tmp_path):
    # ux18: a camera with enabled = false was absent from /healthz and serve status, so an operator
    # could not tell a disabled camera from a misspelt one.
    gif = videos / "intel_face_demographics_walking.gif"
    service = Service(parse_config(config_dict(authority, {
        "walk": camera(gif, tmp_path / "v1", keys("walk"), loop=True),
        "hall": camera(gif, tmp_path / "v2", keys("hall"), enabled=False)}))).start()
    try:
        port = service.status.port
        answers = []  # each answer judged is the one polled: walk may be between two passes of its file

        def healthy():
            answers.append(fetch(port, "/healthz"))
            return answers[-1][0] == 200
        assert wait_for(healthy, timeout=120), answers[-1]
        health = json.loads(answers[-1][1])
        assert health["status"] == "ok" and health["down"] == [] and health["cameras"]["walk"]["up"]
        assert health["cameras"]["hall"]["state"] == "disabled" and not health["cameras"]["hall"]["up"]
        assert "hall" not in service.cameras  # listed, not run
        config_path = tmp_path / "status.toml"
        config_path.write_text(f'[serve]\nlisten = "127.0.0.1:{port}"\n')
        texts = []

        def status_all_up():
            texts.append(facesel("serve", "status", "--config", config_path))
            return texts[-1].returncode == 0
        assert wait_for(status_all_up, timeout=120), texts[-1].stdout + texts[-1].stderr
        assert "hall: disabled (enabled = false in the config)" in texts[-1].stdout and "walk: up" in texts[-1].stdout
    finally:
        service.stop()


@pytest.mark.slow
def test_hidden_on_every_arcade_frame(arcade_frames):
    """The renderer on 21 frames of the arcade video (every 5th): no face left for YuNet, every
    face's pixels far from the original."""
    import types

    from facesel.serve.view import ViewRenderer
    from facesel.serve.zones import ZoneMask

    for frame in arcade_frames[::5]:
        stand_in = types.SimpleNamespace(newest_frame=frame, adapter=None, zones=ZoneMask(),
                                         config=types.SimpleNamespace(name="arcade", settings={}))
        served = cv2.imdecode(np.frombuffer(ViewRenderer(stand_in).render(), np.uint8), cv2.IMREAD_COLOR)
        assert len(face_boxes(served)) == 0
        assert min(hidden_well(frame, served)) >= 2.0


# -- zones --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_an_ignore_zone_keeps_its_faces_out_and_an_only_zone_keeps_the_rest_out(arcade_frames, shared_data,
                                                                                  authority, keys, tmp_path):
    arcade = shared_data / "videos" / "arcade_walkers_1080p.mp4"
    h, w = arcade_frames[0].shape[:2]
    left = [[0, 0], [w // 2, 0], [w // 2, h], [0, h]]

    def run(name, zones):
        boxes = []
        table = camera(arcade, tmp_path / name, keys(name), zones=zones)
        service = Service(parse_config(config_dict(authority, {name: table})),
                          on_sealed=lambda cam, result, record: boxes.append(np.asarray(result.best.box))).start()
        try:
            assert wait_for(lambda: service.cameras[name].state == "ended", timeout=300)
        finally:
            service.stop()
        return np.array(boxes).reshape(-1, 4)

    def centres_x(boxes):
        return (boxes[:, 0] + boxes[:, 2]) / 2

    from facesel.serve.logs import configure_logging, restore_logging

    lines = io.StringIO()
    saved = configure_logging("info", json_lines=True, stream=lines)
    try:
        everywhere = run("zall", [])
    finally:
        restore_logging(saved)
    # The finaliser's own lines do not know their camera; the service's log names it anyway.
    dropped = [json.loads(line) for line in lines.getvalue().splitlines() if "dropped as" in line]
    assert dropped and all(entry["camera"] == "zall" for entry in dropped)
    assert (centres_x(everywhere) < w // 2).any() and (centres_x(everywhere) > w // 2).any()
    ignored = run("zignore", [{"kind": "ignore", "name": "left half", "points": left}])
    assert len(ignored) and (centres_x(ignored) > w // 2).all()
    only = run("zonly", [{"kind": "only", "name": "left half", "points": left}])
    assert len(only) and (centres_x(only) < w // 2).all()


def test_zone_errors_name_the_camera_and_the_zone(videos, authority, keys, tmp_path):
    gif = videos / "intel_head_pose_female.gif"
    for zones, message in [
        ([{"kind": "mask", "points": [[0, 0], [1, 0], [1, 1]]}], r"cameras.door.zones\[0\].kind must be one of"),
        ([{"kind": "ignore", "points": [[0, 0], [1, 0]]}], r"zones\[0\].points must be at least 3"),
        ([{"kind": "only", "points": [[0, 0], [1, -1], [1, 1]]}], "non-negative pixel numbers"),
        ([{"kind": "only", "pionts": []}], "did you mean 'points'"),
        ([{"kind": "only", "points": [[0, 0], [5, 5], [9, 9]]}], r"zones\[0\].points: the corners lie on one line"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_config(config_dict(authority, {"door": camera(gif, tmp_path / "d", keys("door"), zones=zones)}))


def test_a_crossed_zone_is_not_called_a_line():
    """Review 18: the no-area check used the shoelace area, which is 0 for a bow tie (corners given
    in crossing order), so a zone that covers pixels was refused as "the corners lie on one line"."""
    from facesel.serve.zones import ZoneMask, parse_zones

    bow_tie = {"kind": "only", "points": [[0, 0], [100, 100], [100, 0], [0, 100]]}
    mask = ZoneMask(parse_zones([bow_tie], "cameras.door.zones"))
    kept = mask.apply(np.full((120, 120, 3), 200, np.uint8))
    assert kept[50, 10].all() and kept[50, 90].all() and not kept[10, 50].any()  # the two side triangles
    for on_a_line in ([[0, 0], [5, 5], [9, 9]], [[3, 4], [3, 4], [3, 4]], [[1, 1], [1, 1], [4, 1], [9, 1]]):
        with pytest.raises(ValueError, match="the corners lie on one line"):
            parse_zones([{"kind": "only", "points": on_a_line}], "cameras.door.zones")


def test_only_zones_that_leave_the_camera_blind_are_said_in_its_log(caplog):
    # ux18: an "only" zone of no area, or one whose corners lie outside the frame (read off a 1080p
    # view for a 720p stream), blanked every pixel: the camera ran, /healthz said ok, and it sealed
    # nothing, not a word in its log.
    from facesel.serve.zones import ZoneMask, parse_zones

    frame = np.full((720, 1280, 3), 200, np.uint8)
    outside = {"kind": "only", "name": "doorway", "points": [[1300, 800], [1900, 800], [1900, 1080]]}
    inside = {"kind": "only", "points": [[0, 0], [100, 0], [100, 100]]}
    with caplog.at_level(logging.WARNING, logger="facesel.serve"):
        blind = ZoneMask(parse_zones([outside], "cameras.door.zones"))
        assert not blind.apply(frame).any() and not blind.apply(frame).any()
    said = [r.getMessage() for r in caplog.records]
    assert said == ["zone doorway (only) covers no pixel of the 1280x720 frame: its corners [(1300.0, 800.0), "
                    "(1900.0, 800.0), (1900.0, 1080.0)] lie outside it",
                    "the zones leave no pixel of the 1280x720 frame where faces count: this camera detects and "
                    "seals nothing until they are corrected"]  # once for the frame size, not once a frame
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="facesel.serve"):
        partly = ZoneMask(parse_zones([inside, outside], "cameras.door.zones"))
        assert partly.apply(frame)[50, 80].all() and not partly.apply(frame)[300, 300].any()
    assert [r.getMessage() for r in caplog.records] == [said[0]]  # the stray zone still named; the camera sees


@pytest.mark.slow
def test_a_live_camera_that_drops_frames_says_so_in_an_event(arcade_frames, authority, keys, tmp_path, monkeypatch):
    """A live MJPEG stream of 1080p arcade frames at 100 frames/s is faster than the pipeline: the
    newest-frame rule drops frames, and a frames_dropped event counts them. Faster on any machine:
    every frame gets a full-frame detection held 60 ms longer than it takes (at most 16 frames/s
    against 100), and no governor steps the schedule coarser (it used to rest on the machine alone
    being slower than 100 frames/s of 1080p, true on the loaded 2-core box only)."""
    from mjpeg_server import MJPEGServer
    from slow_detection import slow_full_detection

    slow_full_detection(monkeypatch)
    hook = Webhook()
    try:
        with MJPEGServer(arcade_frames[:40], fps=100) as server:
            live = camera(server.url, tmp_path / "live", keys("live"), coarsen_detection=False,
                          pipeline={"scorer": "laplacian", "detect_every": 1})
            config = parse_config(config_dict(authority, {"live": live}, webhook={"url": hook.url}))
            service = Service(config).start()
            try:
                assert wait_for(lambda: any(body["event"] == "frames_dropped" for _, _, body in hook.received),
                                timeout=120)
            finally:
                service.stop()
    finally:
        hook.close()
    drops = [body for _, _, body in hook.received if body["event"] == "frames_dropped"]
    assert drops[0]["camera"] == "live" and 0 < drops[0]["count"] <= drops[0]["total"]
    assert set(drops[0]) == {"event", "camera", "time", "count", "total"}
