"""The model ``netscope`` opens with no target, so a new user sees something at once."""

from __future__ import annotations

from pathlib import Path


def demo_target() -> str:
    return str(Path(__file__).with_name("demo_model.py"))
