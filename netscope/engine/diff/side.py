"""One report dict read for the diff: its blocks, parameter shapes, block times and spreads,
from a model report (``profile``) or a run report (``run``) alike. Fields a report lacks (an
older writer of schema 1, a checkpoint, no profile) read as None or empty, never as 0."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netscope.engine.diff.noise import spread_pct

MIN_RUNS = 5  # fewer timed runs (or a run's plain steps) give no range to tell noise by


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class Side:
    """What the diff reads of one report."""

    data: dict[str, Any]

    @property
    def model(self) -> dict[str, Any]:
        return _dict(self.data.get("model"))

    @property
    def run(self) -> dict[str, Any]:
        return _dict(self.data.get("run"))

    @property
    def profile(self) -> dict[str, Any]:
        return _dict(self.data.get("profile"))

    def modules(self) -> dict[str, dict[str, Any]]:
        return {m["path"]: m for m in _list(self.model.get("modules")) if "path" in m}

    def own_shapes(self) -> dict[str, tuple[tuple[str, tuple[int, ...] | None], ...]]:
        """Each block's own parameters as sorted (attribute, shape): its structural signature."""
        found: dict[str, list[tuple[str, tuple[int, ...] | None]]] = {}
        for param in _list(self.model.get("parameters")):
            shape = param.get("shape")
            name = str(param.get("name", ""))
            attribute = param.get("attribute") or name.rsplit(".", 1)[-1]
            found.setdefault(str(param.get("block", "")), []).append(
                (attribute, None if shape is None else tuple(shape))
            )
        return {block: tuple(sorted(items, key=str)) for block, items in found.items()}

    def step_timings(self) -> dict[str, dict[str, Any]]:
        """The headline step time per device (model reports), or ``{"step": ...}`` (runs)."""
        if self.run:
            step = _dict(self.run.get("step_ms"))
            if not step:
                return {}
            timed = [self.run.get(k) for k in ("steps", "sampled_steps", "block_timed_steps")]
            plain = timed[0] - (timed[1] or 0) - (timed[2] or 0) if timed[0] else 0
            ranged = plain >= MIN_RUNS
            return {"step": {"median_ms": step.get("median"),
                             "p10_ms": step.get("p10") if ranged else None,
                             "p90_ms": step.get("p90") if ranged else None}}  # fmt: skip
        devices = {k: _dict(v) for k, v in _dict(self.profile.get("devices")).items()}
        for timing in devices.values():
            if (timing.get("runs") or 0) < MIN_RUNS:
                timing.update(p10_ms=None, p90_ms=None, spread_pct=None)
        return devices

    def spreads(self) -> dict[str, float | None]:
        return {name: spread_pct(t) for name, t in self.step_timings().items()}

    def block_times(self) -> dict[tuple[str, str], float]:
        """(path, device or "step") -> inclusive ms."""
        times: dict[tuple[str, str], float] = {}
        if self.run:
            for row in _list(self.run.get("blocks")):
                if isinstance(row.get("inclusive_ms"), (int, float)):
                    times[(row["path"], "step")] = float(row["inclusive_ms"])
            return times
        for row in _list(self.profile.get("blocks")):
            for device, value in _dict(row.get("inclusive_ms")).items():
                if value is not None:
                    times[(row["path"], device)] = float(value)
        return times

    def phases(self) -> dict[str, float | None]:
        return {k: v for k, v in _dict(self.run.get("phases_ms")).items()}

    def findings(self) -> list[tuple[str, dict[str, Any]]]:
        """("sync" | "copy", finding) of the profile or the run."""
        source = self.run or self.profile
        return [("sync", f) for f in _list(source.get("syncs"))] + [
            ("copy", f) for f in _list(source.get("copies"))
        ]

    @property
    def findings_measured(self) -> bool:
        """Syncs and copies were looked for: a profile, or a run with a sampled step."""
        if self.run:
            return bool(self.run.get("sampled_steps"))
        return bool(self.profile)

    def ties(self) -> set[tuple[str, ...]]:
        return {tuple(sorted(group)) for group in _list(self.model.get("ties"))}

    def checkpoint(self) -> dict[str, Any]:
        return _dict(self.data.get("checkpoint"))
