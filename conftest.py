"""Fixtures shared by tests/ and benchmarks/: the real face data, found through facesel.data (FACESEL_DATA)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from facesel.data import data_env_problem, data_root


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real-data folder. Skips when absent; fails under CI, where a skip would hide."""
    root = data_root()
    if root is None:
        message = f"real face data not found: {data_env_problem() or 'set FACESEL_DATA or place it at ../shared/data'}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set, so this is an error, not a skip)")
        pytest.skip(message)
    return root
