"""Shared fixtures: the reference-data folder (real recordings beside the project).

Tests find the recordings through ``MUSCLEPOSE_REFDATA`` (default ``../shared/data`` next to
the repository). When the folder is missing they skip with a reason, except when
``MUSCLEPOSE_REQUIRE_REFDATA=1`` (CI), where a missing folder or file is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def refdata_root() -> Path:
    return Path(os.environ.get("MUSCLEPOSE_REFDATA", REPO.parent / "shared" / "data"))


def _require() -> bool:
    return os.environ.get("MUSCLEPOSE_REQUIRE_REFDATA", "") not in ("", "0")


@pytest.fixture(scope="session")
def refdata():
    """Return a function ``refdata("mocap/cmu/131_01.bvh") -> Path`` that skips or fails if absent."""

    def get(rel: str) -> Path:
        path = refdata_root() / rel
        if not path.exists():
            msg = f"reference data {path} not found (set MUSCLEPOSE_REFDATA)"
            if _require():
                pytest.fail(msg + " and MUSCLEPOSE_REQUIRE_REFDATA=1")
            pytest.skip(msg)
        return path

    return get


@pytest.fixture(scope="session")
def body():
    from musclepose.body import Body

    return Body.standard(1.75, 70.0, "male")


@pytest.fixture
def one_thread():
    """Torch on one thread inside the test (timings and small models on a shared 2-core machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
