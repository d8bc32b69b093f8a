"""ux24: the MQTT outlet logs its connection's changes. A broker down when the service started (or
gone later) was said nowhere: paho kept the events for it, ``publish`` answered "not connected
yet" (not a failure), and only the 1001st event, refused by paho's full queue, was logged."""

from __future__ import annotations

import logging
import os
import subprocess

import pytest
from facesel.ports import unclaimed_port
from facesel.serve.events import MqttOutlet
from process_helpers import running
from test_serve_operator import MOSQUITTO
from test_sources import wait_for


def _lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "facesel.serve"]


def test_a_broker_down_at_the_start_is_logged_and_so_is_its_return(tmp_path, caplog):
    if MOSQUITTO is None:
        if os.environ.get("CI"):
            pytest.fail("mosquitto is not installed (CI is set)")
        pytest.skip("mosquitto is not installed (Debian package mosquitto)")
    caplog.set_level(logging.INFO, logger="facesel.serve")
    port = unclaimed_port()
    outlet = MqttOutlet("127.0.0.1", port)  # nobody listens there yet
    try:
        outlet.send({"camera": "door", "event": "camera_up", "time": "t"})  # kept for later, no error
        assert wait_for(lambda: any("cannot connect" in line for line in _lines(caplog)), timeout=30), _lines(caplog)
        down = [line for line in _lines(caplog) if "cannot connect" in line]
        assert down[0] == (f"events: MQTT 127.0.0.1:{port}: cannot connect; events wait in memory (at most 1000) "
                           "until it answers; retrying"), down
        conf = tmp_path / "mosquitto.conf"
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        broker = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with running(broker):
            assert wait_for(lambda: f"events: MQTT 127.0.0.1:{port} connected again" in _lines(caplog), timeout=60), \
                _lines(caplog)
            outlet.close()
            broker.terminate()
            broker.wait(10)
    finally:
        outlet.close()
    # one line for the outage, not one per try; none for the outlet's own disconnect at the stop
    assert [line for line in _lines(caplog) if "connect" in line] == [down[0], f"events: MQTT 127.0.0.1:{port} connected again"]
