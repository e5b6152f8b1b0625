"""Shared pytest options. Keep minimal: helpers add what their own tests need."""

from __future__ import annotations

import os
import sys

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


@pytest.fixture(autouse=True, scope="module")
def _no_process_group_outlives_its_module():
    """The sharded-snapshot tests build FSDP2 and DTensor models in a fake process group in this
    process; the plan refuses to replay inside a live group (it would be part of a job), so a
    module's group is destroyed when the module's tests end."""
    yield
    distributed = sys.modules.get("torch.distributed")
    if distributed is not None and distributed.is_available() and distributed.is_initialized():
        distributed.destroy_process_group()
