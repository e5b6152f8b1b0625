"""A hand-built Snapshot and Profile (shaped like the engine's) and a replay of the worker stream.

The app only renders engine dataclasses, so a real Snapshot value is all it needs; the replay
source feeds the real app through its real pump, exactly as a WorkerSession would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from netscope.app.app import NetscopeApp, make_app
from netscope.app.replay import ReplaySource
from netscope.engine import model as m
from netscope.engine.options import LoadOptions, ProfileOptions
from netscope.engine.profiler import messages as wm

TARGET = "sample_models/toy.py"


def _stats(mean: float, nan: int = 0) -> m.TensorStats:
    return m.TensorStats(
        mean=mean, std=0.5, min=-1.0, max=1.0, l2=3.25, nan=nan, inf=0, zero_fraction=0.0,
        histogram=(1, 3, 7, 12, 7, 3, 1, 0), histogram_range=(-1.0, 1.0),
    )  # fmt: skip


def _param(name, block, shape, *, tie=None, lazy=False, grad=True, nan=0, kind="parameter",
           persistent=True) -> m.ParamInfo:  # fmt: skip
    numel = 1
    for d in shape:
        numel *= d
    return m.ParamInfo(
        name=name, block=block, attribute=name.rsplit(".", 1)[-1], kind=kind, shape=shape,
        dtype="float32", device="cpu", numel=numel, bytes=numel * 4,
        requires_grad=kind == "parameter", initialized=True, was_lazy=lazy,
        persistent=persistent, stats=_stats(0.01, nan),
        grad=m.GradStats(present=grad, norm=0.5 if grad else None) if kind == "parameter" else None,
        tie_group=tie,
    )  # fmt: skip


def _block(path, type_, parent, children, params, total, *, custom=False, calls=1, out=(2, 8),
           aliases=(), unregistered=()) -> m.BlockInfo:  # fmt: skip
    return m.BlockInfo(
        path=path, name=path.rsplit(".", 1)[-1], type=type_,
        type_module="toy" if custom else "torch.nn.modules", custom=custom,
        source="toy.py:10" if custom else None, depth=path.count(".") + (1 if path else 0),
        parent=parent, children=children, params=params, total_params=total,
        parameter_names=(), buffer_names=(), calls=calls,
        outputs=(m.OutputInfo("", out, "float32"),),
        activation=m.ActivationStats(0.1, 0.9, 0.25), aliases=aliases, unregistered=unregistered,
    )  # fmt: skip


def toy_snapshot() -> m.Snapshot:
    """Root ToyNet: embed (tied to head), body Sequential [lazy Linear, ReLU], shared, head."""
    rand = m.UnregisteredTensor("", "rand_weight", (8, 8), "float32", "cpu")
    blocks = (
        _block("", "ToyNet", None, ("embed", "body", "shared", "head"), 0, 312, custom=True,
               unregistered=(rand,)),
        _block("embed", "Embedding", "", (), 80, 80, out=(2, 8)),
        _block("body", "Sequential", "", ("body.0", "body.1"), 0, 72),
        _block("body.0", "Linear", "body", (), 72, 72),
        _block("body.1", "ReLU", "body", (), 0, 0),
        _block("shared", "Linear", "", (), 72, 72, calls=2),
        _block("head", "Linear", "", (), 10, 10, out=(2, 10)),
    )  # fmt: skip
    params = (
        _param("embed.weight", "embed", (10, 8), tie=0),
        _param("body.0.weight", "body.0", (8, 8), lazy=True),
        _param("body.0.bias", "body.0", (8,), lazy=True),
        _param("shared.weight", "shared", (8, 8), nan=2),
        _param("shared.bias", "shared", (8,), grad=False),
        _param("head.weight", "head", (10, 8), tie=0),
        _param("head.bias", "head", (10,)),
    )
    buffers = (_param("body.0.mask", "body.0", (8,), kind="buffer", persistent=False),)
    return m.Snapshot(
        target=TARGET, kind="model", model_class="ToyNet", device="cpu", blocks=blocks,
        parameters=params, buffers=buffers,
        ties=(m.TieGroup(("embed.weight", "head.weight"), 80, "same parameter"),),
        unregistered=(rand,), forward=m.ForwardInfo(ran=True, backward_ran=True),
        total_params=312, trainable_params=312, total_bytes=1248, source="toy.py:40",
        devices=("cpu",),
    )  # fmt: skip


def toy_profile() -> m.Profile:
    samples = tuple(1.0 + (i % 5) * 0.1 for i in range(12))
    return m.Profile(
        devices=(m.TimingSummary("cpu", 1.2, 1.0, 1.4, 1.0, 1.4, 12, samples),),
        blocks=(
            m.BlockTiming("", "cpu", 1.2, 0.1, 1),
            m.BlockTiming("shared", "cpu", 0.6, 0.6, 2),
            m.BlockTiming("body.0", "cpu", 0.3, 0.3, 1),
        ),
        copies=(m.CopyFinding("H2D", 4096, 3, "float32", False, False, "body.0", "toy.py:22"),),
        syncs=(m.SyncFinding(".item()", "Tensor.item() reads", 1, "shared", "toy.py:31", None),),
        gil=m.GilReport(0.1, 0.5, 0.9, 0.02, 100),
        system=m.SystemSample(1.0, 97.0, 200 * 2**20, (90.0, 12.0)),
        step="forward (eval, no grad)",
    )  # fmt: skip


def toy_messages(snapshot: m.Snapshot | None = None) -> list[wm.WorkerMessage]:
    profile = toy_profile()
    stream: list[wm.WorkerMessage] = [
        wm.Progress("importing torch"),
        wm.Progress("building"),
        wm.SnapshotReady(snapshot or toy_snapshot()),
        wm.Progress("profiling cpu"),
    ]
    stream += [wm.TimingSample("cpu", i, ms) for i, ms in enumerate(profile.devices[0].samples_ms)]
    stream += [
        wm.SystemSampled(profile.system),
        wm.TimingDone(profile.devices[0]),
        wm.BlockTimings("cpu", profile.blocks),
        wm.CopiesFound(profile.copies),
        wm.SyncsFound(profile.syncs),
        wm.GilMeasured(profile.gil),
        wm.Finished(profile),
    ]
    return stream


def build_app(
    messages=None, autostart: bool = True, load: LoadOptions | None = None
) -> tuple[NetscopeApp, ReplaySource]:
    """The app over a replay that is live when profiling, as the app's real sessions are: after
    Finished the stream goes on (step times until cancelled) and the status stays running."""
    source = ReplaySource(toy_messages() if messages is None else messages, live=True)
    load = load or LoadOptions(TARGET)
    app = make_app(load, ProfileOptions(), source=source, autostart=autostart)
    return app, source


def measured(app: NetscopeApp) -> bool:
    """Finished arrived: every one-shot measurement is on screen (live timing goes on)."""
    return app.live.profile is not None


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until ``condition`` holds (the pump is a real thread)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.02)
    await pilot.pause()


async def until_the_script_exits(app, pilot, timeout: float = 120.0) -> int | None:
    """Let a RunApp's script run to its end (a real subprocess; its messages are what is read);
    the script's exit code, None when it outlasted ``timeout``."""
    deadline = time.monotonic() + timeout
    while app.recorder.exit_code is None and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
    await pilot.pause(0.6)
    return app.recorder.exit_code


@pytest.fixture
def toy_app() -> tuple[NetscopeApp, ReplaySource]:
    return build_app()
