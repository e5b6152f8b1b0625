"""What torch.compile did in a run: the user's graph breaks and recompiles (frozen records).

Read from torch's own records without changing what dynamo does (engine/run/dynamo_watch.py).
``count`` is how often dynamo met the break or recompiled while compiling (a break compiled once
runs at every call of the compiled code after).
"""

from __future__ import annotations

from dataclasses import dataclass

#: the run's note when netscope leaves sampled detection out (engine/run/compile_safe.py)
DETECTORS_OFF = (
    "syncs and copies are not sampled: the script runs torch.compile'd code, and netscope's "
    "detectors (torch function and dispatch modes) would make dynamo recompile it or run it "
    "eagerly"
)


@dataclass(frozen=True)
class GraphBreak:
    reason: str  # dynamo's explanation, first line
    file: str | None  # the user's file (shown path), None: dynamo did not say
    line: int | None
    count: int


@dataclass(frozen=True)
class Recompile:
    function: str  # the compiled function (code name)
    file: str | None
    line: int | None  # the line of the guard that failed, else the function's first line
    reason: str  # the failed guard, as dynamo words it
    count: int


@dataclass(frozen=True)
class RecompileLimit:
    """A function hit dynamo's recompile limit: it runs eagerly from then on."""

    function: str
    file: str | None
    line: int | None
    limit: int | None
    last_reason: str


@dataclass(frozen=True)
class CompileReport:
    frames_compiled: int  # dynamo's frames (each compile of a function or a resume after a break)
    unique_graphs: int
    graph_break_count: int  # every graph break dynamo met (its own counter)
    graph_breaks: tuple[GraphBreak, ...]  # with their location, most frequent first
    recompiles: tuple[Recompile, ...]
    recompile_limits: tuple[RecompileLimit, ...]
    compile_ms: float | None  # dynamo + backend compile time, forward and backward frames
    run_ms: float  # the script's time from netscope's start to its end
    notes: tuple[str, ...] = ()
