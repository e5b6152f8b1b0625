"""`netscope run -o FILE` on real scripts: FLOPs per step, FLOP/s and MFU, and memory per step.

The leak is the classic one: a loop that keeps each step's loss and metric tensors in a list (not
their ``.item()``) holds every step's graph, and the process's RSS rises step after step; the same
loop keeping floats stays flat and gets no note.
"""

from __future__ import annotations

import json

import pytest

from tests.run.helpers import run_headless

pytestmark = pytest.mark.slow

MIB = 1 << 20


def _memory(report: dict) -> dict:
    memory = report["run"]["memory"]
    assert memory is not None and memory["how"] == "process rss"
    # 60 steps of ~6 ms; a read costs 5-25 us after a matmul (OpenMP threads still spin), so
    # 1 in 2 or 3 boundaries is read to keep it under 0.2% of a step
    assert memory["samples"] >= 15 and memory["peak_bytes"] > 50 * MIB
    return memory


def test_a_loop_keeping_its_loss_tensors_grows_and_gets_the_note(tmp_path):
    done, report = run_headless(tmp_path, ["keeps_losses.py", "--keep", "tensor"], every=None)
    assert done.returncode == 0, done.stderr
    run = report["run"]
    memory = _memory(report)
    assert memory["growing"] is True
    # 1024 x 256 float32 outputs and differences the metric saves: about 2 MiB a step at least
    assert memory["growth_bytes_per_step"] > MIB
    note = memory["note"]
    assert note and "per step" in note and "loss.item()" in note
    assert note in run["notes"]
    # the CPU has no peak: no MFU unless --peak-tflops
    assert run["flops_per_step"] > 0 and run["achieved_flops_per_s"] > 0
    assert run["mfu"] is None and run["peak_flops_per_s"] is None and run["peak_source"] is None


def test_the_same_loop_keeping_floats_is_flat_and_its_flops_and_mfu(tmp_path):
    done, report = run_headless(
        tmp_path, ["--peak-tflops", "1", "keeps_losses.py", "--keep", "item"], every=None
    )
    assert done.returncode == 0, done.stderr
    run = report["run"]
    memory = _memory(report)
    assert memory["growing"] is False and memory["note"] is None
    assert abs(memory["growth_bytes_per_step"]) < MIB
    assert not any("memory grows" in n for n in run["notes"])
    # FLOPs counted once, on one of the script's own steps as it ran: its forward and, since
    # the loop trains, its backward, one call per step
    compute = report["compute"]
    assert run["step_boundary"] == "optimizer.step" and run["model_calls_per_step"] == 1
    assert compute["backward_flops"] > 0
    # plain SGD stepped and holds no state: 0 bytes of it, not "no optimizer step"
    assert report["memory"]["optimizer_bytes"] == 0 and report["memory"]["optimizer"] == "sgd"
    assert run["flops_per_step"] == compute["forward_flops"] + compute["backward_flops"]
    # Regressor: 1024 x (256 x 512 + 512 x 256) multiply-adds forward, 1.5x that backward (no
    # gradient for the input)
    forward = 2 * 1024 * (256 * 512 + 512 * 256)
    assert compute["forward_flops"] == forward
    assert compute["backward_flops"] == 3 * forward // 2
    achieved = run["flops_per_step"] / (run["step_ms"]["median"] / 1000)
    assert run["achieved_flops_per_s"] == pytest.approx(achieved, rel=1e-4)
    assert run["peak_flops_per_s"] == 1e12 and run["peak_source"] == "--peak-tflops"
    assert run["mfu"] == pytest.approx(run["achieved_flops_per_s"] / 1e12, rel=1e-4)
    # netscope ran no forward or backward of its own: the gradients are the script's
    assert report["forward"]["ran"] is False
    assert report["forward"]["loss_source"] == "the script's own backward"
    assert all(p["grad"]["present"] for p in report["model"]["parameters"])


def test_gradient_accumulation_counts_every_call_of_the_step(tmp_path):
    script = ["keeps_losses.py", "--keep", "item", "--accumulate", "2", "--steps", "12"]
    done, report = run_headless(tmp_path, script)
    assert done.returncode == 0, done.stderr
    run, compute = report["run"], report["compute"]
    assert run["model_calls_per_step"] == 2
    # the counted step holds both micro-batches: forward and backward (1.5x) twice
    forward = 2 * 1024 * (256 * 512 + 512 * 256)
    assert compute["forward_flops"] == 2 * forward
    assert run["flops_per_step"] == compute["forward_flops"] + compute["backward_flops"]
    assert run["flops_per_step"] == 2 * (forward + 3 * forward // 2)


def test_an_inference_loop_counts_its_forward_only(tmp_path):
    done, report = run_headless(tmp_path, ["infer.py"])
    assert done.returncode == 0, done.stderr
    run = report["run"]
    assert run["step_boundary"] == "forward"
    # under torch.no_grad(): the counted call has no backward
    assert report["compute"]["backward_flops"] is None
    forward = 2 * 8 * (32 * 64 + 64 * 10)
    assert run["flops_per_step"] == report["compute"]["forward_flops"] == forward
    assert run["mfu"] is None
    # the boundaries are read 1 in k so a read costs <= 0.2% of a step: whether k > 1 here
    # depends on how long these (detector-slowed) steps took on a shared machine
    memory = run["memory"]
    assert 1 <= memory["samples"] <= run["steps"] and memory["growing"] is False


def test_a_run_that_diverges_ends_with_its_nan_weights(tmp_path):
    """The tree's values and gradients are those the loop leaves, read again when the script
    ends: weights that went NaN at step ~12 of a 40-step run (well inside the 5 s between
    periodic reads) show as NaN, with the finding, not as the healthy weights of step 1."""
    done, report = run_headless(tmp_path, ["diverges.py"], every=None)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "nan weights: True\n"
    weights = [p for p in report["model"]["parameters"] if p["name"].endswith("weight")]
    assert weights and all(p["stats"]["nan"] == p["numel"] for p in weights)
    assert any("nan" in json.dumps(f).lower() for f in report["findings"])


def test_micro_batches_hold_what_one_forward_saves(tmp_path):
    """Each micro-batch's backward frees what its forward saved: the step holds at once what
    one forward saved, the same with 1 or 4 micro-batches, block by block (counted by storage
    address, the later micro-batches' tensors, which take the freed addresses, went missing)."""
    figures = []
    for accumulate in ("1", "4"):
        folder = tmp_path / accumulate
        folder.mkdir()
        script = ["keeps_losses.py", "--keep", "item", "--accumulate", accumulate, "--steps", "8"]
        done, report = run_headless(folder, script)
        assert done.returncode == 0, done.stderr
        saved = {b["path"]: b["saved_bytes"] for b in report["model"]["modules"]}
        figures.append((report["memory"]["activations_bytes"], saved))
    (one, one_blocks), (four, four_blocks) = figures
    # the input (1024 x 256), the ReLU's output and the second Linear's input (1024 x 512)
    assert one == 1024 * 256 * 4 + 1024 * 512 * 4
    assert four == one and four_blocks == one_blocks
