"""Record what the real worker sends the app for live_model.py into live_stream.pkl.

Run from the repository root: ``python tests/app/recorded/record.py`` (after a change to the
engine's messages or dataclasses; the Pilot tests replay the file). It runs a real WorkerSession
exactly as the app starts one (preview, profile, live), keeps every message up to Finished and
the first LIVE_SAMPLES live step times after it, then cancels the worker.
"""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from netscope.engine.options import LoadOptions, ProfileOptions  # noqa: E402
from netscope.engine.profiler import messages as wm  # noqa: E402
from netscope.engine.worker.session import WorkerSession  # noqa: E402

TARGET = "tests/app/recorded/live_model.py"
LIVE_SAMPLES = 6


def record() -> list[wm.WorkerMessage]:
    prof = ProfileOptions(devices=("cpu",), min_runs=10, max_seconds=0.5)
    messages: list[wm.WorkerMessage] = []
    live_samples = 0
    with WorkerSession(LoadOptions(TARGET), prof, profile=True, live=True, preview=True) as ses:
        deadline = time.monotonic() + 120
        while live_samples < LIVE_SAMPLES and time.monotonic() < deadline:
            message = ses.poll(0.5)
            if message is None:
                continue
            if isinstance(message, wm.WorkerError):
                raise SystemExit(f"the worker failed: {message}")
            messages.append(message)
            if ses.finished and isinstance(message, wm.TimingSample):
                live_samples += 1
    if live_samples < LIVE_SAMPLES:
        raise SystemExit("no live step times after Finished")
    return messages


if __name__ == "__main__":
    stream = record()
    (HERE / "live_stream.pkl").write_bytes(pickle.dumps(stream))
    print(f"{len(stream)} messages: " + ", ".join(sorted({type(m).__name__ for m in stream})))
