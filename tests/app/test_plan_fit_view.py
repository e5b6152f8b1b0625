"""The app's fit view of a planned layout: the root's details show the layout and one GPU's
breakdown (a real snapshot of mlp.py planned over four GPUs with FSDP)."""

from __future__ import annotations

from conftest import build_app, wait_for

from netscope.app import format as fmt
from netscope.app.widgets.details_panel import DetailsPanel
from netscope.engine import api
from netscope.engine.options import LoadOptions
from netscope.engine.profiler import messages as wm


async def test_root_details_show_the_layout_and_the_per_gpu_breakdown() -> None:
    options = LoadOptions(
        "sample_models/mlp.py", train=True, optimizer="adamw", fit="4x24GiB", shard="fsdp",
        precision="bf16-mixed", checkpoint="all",
    )  # fmt: skip
    snapshot = api.take_snapshot(options)
    fit = snapshot.fit
    assert fit is not None and fit.per_device is not None
    app, _ = build_app([wm.SnapshotReady(snapshot), wm.Finished(None)], autostart=False)
    async with app.run_test(size=(160, 60)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        text = app.main.query_one(DetailsPanel).plain_text
        assert "layout" in text and "4 x 24GiB, fsdp (2 units + root), bf16-mixed" in text
        assert f"{fmt.size(fit.needed_bytes)} per GPU" in text
        assert "optimizer state" in text and fmt.size(fit.per_device.optimizer_bytes) in text
        assert "fewest GPUs" in text and "checkpointed" in text and "peak at" in text
        assert "a budget: no context allowance" in text
