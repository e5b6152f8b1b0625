"""The app over messages a real worker sent (tests/app/recorded/live_stream.pkl, from record.py):
the tree first from StructureReady, updated in place by the snapshot, then live mode as users
get it (the stream goes on after Finished; the app stays running)."""

from __future__ import annotations

import pickle
import time
from pathlib import Path

from conftest import measured, wait_for

from netscope.app.app import make_app
from netscope.app.replay import ReplaySource
from netscope.app.tree_index import NodeKey
from netscope.app.widgets.block_tree import BlockTree
from netscope.app.widgets.details_panel import DetailsPanel
from netscope.app.widgets.device_timing import DeviceTiming
from netscope.app.widgets.syncs_table import SyncsTable
from netscope.engine.options import LoadOptions, ProfileOptions
from netscope.engine.profiler import messages as wm

RECORDED = Path(__file__).parent / "recorded"
STREAM: list[wm.WorkerMessage] = pickle.loads((RECORDED / "live_stream.pkl").read_bytes())


class GatedReplay(ReplaySource):
    """A replay that holds back every message from ``gate`` on until ``open()``."""

    def __init__(self, messages, gate: int) -> None:
        super().__init__(messages, live=True)
        self.gate = gate
        self.opened = False

    def open(self) -> None:
        self.opened = True

    def poll(self, timeout: float):
        if not self.opened and self._next >= self.gate:
            time.sleep(min(timeout, 0.01))
            return None
        return super().poll(timeout)


def _index(kind) -> int:
    return next(i for i, m in enumerate(STREAM) if isinstance(m, kind))


def _app(source: ReplaySource):
    return make_app(LoadOptions(str(RECORDED / "live_model.py")), ProfileOptions(), source=source)


def _details(app) -> str:
    return app.main.query_one(DetailsPanel).plain_text


def test_the_recording_is_what_the_engine_emits():
    kinds = [type(m) for m in STREAM]
    assert kinds.index(wm.StructureReady) < kinds.index(wm.SnapshotReady)
    assert kinds.index(wm.Finished) < len(kinds) - 1  # live step times came after Finished
    structure = STREAM[_index(wm.StructureReady)].snapshot
    assert structure.parameters[0].dtype == "float32"
    assert all(b.calls is None and not b.outputs for b in structure.blocks)
    assert all(p.stats is None and p.grad is None for p in structure.parameters)
    (sync,) = STREAM[_index(wm.Finished)].profile.syncs
    assert sync.op == ".item()"


async def test_tree_first_then_filled_in_place_keeping_cursor_and_expansion():
    source = GatedReplay(STREAM, gate=_index(wm.StructureReady) + 1)
    app = _app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        tree = app.main.query_one(BlockTree)
        await wait_for(pilot, lambda: tree.index is not None)
        assert app.snapshot is None and not tree.index.complete
        assert "LiveNet" in str(tree.root.label)
        assert "ToyNet" not in str(tree.root.label)
        assert app.main.jump(NodeKey("parameter", "body.0.weight", "body.0"))
        await pilot.pause()
        text = _details(app)
        assert "values" in text and "computing…" in text
        assert "no backward ran" not in text  # not known yet, not "none"
        app.main.jump(NodeKey("block", "shared", ""))
        await pilot.pause()
        lines = _details(app).splitlines()
        assert any(line.split()[:2] == ["calls", "computing…"] for line in lines if line.strip())
        body0 = tree.node_for(NodeKey("block", "body.0", ""))
        assert "Linear ?" in str(body0.label)  # lazy: no count yet, never a made-up 0
        assert str(tree.root.label).startswith("LiveNet ?")
        shared_row = tree.node_for(NodeKey("block", "shared", ""))
        assert "→" not in str(shared_row.label)  # no output shape yet
        line = tree.cursor_line
        source.open()
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.pause()
        assert tree.index.complete and tree.selected_key == NodeKey("block", "shared", "")
        assert tree.cursor_line == line
        assert tree.node_for(NodeKey("block", "body.0", "")).is_expanded  # kept open
        assert tree.node_for(NodeKey("block", "shared", "")) is shared_row  # same row object
        assert "→[2×8]" in str(shared_row.label)
        lines = _details(app).splitlines()
        assert not any("computing…" in line for line in lines)
        assert any(line.split()[:2] == ["calls", "2"] for line in lines if line.strip())
        weight = tree.node_for(NodeKey("parameter", "body.0.weight", "body.0"))
        assert "[8×8]" in str(weight.label)  # the lazy weight's shape after the forward
        assert "Linear 72" in str(body0.label) and "LiveNet 224" in str(tree.root.label)


async def test_live_mode_as_users_get_it():
    source = ReplaySource(STREAM, live=True)
    app = _app(source)
    last = STREAM[-1]
    assert isinstance(last, wm.TimingSample)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: measured(app))
        assert source.finished and source.live
        await wait_for(pilot, lambda: app.live.iterations.get("cpu") == last.iteration)
        assert app.status == "running"
        assert "measurements complete" in app.main.query_one("ProgressLine").profiling
        timing = app.main.query_one(DeviceTiming)
        assert timing.iteration == last.iteration and timing.window[-1] == last.ms
        syncs = app.main.query_one(SyncsTable).data_rows
        assert syncs[0][0] == ".item()" and any("live_model.py:22" in cell for cell in syncs[0])
        pump = [w for w in app.workers if w.name == "pump"]
        assert pump and not pump[0].is_finished  # still pumping: the live branch
        await pilot.press("p")
        assert app.status == "paused" and source.paused
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert source.cancelled


async def test_live_step_times_do_not_repaint_the_tree():
    finished = _index(wm.Finished)
    extra = [wm.TimingSample("cpu", 1000 + i, 5.0) for i in range(40)]
    source = GatedReplay([*STREAM, *extra], gate=finished + 1)
    app = _app(source)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: measured(app))
        await pilot.pause(0.2)
        tree = app.main.query_one(BlockTree)
        painted: list[int] = []
        render_line = tree.render_line
        tree.render_line = lambda y: painted.append(y) or render_line(y)
        source.delay_s = 0.005  # live step times for a while, as a user watches
        source.open()
        await wait_for(pilot, lambda: app.live.iterations.get("cpu") == 1039)
        await pilot.pause(0.2)
        assert painted == []  # the rows drawn stay in the compositor's cache
        await pilot.press("j")  # a key still repaints it
        assert painted


async def test_a_tree_frame_looks_up_its_style_once(monkeypatch):
    """Repainting many rows asks for the widget's style once a frame, not once a row (each
    lookup walks the DOM)."""
    source = ReplaySource(STREAM, delay_s=0.0)
    app = _app(source)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: measured(app))
        tree = app.main.query_one(BlockTree)
        lookups: list[int] = []
        painted: list[int] = []
        style_of = BlockTree.rich_style
        monkeypatch.setattr(
            BlockTree,
            "rich_style",
            property(lambda widget: lookups.append(1) or style_of.fget(widget)),  # type: ignore[attr-defined]
        )
        render_line = tree.render_line
        tree.render_line = lambda y: painted.append(y) or render_line(y)  # type: ignore[method-assign]
        tree.refresh()  # every visible row again
        await pilot.pause(0.2)
        assert len(painted) >= 10
        assert 1 <= len(lookups) <= 3  # a frame or two, never a row each
