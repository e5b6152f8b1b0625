"""The user's own torch.compile story in a run: graph breaks, recompiles, the recompile limit.

Read from torch's own channels, none of which changes what dynamo compiles or runs:

- the ``graph_breaks`` log artifact (each break with its file:line and reason); netscope adds a
  handler and, when the user has not turned the artifact on, lets it log at DEBUG without
  propagating (torch keeps an off-by-default artifact from propagating), both undone at the end;
- ``torch._dynamo.convert_frame``'s warning when a function hits the recompile limit (the
  warning still reaches the user's stderr as before);
- ``torch._dynamo.utils.counters`` and ``get_compilation_metrics()`` (recompile reasons and
  compile times), read without adding a key to dynamo's counters (the script may print them).

``report_if_new()`` is asked at step boundaries while the script runs (the watcher sends it at most
once a second, only when dynamo did something new: the app's Compile tab fills as it goes);
``report()`` once more at the end.

torch's warning about global hooks on a compiled module is netscope's doing: filtered meanwhile.
Nothing imports dynamo early (seconds): loggers are attached by name, and at the end nothing is
read unless the script itself loaded dynamo.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import torch

from netscope.engine.compile_facts import CompileReport, GraphBreak, Recompile, RecompileLimit
from netscope.engine.errors import display_path
from netscope.engine.run.compile_safe import GlobalHooks, dynamo_counter, quiet_hook_warning

GRAPH_BREAKS_LOGGER = "torch._dynamo.symbolic_convert.__graph_breaks"
CONVERT_FRAME_LOGGER = "torch._dynamo.convert_frame"
MAX_ROWS = 50
_BREAK_AT = re.compile(r"in user code at (.+?):(\d+)\s*\nGraph Break Reason: (.*)", re.S)
_LIMIT = re.compile(r"hit config\.(\w+) \((\d+)\)\s*\n\s*function: '([^']*)' \((.+?):(\d+)\)")
_LAST_REASON = re.compile(r"last reason: (.*)")
_STACK_LINE = re.compile(r'File "(.+?)", line (\d+)')
_GUARD_ID = re.compile(r"^\d+/\d+: ")


class _Records(logging.Handler):
    """Keeps the messages of the loggers it is attached to (formatted lazily, at the end)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.records) < 10_000:
            self.records.append(record)


def short_reason(text: str) -> str:
    """Dynamo's explanation in one line: the ``Explanation:`` line, else the first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("Explanation:"):
            return line.removeprefix("Explanation:").strip()
    return lines[0] if lines else ""


def guard_reason(text: str) -> str:
    """A recompile reason's failed guard, without dynamo's ids and its source comment."""
    first = _GUARD_ID.sub("", text.splitlines()[0] if text else "")
    return " ".join(first.split("  #")[0].split())


def _location(text: str) -> tuple[str | None, int | None]:
    """The innermost ``File "...", line N`` of a user stack dynamo printed."""
    found = _STACK_LINE.findall(text)
    if not found:
        return None, None
    name, line = found[-1]
    return display_path(name), int(line)


class DynamoWatch:
    """Attached for the whole run; ``report()`` at the end (None when nothing was compiled)."""

    def __init__(self, pre: Callable[..., Any], post: Callable[..., Any]) -> None:
        self.hooks = GlobalHooks(pre, post)  # the watcher's module hooks, compile-safe
        self.records = _Records()
        self.began = time.perf_counter()
        self._breaks_logger = logging.getLogger(GRAPH_BREAKS_LOGGER)
        self._old_level: int | None = None
        self._unquiet: Callable[[], None] | None = None
        self._sent: tuple[int, int, int] | None = None  # what the last report sent had seen

    def install(self) -> None:
        self._unquiet = quiet_hook_warning()
        breaks = self._breaks_logger
        if not breaks.isEnabledFor(logging.DEBUG):  # the user did not ask for the artifact
            self._old_level = breaks.level
            breaks.setLevel(logging.DEBUG)
            breaks.propagate = False  # as torch has it for an artifact that is off
        breaks.addHandler(self.records)
        logging.getLogger(CONVERT_FRAME_LOGGER).addHandler(self.records)

    def uninstall(self) -> None:
        self.hooks.close()
        breaks = self._breaks_logger
        breaks.removeHandler(self.records)
        if self._old_level is not None:
            breaks.setLevel(self._old_level)
            self._old_level = None
        logging.getLogger(CONVERT_FRAME_LOGGER).removeHandler(self.records)
        if self._unquiet is not None:
            self._unquiet()
            self._unquiet = None

    def report(self) -> CompileReport | None:
        """What dynamo did in this process; None when the script compiled nothing."""
        if "torch._dynamo" not in sys.modules:
            return None
        from torch._dynamo.utils import get_compilation_metrics

        frames = int(dynamo_counter("frames").get("total", 0))
        if not frames:
            return None
        metrics = get_compilation_metrics()
        durations = [m.duration_us for m in metrics if m.duration_us is not None]
        return CompileReport(
            frames_compiled=frames,
            unique_graphs=int(dynamo_counter("stats").get("unique_graphs", 0)),
            graph_break_count=int(sum(dynamo_counter("graph_break").values())),
            graph_breaks=self._graph_breaks(),
            recompiles=_recompiles(metrics),
            recompile_limits=self._limits(),
            compile_ms=sum(durations) / 1000.0 if durations else None,
            run_ms=(time.perf_counter() - self.began) * 1000.0,
            notes=_notes(metrics),
        )

    def report_if_new(self) -> CompileReport | None:
        """The report, when dynamo compiled, broke a graph or logged since the last one (None
        otherwise, and never while dynamo traces)."""
        if "torch._dynamo" not in sys.modules or torch.compiler.is_compiling():
            return None
        from torch._dynamo.utils import get_compilation_metrics

        frames = int(dynamo_counter("frames").get("total", 0))
        mark = (frames, len(self.records.records), len(get_compilation_metrics()))
        if not frames or mark == self._sent:
            return None
        self._sent = mark
        return self.report()

    def _messages(self, logger: str) -> list[str]:
        out = []
        for record in self.records.records:
            if record.name == logger:
                try:
                    out.append(record.getMessage())
                except Exception:  # a record torch could not format is not netscope's to raise
                    continue
        return out

    def _graph_breaks(self) -> tuple[GraphBreak, ...]:
        seen: Counter[tuple[str, str | None, int | None]] = Counter()
        for text in self._messages(GRAPH_BREAKS_LOGGER):
            match = _BREAK_AT.search(text)
            if match is None:
                continue
            name, line, reason = match.groups()
            seen[(short_reason(reason), display_path(name), int(line))] += 1
        rows = [GraphBreak(r, f, n, c) for (r, f, n), c in seen.most_common(MAX_ROWS)]
        return tuple(rows)

    def _limits(self) -> tuple[RecompileLimit, ...]:
        found: dict[tuple[str, str, int], RecompileLimit] = {}
        for text in self._messages(CONVERT_FRAME_LOGGER):
            match = _LIMIT.search(text)
            if match is None:
                continue
            _, limit, function, name, line = match.groups()
            last = _LAST_REASON.search(text)
            key = (function, name, int(line))
            found[key] = RecompileLimit(
                function=function,
                file=display_path(name),
                line=int(line),
                limit=int(limit),
                last_reason=guard_reason(last.group(1)) if last else "",
            )
        return tuple(found.values())


def _recompiles(metrics: list[Any]) -> tuple[Recompile, ...]:
    seen: Counter[tuple[str, str | None, int | None, str]] = Counter()
    for m in metrics:
        text = getattr(m, "recompile_reason", None)
        if not text or m.fail_type is not None:  # refused (the limit): reported on its own
            continue
        name, line = _location(text)
        if name is None and m.co_filename:
            name, line = display_path(m.co_filename), m.co_firstlineno
        seen[(m.co_name or "?", name, line, guard_reason(text))] += 1
    return tuple(Recompile(f, n, li, r, c) for (f, n, li, r), c in seen.most_common(MAX_ROWS))


def _notes(metrics: list[Any]) -> tuple[str, ...]:
    from torch._dynamo.utils import DEFAULT_COMPILATION_METRICS_LIMIT

    if len(metrics) >= DEFAULT_COMPILATION_METRICS_LIMIT:
        return (
            f"torch keeps the last {DEFAULT_COMPILATION_METRICS_LIMIT} compilations' records: "
            "recompiles and compile time cover those only",
        )
    return ()
