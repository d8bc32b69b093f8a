"""The seconds keys of a serve config have an upper bound (ux18c).

``open_timeout = 1e9`` (milliseconds typed as seconds, or a stray exponent) was taken: a camera that
never opened, or went silent, would have stayed out of /healthz's "down" for 31 years. Each seconds
key of a camera, of [serve] and of [serve.webhook] now refuses a value over its bound, naming the key
and the value; the bound itself passes, and docs/serve.md states it in the key's row.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from facesel.serve.config import MAX_RECONNECT_DELAY_SECONDS, MAX_TIMEOUT_SECONDS, parse_config

from test_serve import authority, camera, config_dict, keys, videos  # noqa: F401 - module fixtures

ROOT = Path(__file__).resolve().parents[1]
CAMERA_KEYS = {"open_timeout": MAX_TIMEOUT_SECONDS, "read_timeout": MAX_TIMEOUT_SECONDS,
               "stall_timeout": MAX_TIMEOUT_SECONDS, "reconnect_max_delay": MAX_RECONNECT_DELAY_SECONDS}


def _door(videos, keys, tmp_path, **settings):
    return {"door": camera(videos / "intel_head_pose_female.gif", tmp_path / "v", keys("door"), **settings)}


@pytest.mark.parametrize("key", sorted(CAMERA_KEYS))
def test_a_typo_sized_camera_timeout_is_refused_naming_key_and_value(videos, authority, keys, tmp_path, key):
    with pytest.raises(ValueError) as err:
        parse_config(config_dict(authority, _door(videos, keys, tmp_path, **{key: 1e9})))
    assert f"cameras.door.{key} must be at most {CAMERA_KEYS[key]:g} seconds" in str(err.value)
    assert "got 1000000000.0" in str(err.value)
    bound = parse_config(config_dict(authority, _door(videos, keys, tmp_path, **{key: CAMERA_KEYS[key]})))
    assert getattr(bound.cameras["door"], key) == CAMERA_KEYS[key]


def test_a_typo_sized_timeout_in_defaults_is_refused_too(videos, authority, keys, tmp_path):
    data = config_dict(authority, _door(videos, keys, tmp_path))
    data["defaults"]["read_timeout"] = 5000
    with pytest.raises(ValueError, match=r"cameras\.door\.read_timeout must be at most 600 seconds .*got 5000"):
        parse_config(data)


def test_a_typo_sized_shutdown_or_webhook_timeout_is_refused(videos, authority, keys, tmp_path):
    cameras = _door(videos, keys, tmp_path)
    with pytest.raises(ValueError, match=r"serve\.shutdown_timeout must be at most 600 seconds .*got 1e\+20"):
        parse_config(config_dict(authority, cameras, shutdown_timeout=1e20))
    hook = {"url": "http://127.0.0.1:1/hook", "timeout": 86400}
    with pytest.raises(ValueError, match=r"serve\.webhook\.timeout must be at most 600 seconds .*got 86400"):
        parse_config(config_dict(authority, cameras, webhook=hook))
    with pytest.raises(ValueError, match=r"serve\.webhook\.timeout must be a positive number of seconds, got inf"):
        parse_config(config_dict(authority, cameras, webhook={**hook, "timeout": float("inf")}))
    config = parse_config(config_dict(authority, cameras, shutdown_timeout=600, webhook={**hook, "timeout": 600}))
    assert config.shutdown_timeout == 600 and dict(config.webhook)["timeout"] == 600


def test_docs_serve_md_states_each_bound_in_the_keys_row():
    text = (ROOT / "docs" / "serve.md").read_text(encoding="utf-8")
    rows = {key: line for line in text.splitlines() if line.startswith("| `")
            for key in re.findall(r"`([a-z_]+)`", line.split("|")[1])}
    for key, bound in {**CAMERA_KEYS, "shutdown_timeout": MAX_TIMEOUT_SECONDS}.items():
        assert f"at most {bound:g} s" in rows[key], (key, rows[key])
    events = text[text.index("`[serve.webhook]` ("):text.index("send one JSON object per event")]
    assert f"`timeout = 5.0` seconds, at most {MAX_TIMEOUT_SECONDS:g}" in events
