"""Which blocks are FSDP units and which are checkpointed: the default (every block whose class
repeats in a ModuleList/Sequential, as torchtitan wraps transformer layers), a path or class glob
(``--shard-units``, ``--checkpoint PATTERN``), or a model file's ``shard_units(model)``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

from torch import nn


def repeated_blocks(model: nn.Module) -> list[str]:
    """Paths of the children of a ModuleList/Sequential of the class that repeats most there
    (with parameters: the transformer layers, not the activations between them)."""
    found: list[str] = []
    for path, module in model.named_modules():
        if not isinstance(module, (nn.ModuleList, nn.Sequential)):
            continue
        kinds = Counter(type(c) for c in module if next(c.parameters(), None) is not None)
        if not kinds or kinds.most_common(1)[0][1] < 2:
            continue
        kind = kinds.most_common(1)[0][0]
        prefix = f"{path}." if path else ""
        found += [f"{prefix}{name}" for name, c in module.named_children() if type(c) is kind]
    return _outermost(found)


def _outermost(paths: list[str]) -> list[str]:
    """``paths`` without those inside another one: a Sequential of Linear layers inside a
    repeated transformer layer is part of that layer's unit, not a unit of its own."""
    return [p for p in paths if not any(p.startswith(f"{q}.") for q in paths if q and q != p)]


def matching(model: nn.Module, patterns: str) -> list[str]:
    """Paths of the blocks whose path or class name matches one of the comma-separated globs;
    a block inside a matched block is left out (the outer one already covers it)."""
    globs = [p.strip() for p in patterns.split(",") if p.strip()]
    found: list[str] = []
    for path, module in model.named_modules():
        if not path or any(path.startswith(f"{outer}.") for outer in found):
            continue
        if any(fnmatchcase(path, g) or fnmatchcase(type(module).__name__, g) for g in globs):
            found.append(path)
    return found


def unmatched(model: nn.Module, patterns: str) -> list[str]:
    """The comma-separated globs that match no block's path or class (a typo would otherwise
    checkpoint or shard nothing, silently)."""
    globs = [p.strip() for p in patterns.split(",") if p.strip()]
    return [glob for glob in globs if not matching(model, glob)]


def pattern_hint(model: nn.Module) -> str:
    """What a pattern can name in this model: its repeated blocks' paths and class."""
    repeated = repeated_blocks(model)
    if not repeated:
        return "a pattern names blocks by path (encoder.layers.*) or class (a glob)"
    kinds = {type(model.get_submodule(p)).__name__ for p in repeated}
    example = f"{repeated[0].rsplit('.', 1)[0]}.*" if "." in repeated[0] else repeated[0]
    return (
        "a pattern names blocks by path or class (globs); this model repeats "
        f"{', '.join(sorted(kinds))}: {example} or {sorted(kinds)[0]}"
    )


def shard_units(
    model: nn.Module, pattern: str | None, from_file: Callable[[nn.Module], Any] | None
) -> list[str]:
    """The FSDP units below the root (the root is always one, FSDP2's default)."""
    if pattern:
        return matching(model, pattern)
    if from_file is not None:
        paths = {id(m): p for p, m in model.named_modules()}
        return [paths[id(m)] if isinstance(m, nn.Module) else str(m) for m in from_file(model)]
    return repeated_blocks(model)


def checkpointed(model: nn.Module, spec: str, units: list[str]) -> list[str]:
    """The blocks ``--checkpoint`` names: none, all (the units, else the repeated blocks) or
    globs; ``auto`` is chosen by the planner (netscope/engine/plan/auto.py)."""
    if spec in ("none", "auto", ""):
        return []
    if spec == "all":
        return [u for u in units if u] or repeated_blocks(model)
    return matching(model, spec)
