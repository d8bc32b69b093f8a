"""Review round 11 (attack20), open item closed: ``facesel serve status|reload`` read the answer whole.

``control.call`` asks whatever listens on the config's ``serve.listen``. While the service is down
any local process may bind that port, and an answer streaming without end was read whole into the
operator's command. Now at most ``MAX_ANSWER_BYTES`` (16 MiB) are read, and more is refused as not
a facesel serve. A real HTTP server on loopback (``endless_http``).
"""

from __future__ import annotations

import pytest
from endless_http import OFFERED, EndlessServer
from facesel.serve.control import call


@pytest.mark.parametrize("method, path", [("GET", "/status"), ("POST", "/reload")])
def test_an_endless_answer_on_the_status_port_is_refused_unread(method, path):
    with EndlessServer() as server:
        try:
            call(("127.0.0.1", server.port), method, path, timeout=30)
            refused = None
        except (RuntimeError, ValueError) as err:  # before: the whole answer read, then a JSON error
            refused = str(err)
        written = server.wait()
    assert written < OFFERED // 2, written  # the bound's worth and the socket buffers, not the offer
    assert refused is not None and "not a facesel serve" in refused, refused
