"""Shared fixtures: the shared data folder (never skipped silently) and seed documents."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from retold import api
from retold.errors import InputError


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or ``$RETOLD_DATA``). Missing data fails the test loudly: CI always has it.

    Set ``RETOLD_ALLOW_MISSING_DATA=1`` to turn the failure into a reported skip on a machine without it.
    """
    try:
        return api.data_dir()
    except InputError as exc:
        if os.environ.get("RETOLD_ALLOW_MISSING_DATA") == "1":
            pytest.skip(f"shared data missing: {exc}")
        pytest.fail(f"shared data missing: {exc}; set RETOLD_DATA to the shared/data folder")


@pytest.fixture(scope="session")
def seed_paths(shared_data: Path) -> tuple[Path, Path]:
    """The founding pair: 000 (a rewrite) and 004 (its source)."""
    return shared_data / api.SEED_A, shared_data / api.SEED_B
