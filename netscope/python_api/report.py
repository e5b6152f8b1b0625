"""``Report``: what ``netscope.inspect`` returns, the engine's typed data with the report writers
behind it (the same JSON, Markdown, HTML and Chrome trace as ``netscope report``)."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import Any

from netscope.engine.model import (
    BlockInfo,
    Compute,
    Finding,
    FitVerdict,
    ForwardInfo,
    Memory,
    ParamInfo,
    Profile,
    Snapshot,
    TieGroup,
)
from netscope.units import params_phrase

WIDTH = 100  # __str__ fits a 100-column terminal or notebook cell
KEY_WIDTH = 18
FLOP_KEYS = {"Forward": "FLOPs forward", "Backward": "FLOPs backward",
             "Forward + backward": "FLOPs fwd + bwd", "Attention": "Attention"}  # fmt: skip
MEMORY_KEYS = {"Parameters": "Memory: params", "Buffers": "Memory: buffers",
               "Gradients": "Memory: grads", "Optimizer state": "Memory: optimizer",
               "Saved activations": "Memory: saved", "Peak": "Memory: peak",
               "Peak, meta replay": "Memory: replayed"}  # fmt: skip


@dataclass(frozen=True)
class Report:
    """One model's report. ``snapshot`` and ``profile`` are the engine's frozen dataclasses
    (netscope/engine/model.py); the properties below are shortcuts into them."""

    snapshot: Snapshot
    profile: Profile | None = None

    @property
    def compute(self) -> Compute | None:
        """FLOPs of the example step; None when no forward ran."""
        return self.snapshot.compute

    @property
    def memory(self) -> Memory | None:
        return self.snapshot.memory

    @property
    def fit(self) -> FitVerdict | None:
        """The ``fit=`` verdict; None when no fit was asked."""
        return self.snapshot.fit

    @property
    def forward(self) -> ForwardInfo:
        return self.snapshot.forward

    @property
    def blocks(self) -> tuple[BlockInfo, ...]:
        """Every block, pre-order, the root (path ``""``) first."""
        return self.snapshot.blocks

    @property
    def parameters(self) -> tuple[ParamInfo, ...]:
        return self.snapshot.parameters

    @property
    def buffers(self) -> tuple[ParamInfo, ...]:
        return self.snapshot.buffers

    @property
    def ties(self) -> tuple[TieGroup, ...]:
        return self.snapshot.ties

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.snapshot.findings

    @property
    def total_params(self) -> int | None:
        """Parameters, each tied group counted once; lazy ones (no shape yet) left out, None
        when every parameter is lazy (``snapshot.uninitialized_params`` counts them)."""
        return self.snapshot.total_params

    @property
    def trainable_params(self) -> int | None:
        return self.snapshot.trainable_params

    def block(self, path: str) -> BlockInfo:
        """The block at ``path`` (``"encoder.layers.0"``; ``""`` is the root)."""
        found = self.snapshot.block_by_path.get(path)
        if found is None:
            close = [b.path for b in self.blocks if b.path and path in b.path][:5]
            hint = f"close: {', '.join(close)}" if close else "report.blocks lists every path"
            raise KeyError(f"no block {path!r} in {self.snapshot.model_class} ({hint})")
        return found

    def tensor(self, name: str) -> ParamInfo:
        """The parameter or buffer named ``name`` (``"encoder.layers.0.weight"``)."""
        found = self.snapshot.tensor_by_name.get(name)
        if found is None:
            raise KeyError(f"no parameter or buffer {name!r} in {self.snapshot.model_class}")
        return found

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (schema 1, docs/schema.md) as plain data: what ``save("r.json")``
        writes, and what ``netscope report -o r.json`` writes for the same model."""
        from netscope.report.serialize import report_dict

        return report_dict(self.snapshot, self.profile)

    def save(self, path: str) -> str:
        """Write the report; the format comes from the extension (.json .md .html .trace.json).
        Written atomically; an unwritable path raises NetscopeError. Returns ``path``."""
        from netscope.report.write import write_report

        return write_report(path, self.snapshot, self.profile)

    def open(self) -> int:
        """The app on this report (no worker: the tree, details and any profile shown);
        returns the app's exit status when the user quits."""
        from netscope.python_api.app import run_report_app
        from netscope.terminal import require_terminal

        require_terminal("report.write('report.html'), or print(report) for the text")
        return run_report_app(self.snapshot, self.profile)

    def __str__(self) -> str:
        return render_text(self)

    def __repr__(self) -> str:
        s = self.snapshot
        counted = params_phrase(s.total_params, s.uninitialized_params, "parameters")
        return f"<netscope.Report {s.model_class}: {counted}, {s.target}>"

    def _repr_html_(self) -> str:
        from netscope.python_api.notebook import report_html

        return report_html(self.snapshot, self.profile)


def _rows(report: Report) -> list[tuple[str, str]]:
    from netscope.report.compute_tables import compute_table, fit_verdict_text, memory_table
    from netscope.report.tables import summary

    rows = [pair for pair in summary(report.snapshot) if pair[0] != "Kind"]
    if report.compute is not None:
        figures = compute_table(report.compute).rows
        rows += [(FLOP_KEYS.get(row[0], row[0]), row[1]) for row in figures if row[0] in FLOP_KEYS]
    if report.memory is not None:
        for part, size, note in memory_table(report.memory).rows:
            rows.append((MEMORY_KEYS.get(part, part), f"{size} {note}".strip()))
    if report.fit is not None:
        rows.append(("Fit", fit_verdict_text(report.fit)))
    errors = [f for f in report.findings if f.severity in ("error", "warning")]
    if errors:
        rows.append(("Findings", f"{len(report.findings)} ({len(errors)} warnings or errors)"))
    if report.profile is not None:
        for device in report.profile.devices:
            rows.append((f"Step on {device.device}", _median(device)))
    return rows


def _median(device: Any) -> str:
    median = getattr(device, "median_ms", None)
    return "not available" if median is None else f"{median:.3f} ms median"


def render_text(report: Report) -> str:
    """A two-column summary; values wrap so no line is longer than ``WIDTH``."""
    lines = [f"netscope report: {report.snapshot.model_class}"]
    for key, value in _rows(report):
        label = key if len(key) <= KEY_WIDTH else key[: KEY_WIDTH - 1] + "…"
        wrapped = textwrap.wrap(re.sub(r"\s+", " ", value), WIDTH - KEY_WIDTH - 2) or [""]
        lines.append(f"{label:<{KEY_WIDTH}}  {wrapped[0]}")
        lines += [f"{'':<{KEY_WIDTH}}  {more}" for more in wrapped[1:]]
    return "\n".join(lines)
