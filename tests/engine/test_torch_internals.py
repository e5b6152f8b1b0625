"""The canary for torch upgrades: every private torch name netscope relies on is still there.
A torch that drops one fails here by name, before any figure quietly goes wrong."""

from __future__ import annotations

import pathlib
import re

import pytest

from netscope.engine import torch_internals

ROOT = pathlib.Path(__file__).resolve().parents[2] / "netscope"


def test_every_private_torch_name_is_still_there() -> None:
    assert torch_internals.missing() == [], "torch dropped a private API netscope uses"


def test_a_name_torch_does_not_have_is_reported() -> None:
    with pytest.raises(AttributeError):
        torch_internals.resolve("torch._C._no_such_thing_netscope_uses")


def test_every_private_module_name_in_the_code_is_listed() -> None:
    """A new use of ``torch._C...`` or ``torch.utils._x`` elsewhere must be added to the list."""
    listed = "\n".join(torch_internals.MODULE_NAMES)
    used = set()
    for path in ROOT.rglob("*.py"):
        for match in re.finditer(r"torch\._C\.[\w.]+|torch\.utils\._\w+\.?\w*", path.read_text()):
            used.add(match.group(0).rstrip("."))
    unlisted = sorted(name for name in used if name not in listed)
    assert unlisted == []
