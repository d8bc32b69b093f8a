"""Review 6, finding 6 (low): a webhook over plain ``http://`` to another machine.

Every event, and the secret that webhook services put in the URL (a token in the path or the
query), crossed the network in clear, and the config said nothing. As finding 2 did for MQTT
credentials, such a URL is now refused when the config is read (so ``serve`` does not start and
a reload is refused), unless ``allow_plain_http = true`` says the operator accepts it; ``https://``
and ``http://`` to this machine are as before. The remote host is this machine's own
non-loopback address (``tests/network_attacker.py``): what a web server elsewhere looks like.
"""

from __future__ import annotations

import pytest
from facesel.serve.config import load_config, parse_config
from facesel.serve.events import check_webhook
from network_attacker import outside_address

from test_serve import authority, camera, config_dict, keys  # noqa: F401

TOKEN = "hook-token-5u9Rj4Tq0WmY"


def _config_file(tmp_path, authority, keys, webhook: str) -> object:
    path = tmp_path / "facesel.toml"
    path.write_text(f'[serve]\nlisten = ""\n[serve.webhook]\n{webhook}\n[defaults]\nauthority = "{authority}"\n'
                    f'[cameras.gate]\nsource = "rtsp://127.0.0.1:9/none"\nvault = "{tmp_path / "gate"}"\n'
                    f'camera_key = "{keys("gate")}"\n')
    path.chmod(0o600)  # a webhook URL is a secret: the file must be the owner's alone
    return path


def test_plain_http_to_another_machine_is_refused_when_the_config_is_read(authority, keys, tmp_path):
    remote = outside_address()
    for host in (remote, "hooks.example.org"):  # an address that is not loopback, and a host name (DNS can lie)
        path = _config_file(tmp_path, authority, keys, f'url = "http://{host}:8080/services/{TOKEN}"')
        with pytest.raises(ValueError) as refused:
            load_config(path)
        message = str(refused.value)
        assert "serve.webhook.url" in message and "https://" in message and "allow_plain_http" in message, message
        assert TOKEN not in message  # the URL is named by scheme, host and port only


def test_https_loopback_http_and_the_explicit_opt_in_are_accepted(authority, keys, tmp_path):
    remote = outside_address()
    cameras = {"gate": camera("rtsp://127.0.0.1:9/none", tmp_path / "gate", keys("gate"))}
    accepted = [{"url": f"https://{remote}:8443/services/{TOKEN}"},
                {"url": "http://127.0.0.1:8080/hook"}, {"url": "http://localhost:8080/hook"},
                {"url": "http://[::1]:8080/hook"},
                {"url": f"http://{remote}:8080/services/{TOKEN}", "allow_plain_http": True}]
    for table in accepted:
        config = parse_config(config_dict(authority, cameras, webhook=table))
        assert dict(config.webhook)["url"] == table["url"]
    # the opt-in must be said plainly: a string is not a yes
    with pytest.raises(ValueError, match="serve.webhook.allow_plain_http must be true or false"):
        check_webhook({"url": f"http://{remote}/hook", "allow_plain_http": "yes"}, "serve.webhook")
