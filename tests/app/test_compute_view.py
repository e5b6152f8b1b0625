"""FLOPs and memory where users see them: the tree's figure key (c), the details of a block and
of the root (step compute, memory, fit), and the top-blocks view (b), over snapshots the engine
takes of real sample models."""

from __future__ import annotations

import pytest
from conftest import build_app, wait_for

from netscope.app import format as fmt
from netscope.app.screens.help import KEYS, HelpScreen
from netscope.app.screens.top_blocks import TopBlocksScreen
from netscope.app.tree_index import NodeKey, TreeIndex
from netscope.app.widgets.block_tree import CHUNK, BlockTree
from netscope.app.widgets.details_panel import DetailsPanel
from netscope.engine import api  # a broken engine fails these tests, never skips them
from netscope.engine.options import LoadOptions
from netscope.engine.profiler import messages as wm

WIDE = """
import torch
from torch import nn


def build_model():
    return nn.Sequential(*[nn.Linear(4, 4) for _ in range({n})])


def example_input():
    return torch.randn(2, 4)
"""


@pytest.fixture(scope="module")
def mlp_train():
    """mlp.py as a --train step with AdamW and --fit 24GiB: every figure is counted."""
    return api.take_snapshot(
        LoadOptions("sample_models/mlp.py", train=True, optimizer="adamw", fit="24GiB")
    )


@pytest.fixture(scope="module")
def meta_lm():
    """68.7B parameters on meta: forward FLOPs, no backward, no saved activations."""
    return api.take_snapshot(LoadOptions("sample_models/big_transformer.py", device="meta"))


def _app(snapshot):
    return build_app([wm.SnapshotReady(snapshot), wm.Finished(None)], autostart=False)


def _tree(app) -> BlockTree:
    return app.main.query_one(BlockTree)


def _screen_rows(tree: BlockTree) -> list[str]:
    """The tree's rows as drawn now (what the terminal shows)."""
    return [tree.render_line(y).text.rstrip() for y in range(tree.size.height)]


def _row(tree: BlockTree, start: str) -> str:
    return next(line for line in _screen_rows(tree) if start in line)


def _selected(tree: BlockTree) -> str | None:
    """The block under the cursor (None: not a block row)."""
    key = tree.selected_key
    return key.name if key is not None and key.kind == "block" else None


def _details(app) -> str:
    return app.main.query_one(DetailsPanel).plain_text


async def test_column_key_cycles_params_flops_memory(mlp_train):
    blocks = mlp_train.block_by_path
    linear = blocks["0"]
    flops = linear.forward_flops + linear.backward_flops
    app, _ = _app(mlp_train)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        tree = _tree(app)
        assert tree.column == "params"
        assert "0 Linear 5.38k →[2×256]" in _row(tree, "0 Linear")
        drawn = tree.rows_drawn
        await pilot.press("c")
        await pilot.pause()
        assert tree.column == "flops"
        assert tree.rows_drawn > drawn  # the rows kept drawn are drawn again
        assert f"0 Linear {fmt.flops(flops)} →[2×256]" in _row(tree, "0 Linear")
        assert fmt.flops(flops) == "41.0 kFLOP"
        assert "1 ReLU 0 FLOP" in _row(tree, "1 ReLU")  # counted: zero, not n/a
        root = mlp_train.compute.step_flops
        assert f"Sequential {fmt.flops(root)}" in _row(tree, "Sequential")
        app.main.apply_filter("linear")  # a filtered tree is rebuilt: with the same figure
        await pilot.pause()
        assert f"0 Linear {fmt.flops(flops)}" in _row(tree, "0 Linear")
        app.main.apply_filter("")
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert tree.column == "memory"
        assert f"0 Linear {fmt.size(linear.saved_bytes)} saved" in _row(tree, "0 Linear")
        assert "1 ReLU 2.0 KiB saved" in _row(tree, "1 ReLU")
        await pilot.press("c")
        await pilot.pause()
        assert tree.column == "params"
        assert "0 Linear 5.38k →[2×256]" in _row(tree, "0 Linear")


async def test_meta_model_reads_not_available_for_backward_and_saved(meta_lm):
    app, _ = _app(meta_lm)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        tree = _tree(app)
        await pilot.press("c")
        await pilot.pause()
        assert "layers ModuleList 2.19 TFLOP" in _row(tree, "layers ModuleList")
        await pilot.press("c")
        await pilot.pause()
        assert "layers ModuleList saved n/a" in _row(tree, "layers ModuleList")
        assert " 0 B" not in "\n".join(_screen_rows(tree))  # never a made-up zero
        assert app.main.jump(NodeKey("block", "layers.0", ""))
        await pilot.pause()
        text = _details(app)
        assert "FLOPs    27.4 GFLOP (forward only)" in text
        assert "forward  27.4 GFLOP · 13.7 GMAC" in text
        assert "backward n/a (no backward ran" in text
        assert "saved    n/a (the forward ran without grad)" in text
        assert app.main.jump(NodeKey("block", "", ""))
        await pilot.pause()
        text = _details(app)
        assert "attention   causal" in text
        assert "not counted mul ×402, add ×321, pow ×161" in text
        assert "grads      n/a (no backward)" in text
        assert "estimated" in text and "at forward (layers.0." in text


async def test_block_details_show_flops_macs_share_and_saved(mlp_train):
    linear = mlp_train.block_by_path["0"]
    app, _ = _app(mlp_train)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("j")  # the root's first child: block 0
        assert _selected(_tree(app)) == "0"
        text = _details(app)
        step = mlp_train.compute.step_flops
        share = fmt.share(linear.forward_flops + linear.backward_flops, step)
        assert f"FLOPs      41.0 kFLOP, {share} of the step's {fmt.flops(step)}" in text
        assert f"forward    {fmt.flops(linear.forward_flops)} · 10.2 kMAC" in text
        assert f"backward   {fmt.flops(linear.backward_flops)} · 10.2 kMAC" in text
        saved = fmt.share(linear.saved_bytes, mlp_train.memory.activations_bytes)
        assert f"saved      160 B of activations for backward, {saved} of the step's" in text


async def test_a_block_of_elementwise_ops_says_why_it_counts_0(mlp_train):
    """A ReLU runs ops with no FLOP formula: its 0 is what is counted, said so, not a silent 0
    FLOP with a 0 % share."""
    assert mlp_train.block_by_path["1"].forward_flops == 0 and mlp_train.compute.uncounted_ops
    app, _ = _app(mlp_train)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("j", "j")
        assert _selected(_tree(app)) == "1"
        text = " ".join(_details(app).split())
        assert "FLOPs 0 counted: no op with a FLOP formula (matmul, convolution, attention)" in text
        assert "0.0%" not in text


async def test_root_details_show_step_memory_and_fit(mlp_train):
    memory, fit = mlp_train.memory, mlp_train.fit
    app, _ = _app(mlp_train)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        text = _details(app)  # the cursor starts on the root
        assert "step compute" in text and "step memory on cpu" in text
        assert f"params     {fmt.size(memory.params_bytes)}" in text
        assert f"grads      {fmt.size(memory.grads_bytes)}" in text
        assert f"optimizer  {fmt.size(memory.optimizer_bytes)} (adamw)" in text
        assert f"saved acts {fmt.size(memory.activations_bytes)}" in text
        assert f"peak       {fmt.size(memory.peak_bytes)} at optimizer.step(), measured" in text
        assert f"fit on {fit.device}" in text
        assert f"fits      yes: {fmt.size(fit.margin_bytes)} to spare" in text
        assert "step      train (adamw)" in text
        assert f"max batch {fit.max_batch} (the example's: 2)" in text
        replay = f"replay     {fmt.size(memory.replay_peak_bytes)}: the step replayed on meta"
        assert replay in text and "differs    optimizer.step(): the CPU runs" in text


async def test_root_details_give_no_reason_where_the_peaks_are_equal():
    """SGD without momentum: the measured peak is the replay's, nothing differs to explain."""
    shot = api.take_snapshot(
        LoadOptions("sample_models/mlp.py", train=True, optimizer="sgd", fit="24GiB")
    )
    memory = shot.memory
    assert memory is not None and memory.peak_bytes == memory.replay_peak_bytes
    app, _ = _app(shot)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        text = _details(app)
        assert f"replay     {fmt.size(memory.replay_peak_bytes)}: the step replayed" in text
        assert "differs" not in text


async def test_top_blocks_rank_own_figures_and_enter_jumps(meta_lm):
    index = TreeIndex(meta_lm)
    expected = index.top_blocks("flops", 20)
    owns = [row.own for row in expected]
    assert owns == sorted(owns, reverse=True) and len(expected) == 20
    assert expected[0].path == "lm_head"  # the largest own figure: the 32000-way projection
    containers = {b.path for b in meta_lm.blocks if b.type in ("ModuleList", "DecoderLayer")}
    assert not containers & {row.path for row in index.top_blocks("flops", 10_000)}
    app, _ = _app(meta_lm)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("b")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TopBlocksScreen) and screen.measure == "flops"
        rows = screen.data_rows
        assert [row[1] for row in rows] == [row.path for row in expected]
        assert rows[0][:4] == ("1", "lm_head", "Linear", fmt.flops(expected[0].own))
        assert rows[0][4] == fmt.share(expected[0].own, meta_lm.compute.step_flops)
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, TopBlocksScreen)
        tree = _tree(app)
        assert _selected(tree) == expected[2].path
        assert tree.has_focus
        assert f"{expected[2].path.rsplit('.', 1)[-1]} Linear" in str(tree.cursor_node.label)
        await pilot.press("b", "c")  # by saved activations: none on meta, and it says why
        await pilot.pause()
        assert app.screen.measure == "memory" and app.screen.data_rows == []
        assert "No saved activations counted" in str(app.screen.query_one("#top-how").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, TopBlocksScreen)
        assert _selected(tree) == expected[2].path  # escape: no jump


async def test_top_blocks_by_memory_follow_the_tree_column(mlp_train):
    app, _ = _app(mlp_train)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("c", "c", "b")  # the tree shows memory: so does the view
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TopBlocksScreen) and screen.measure == "memory"
        saved = {b.path: b.saved_bytes for b in mlp_train.blocks if b.path}
        ranked = sorted((p for p in saved if saved[p]), key=lambda p: -saved[p])
        assert [row[1] for row in screen.data_rows] == ranked  # leaves: their whole figure
        assert screen.data_rows[0][3] == fmt.size(saved[ranked[0]])
        await pilot.press("enter")
        await pilot.pause()
        assert _selected(_tree(app)) == ranked[0]


async def test_keys_are_in_the_footer_and_the_help(mlp_train):
    app, _ = _app(mlp_train)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        bindings = app.main.active_bindings.items()
        shown = {key: b.binding.description for key, b in bindings if b.binding.show}
        assert shown.get("c") == "Column" and shown.get("b") == "Top"
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = dict(KEYS)  # what the help screen's key table lists
        assert "saved activations" in keys["c"] and "top blocks" in keys["b"]


async def test_column_toggle_draws_only_the_rows_shown(tmp_path):
    """Every page of a 1,000-block Sequential loaded: a toggle relabels the rows on screen and
    marks the rest, which take the new figure as they are drawn (scrolled to)."""
    path = tmp_path / "wide.py"
    path.write_text(WIDE.format(n=1000))
    snapshot = api.take_snapshot(LoadOptions(str(path)))
    app, _ = _app(snapshot)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        tree = _tree(app)
        while tree.load_more(""):
            pass
        await pilot.pause()
        assert len(tree._rows) == 1001 > CHUNK
        drawn = tree.rows_drawn
        await pilot.press("c")
        await pilot.pause()
        assert tree.rows_drawn - drawn <= tree.size.height  # the rows shown, not 1,001
        last = snapshot.block_by_path["999"]
        figure = fmt.flops(last.forward_flops + last.backward_flops)
        await pilot.press("end")
        await pilot.pause()
        assert _selected(tree) == "999"
        assert f"999 Linear {figure} →[2×4]" in _row(tree, "999 Linear")
        await pilot.press("c", "c", "home")  # back to parameters, drawn where they are shown
        await pilot.pause()
        assert "0 Linear 20 →[2×4]" in _row(tree, "0 Linear")


REUSED = """
import torch
from torch import nn


class Reused(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)
        self.decoder = self.encoder  # one module under two paths
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.encoder(x))


def build_model():
    return Reused()


def example_input():
    return torch.randn(4, 8)
"""


async def test_top_blocks_list_a_block_reused_under_two_paths_once(tmp_path):
    model = tmp_path / "reused.py"
    model.write_text(REUSED)
    shot = api.take_snapshot(LoadOptions(str(model)))
    app, _ = _app(shot)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("b")
        await pilot.pause()
        rows = app.screen.data_rows
        assert [row[1] for row in rows] == ["encoder", "head"]


async def test_the_run_apps_export_offers_no_chrome_trace(mlp_train):
    from netscope.app.screens.export import FORMATS, RUN_FORMATS, ExportScreen

    assert "chrome-trace" in {f[0] for f in FORMATS}
    assert "chrome-trace" not in {f[0] for f in RUN_FORMATS}
    app, _ = _app(mlp_train)
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(ExportScreen("train.py", formats=RUN_FORMATS))
        await pilot.pause()
        names = [button.name for button in app.screen.query("RadioButton")]
        assert names == [f[0] for f in RUN_FORMATS]


async def test_a_meta_model_says_it_is_not_profiled(meta_lm):
    """On meta there are no values to time: the header says so, p explains, nothing fails."""
    meta = LoadOptions("sample_models/big_transformer.py", device="meta")
    app, _ = build_app([wm.SnapshotReady(meta_lm), wm.Finished(None)], load=meta)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        progress = app.main.query_one("ProgressLine")
        assert progress.profiling == "not profiled (meta)" and app.status == "meta"
        await pilot.press("p")
        await pilot.pause()
        assert app.status == "meta" and "failed" not in progress.profiling
        assert any("--device cpu" in str(n.message) for n in app._notifications)


async def test_the_fit_verdict_is_seen_without_scrolling(mlp_train):
    """--fit at 160x48 and at 80x24: the verdict is on the line under the header and at the top
    of the root's details, above the compute and memory sections."""
    fit = mlp_train.fit
    for size in ((160, 48), (80, 24)):
        app, _ = _app(mlp_train)
        async with app.run_test(size=size) as pilot:
            await wait_for(pilot, lambda app=app: app.snapshot is not None)
            line = app.main.query_one("ProgressLine").render().plain
            assert f"fits {fit.device} ({fmt.size(fit.needed_bytes)} of" in line[: size[0] - 2]
            text = _details(app)
            assert text.index(f"fit on {fit.device}") < text.index("step compute")
