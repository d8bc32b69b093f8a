"""Fixtures for the central-store tests: a real PostgreSQL server started for the session, one
fresh database per test, an authority, real ORL faces.

The server comes from the machine's PostgreSQL binaries (PATH or Debian's
/usr/lib/postgresql/<major>/bin). Without them these tests skip, except under CI=true, where a
skip would hide them (``.ci/run`` installs the package).
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from pathlib import Path

import pytest
from facesel.central.pg_local import LocalPostgres, find_pg_bin

# The vault tests' builders (real faces, authorities, TrackResults) live one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from central_common import Cameras  # noqa: E402
from test_vault_common import DAY, make_authority  # noqa: E402

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_server():
    """A running :class:`LocalPostgres` (stopped and removed after the session)."""
    if find_pg_bin() is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl) not found: install the postgresql package"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set, so this is an error, not a skip)")
        pytest.skip(message)
    server = LocalPostgres().start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def central_dsn(pg_server, request):
    """DSN of a new, empty database on the session's server (dropped after the test)."""
    name = f"t{next(_names)}_{request.node.name[:40].lower()}".replace("[", "_").replace("]", "_").replace("-", "_")
    yield pg_server.create_database(name)
    pg_server.drop_database(name)


@pytest.fixture
def authority(tmp_path):
    """(AuthorityPublic, authority folder) with 3 shares, 2 needed, epochs from yesterday for 10 days
    (camera processes seal at the real time)."""
    return make_authority(tmp_path / "authority", start=time.time() - DAY)


@pytest.fixture
def cameras(authority, tmp_path):
    """:class:`central_common.Cameras` of the ``authority`` fixture: ``cameras("cam-a")`` enrols
    (once) and returns the camera's key; ``cameras.pub_path`` is the authority.pub to seal to."""
    return Cameras(authority[1], tmp_path / "camera-keys")
