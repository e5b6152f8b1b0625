"""``netscope check``'s memory gates: ``--max-peak-memory`` and ``--fit``, as typed violations
(report/check_text.py writes them, with the biggest contributors named)."""

from __future__ import annotations

from netscope.engine.model import Snapshot, Violation

FIT_NOT_AVAILABLE = "fit-not-available"  # the finding of a --fit that could not be answered


def memory_violations(snapshot: Snapshot, max_peak: int | None) -> list[Violation]:
    memory, fit = snapshot.memory, snapshot.fit
    found = []
    if max_peak is not None:
        peak = memory.peak_bytes if memory is not None else None
        if peak is None or peak > max_peak:
            found.append(Violation("peak memory", peak, max_peak))
    if fit is not None and not fit.fits:
        found.append(Violation("fit", fit.needed_bytes, fit.capacity_bytes))
    if fit is None and any(f.code == FIT_NOT_AVAILABLE for f in snapshot.findings):
        found.append(Violation("fit", None, None))  # asked, not answered: no silent pass
    return found
