"""Shared test helpers: where the parts under test live, and CI's strictness."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "board_templates"
ARTIFACTS = ROOT / "test-artifacts"


def missing(what: str) -> None:
    """Skip for a missing part on a laptop; fail in CI, where skipping would hide it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required when CI is set", pytrace=False)
    pytest.skip(f"{what} is not available")
