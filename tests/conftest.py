"""Shared pytest options. Keep minimal: helpers add what their own tests need."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files from the current output (or set NETSCOPE_UPDATE_GOLDEN=1)",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when golden files should be rewritten instead of compared."""
    return bool(request.config.getoption("--update-golden")) or (
        os.environ.get("NETSCOPE_UPDATE_GOLDEN", "") not in ("", "0")
    )
