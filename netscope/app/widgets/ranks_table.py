"""The Ranks tab of `netscope run --nproc-per-node`: a row per rank (its step, wait, memory peak
and collective time by kind), the straggler marked.

Selecting a row (cursor up/down) posts ``RanksTable.Selected`` with the rank: the run screen then
shows that rank's syncs and copies in their tabs."""

from __future__ import annotations

from textual.message import Message

from netscope.app import format as fmt
from netscope.app.widgets.result_table import ResultTable
from netscope.engine.model import RankRun, RunReport


def rank_row(rank: RankRun, straggler: int | None) -> tuple[str, ...]:
    report = rank.report
    phases = report.phases_ms
    phase_text = (
        fmt.NA
        if phases is None
        else f"data {phases.data:.1f} · fwd {phases.forward:.1f} · bwd {phases.backward:.1f}"
        f" · opt {phases.optimizer:.1f}"
    )
    mark = "◀ straggler" if rank.rank == straggler else ""
    peak_bytes, _how = rank.memory_peak
    return (
        str(rank.rank),
        f"{report.step_ms.median:.1f} ms" if report.step_ms is not None else fmt.NA,
        f"{rank.wait_ms.median:.1f} ms" if rank.wait_ms is not None else fmt.NA,
        fmt.NA if peak_bytes is None else fmt.size(peak_bytes),
        collectives_text(rank),
        phase_text,
        f"{rank.host} (node {rank.node_rank}, local {rank.local_rank})",
        report.state,
        mark,
    )


def collectives_text(rank: RankRun) -> str:
    """``all_gather 12.3 · reduce_scatter 4.5`` ms per step, by kind; n/a when none was timed."""
    kinds: dict[str, float] = {}
    for stat in rank.collectives:
        kinds[stat.kind] = kinds.get(stat.kind, 0.0) + stat.ms_per_step
    return " · ".join(f"{kind} {ms:.1f}" for kind, ms in kinds.items()) or fmt.NA


class RanksTable(ResultTable):
    COLUMNS = (
        "rank", "step (median)", "wait/step", "peak memory", "collectives (ms/step)",
        "phases (ms)", "host", "state", "",
    )  # fmt: skip
    EMPTY = "waiting for the ranks to connect"

    class Selected(Message):
        def __init__(self, rank: int | None) -> None:
            super().__init__()
            self.rank = rank

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ranks: tuple[int, ...] = ()

    def show(self, report: RunReport) -> None:
        if not report.ranks:
            self.ranks = ()
            self.shown_rows = None
            return
        self.ranks = tuple(r.rank for r in report.ranks)
        self.shown_rows = tuple(rank_row(r, report.straggler) for r in report.ranks)

    def on_data_table_row_highlighted(self, event: ResultTable.RowHighlighted) -> None:
        row = event.cursor_row
        self.post_message(self.Selected(self.ranks[row] if 0 <= row < len(self.ranks) else None))
