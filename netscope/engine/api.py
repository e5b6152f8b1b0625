"""The engine's front door: options in, Snapshot out (the CLI, worker and app call this)."""

from __future__ import annotations

from collections.abc import Callable

from netscope.engine.load.target import load_target
from netscope.engine.model import Snapshot
from netscope.engine.options import LoadOptions
from netscope.engine.snapshot.build import snapshot_model

__all__ = ["load_target", "snapshot_model", "take_snapshot"]


def take_snapshot(options: LoadOptions, progress: Callable[[str], None] | None = None) -> Snapshot:
    """Load the target named in ``options`` and snapshot it."""
    return snapshot_model(load_target(options, progress), progress)
