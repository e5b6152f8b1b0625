"""The worker subprocess: results stream back; raise, crash, kill and hang become errors with the
worker's output tail while the parent keeps running; cancel is quick; live mode pauses and resumes.

Every session here is started at once (a module fixture) so their torch imports overlap.
"""

from __future__ import annotations

import signal
import textwrap
import time
from pathlib import Path

import psutil
import pytest
import torch
from prof_helpers import file_line

from netscope.engine.options import LoadOptions, ProfileOptions
from netscope.engine.profiler.messages import (
    BlockTimings,
    CopiesFound,
    Finished,
    GilMeasured,
    Progress,
    SnapshotReady,
    SyncsFound,
    TimingDone,
    TimingSample,
    WorkerError,
    WorkerMessage,
)
from netscope.engine.profiler.step import STEP_TRAIN
from netscope.engine.worker.session import WorkerSession, error_from

HEADER = "import os, signal, sys, time\nimport torch\nfrom torch import nn\n\n"
MODELS = {
    "ok": """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Linear(4, 4)

            def forward(self, x):
                y = self.body(x)
                y.sum().item()  # MARK:item
                return y

        def build_model():
            return Net()

        def example_input():
            return torch.ones(2, 4)
        """,
    "raise": """
        def build_model():
            raise ValueError("no such layer")  # MARK:raise
        """,
    "library": """
        from rich.color import Color

        def build_model():
            Color.parse("not-a-colour")  # MARK:library
        """,
    "abort": """
        def build_model():
            print("about to abort", file=sys.stderr, flush=True)
            os.abort()
        """,
    "kill": """
        def build_model():
            print("allocating a lot", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """,
    "train": """
        def build_model():
            torch.manual_seed(0)
            return nn.Linear(4, 4)

        def example_input():
            return torch.ones(2, 4)

        def loss(output, batch):
            return output.sum() * 1000.0  # big updates: trained weights would show in the stats
        """,
    "memory": """
        def build_model():
            return nn.Linear(2, 2)

        def example_input():
            return torch.ones(1, 2)

        def step(model, batch):
            raise MemoryError("user code ran out")  # MARK:memory
        """,
    "rlimit": """
        import resource

        def build_model():
            return nn.Linear(2, 2)

        def example_input():
            return torch.ones(1, 2)

        def step(model, batch):
            with open("/proc/self/status") as status:
                kib = next(int(l.split()[1]) for l in status if l.startswith("VmSize"))
            limit = kib * 1024 + 512 * 1024**2
            hard = resource.getrlimit(resource.RLIMIT_AS)[1]
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
            return torch.empty(1024**3, dtype=torch.uint8)  # MARK:rlimit
        """,
    "segv": """
        import ctypes

        def build_model():
            return nn.Linear(2, 2)

        def example_input():
            return torch.ones(1, 2)

        def step(model, batch):
            print("reading address 0", flush=True)
            return ctypes.string_at(0)  # MARK:segv
        """,
    "hang": """
        def build_model():
            print("waiting forever", file=sys.stderr, flush=True)
            time.sleep(600)
        """,
}
FAST = ProfileOptions(devices=("cpu",), min_runs=5, max_seconds=0.2)
TIMEOUT_S = 30.0  # torch imports in nine parallel workers on two busy cores


@pytest.fixture(scope="module")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("worker_models")
    files = {}
    for name, body in MODELS.items():
        files[name] = folder / f"{name}_model.py"
        files[name].write_text(HEADER + textwrap.dedent(body))
    return files


@pytest.fixture(scope="module")
def sessions(model_files: dict[str, Path]) -> dict[str, WorkerSession]:
    plan = {
        "live": (model_files["ok"], FAST, True),
        "raise": (model_files["raise"], FAST, False),
        "library": (model_files["library"], FAST, False),
        "abort": (model_files["abort"], FAST, False),
        "kill": (model_files["kill"], FAST, False),
        "hang": (model_files["hang"], ProfileOptions(timeout_s=TIMEOUT_S), False),
        "train": (model_files["train"], FAST, False),
        "memory": (model_files["memory"], FAST, False),
        "rlimit": (model_files["rlimit"], FAST, False),
        "segv": (model_files["segv"], FAST, False),
    }
    started = {}
    for name, (path, prof, live) in plan.items():
        load = LoadOptions(str(path), train=name == "train")  # --train: the snapshot's step too
        started[name] = WorkerSession(load, prof, live=live)
        started[name].start()
    yield started
    for session in started.values():
        session.cancel()


def drain(session: WorkerSession, until: float = TIMEOUT_S + 15) -> list[WorkerMessage]:
    messages: list[WorkerMessage] = []
    deadline = time.monotonic() + until
    while not session.finished and time.monotonic() < deadline:
        message = session.poll(0.2)
        if message is not None:
            messages.append(message)
    assert session.finished, f"no end of stream; got {messages[-3:]}"
    return messages


def test_a_good_model_streams_every_result_in_order(sessions, model_files) -> None:
    messages = drain(sessions["live"])
    kinds = [type(m) for m in messages if not isinstance(m, (Progress, TimingSample))]
    kinds = [k for k in kinds if k.__name__ != "SystemSampled"]
    assert kinds == [
        SnapshotReady,
        TimingDone,
        BlockTimings,
        CopiesFound,
        SyncsFound,
        GilMeasured,
        Finished,
    ]
    profile = messages[-1].profile
    assert [d.device for d in profile.devices] == ["cpu"]
    assert profile.step == "forward (eval, no grad)"
    assert any(isinstance(m, TimingSample) for m in messages)
    (sync,) = profile.syncs
    assert (sync.op, sync.block) == (".item()", "")
    assert sync.location == file_line(model_files["ok"], "item")


def test_a_raising_model_reports_the_users_line(sessions, model_files) -> None:
    error = drain(sessions["raise"])[-1]
    assert isinstance(error, WorkerError)
    assert "ValueError: no such layer" in error.message
    assert error.location == file_line(model_files["raise"], "raise")
    assert "ValueError" in error.traceback_tail
    assert error.exit_code == 1


def test_an_error_inside_a_library_names_the_users_line_then_the_library_line(
    sessions, model_files
) -> None:
    error = drain(sessions["library"])[-1]
    assert isinstance(error, WorkerError)
    assert error.location == file_line(model_files["library"], "library")
    assert error.library_location is not None
    assert error.library_location.startswith("rich/color.py:")
    assert error_from(error).library_location == error.library_location


@pytest.mark.parametrize(
    ("name", "printed", "meaning"),
    [("abort", "about to abort", "aborted"), ("kill", "allocating a lot", "killed")],
)
def test_a_crashed_worker_reports_its_exit_and_output(sessions, name, printed, meaning) -> None:
    error = drain(sessions[name])[-1]
    assert isinstance(error, WorkerError)
    assert meaning in error.message
    assert error.exit_code is not None and error.exit_code < 0
    assert printed in error.traceback_tail


def test_a_hung_worker_is_stopped_at_its_timeout(sessions) -> None:
    error = drain(sessions["hang"])[-1]
    assert isinstance(error, WorkerError)
    assert f"did not finish within {TIMEOUT_S:g} s" in error.message
    assert "waiting forever" in error.traceback_tail


def test_live_mode_keeps_timing_until_paused_or_cancelled(sessions) -> None:
    session = sessions["live"]
    drain(session)  # the one-shot measurements (checked above) end with Finished

    def samples_within(seconds: float) -> int:
        count, end = 0, time.monotonic() + seconds
        while time.monotonic() < end:
            count += isinstance(session.poll(0.05), TimingSample)
        return count

    assert samples_within(1.0) > 0
    # settled: after the measurements the live loop keeps a light duty cycle, not a busy core
    assert session.pid is not None
    worker = psutil.Process(session.pid)
    cpu_before, wall_before = sum(worker.cpu_times()[:2]), time.monotonic()
    assert samples_within(2.0) > 0
    busy = (sum(worker.cpu_times()[:2]) - cpu_before) / (time.monotonic() - wall_before)
    assert busy < 0.5, f"live worker kept {busy:.0%} of a core busy"
    session.pause()
    samples_within(0.5)  # drain what was already in flight
    assert samples_within(0.5) == 0
    session.resume()
    assert samples_within(1.5) > 0
    began = time.monotonic()
    session.cancel()  # while it is busy timing
    assert time.monotonic() - began < 1.0
    assert session.exit_code is not None
    assert session.finished and session.poll(0.1) is None


def test_train_profiles_the_training_step_and_snapshots_the_untrained_weights(sessions) -> None:
    messages = drain(sessions["train"])
    assert isinstance(messages[-1], Finished), messages[-1]
    assert messages[-1].profile.step == STEP_TRAIN
    (snapshot,) = [m.snapshot for m in messages if isinstance(m, SnapshotReady)]
    first_timing = next(i for i, m in enumerate(messages) if isinstance(m, TimingSample))
    assert messages.index(next(m for m in messages if isinstance(m, SnapshotReady))) < first_timing
    torch.manual_seed(0)
    fresh = torch.nn.Linear(4, 4)  # what build_model() returns, before any training step
    weight = {p.name: p for p in snapshot.parameters}["weight"]
    assert weight.stats.mean == pytest.approx(fresh.weight.mean().item(), abs=1e-6)
    assert weight.stats.max == pytest.approx(fresh.weight.max().item(), abs=1e-6)


def test_a_memory_error_in_the_step_names_the_stage_and_line(sessions, model_files) -> None:
    error = drain(sessions["memory"])[-1]
    assert isinstance(error, WorkerError)
    assert error.message.startswith("timing the step on cpu failed: MemoryError: user code ran out")
    assert error.location == file_line(model_files["memory"], "memory")


def test_an_address_space_limit_hit_is_an_error_not_a_crash(sessions, model_files) -> None:
    error = drain(sessions["rlimit"])[-1]
    assert isinstance(error, WorkerError)
    assert "allocate" in error.message and error.exit_code == 1
    assert error.location == file_line(model_files["rlimit"], "rlimit")


def test_a_segfault_names_the_users_line_from_the_crash_dump(sessions, model_files) -> None:
    error = drain(sessions["segv"])[-1]
    assert isinstance(error, WorkerError)
    assert "segmentation fault" in error.message and error.exit_code == -signal.SIGSEGV
    assert "reading address 0" in error.traceback_tail
    assert error.location == file_line(model_files["segv"], "segv")
