"""`netscope run -o FILE` on real scripts: steps, phases, the sync's line and count, exit codes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import psutil
import pytest

from tests.run.helpers import SCRIPTS, line_of, run_headless

pytestmark = pytest.mark.slow


def _sync_rows(report: dict) -> list[tuple[str, str, str]]:
    return [(s["op"], s["location"], s["block"]) for s in report["run"]["syncs"]]


def test_cnn_training_loop_steps_phases_and_its_one_sync(tmp_path):
    done, report = run_headless(tmp_path, ["train_cnn.py", "--epochs", "2", "--samples", "96"])
    assert done.returncode == 0, done.stderr
    # the script's own output passes through unchanged
    assert done.stdout.splitlines()[-1] == "done 12"
    run = report["run"]
    assert report["kind"] == "run" and report["schema_version"] == 1
    assert run["argv"] == ["train_cnn.py", "--epochs", "2", "--samples", "96"]
    assert run["exit_code"] == 0 and run["state"] == "finished" and run["error"] is None
    assert run["steps"] == 12  # 2 epochs of 96 / 16 batches, one optimizer.step() each
    assert run["step_boundary"] == "optimizer.step"
    phases = run["phases_ms"]
    assert set(phases) == {"data", "forward", "backward", "optimizer", "other"}
    assert phases["forward"] > 0 and phases["backward"] > 0 and phases["optimizer"] > 0
    assert phases["data"] > 0  # the DataLoader's __next__
    step = run["step_ms"]
    assert step["p10"] <= step["median"] <= step["p90"]
    # the one sync of this loop: loss.item() in the logging line, every step; Adam's own host
    # step counter and `x.to(device)` with device="cpu" are not syncs
    assert _sync_rows(report) == [(".item()", line_of("train_cnn.py", "{loss.item()"), "(step)")]
    sync = run["syncs"][0]
    assert sync["stall_ms"] is None and sync["measured"] is False
    assert run["sampled_steps"] >= 3
    assert sync["seen_steps"] == sync["sampled_steps"] == run["sampled_steps"]
    assert sync["per_step"] == 1.0 and sync["count"] == run["sampled_steps"]
    assert run["copies"] == []
    assert run["totals"]["syncs_none_seen"] is None  # the list has its entry: nothing to say
    assert run["totals"]["copies_none_seen"].startswith("No host-device copies in the ")
    assert run["models"] == [{"class": "SmallCNN", "total_params": 2276, "role": "main"}]
    # the model's snapshot, as `netscope model.py` shows it, with the real backward's gradients
    model = report["model"]
    assert model["class"] == "SmallCNN" and model["total_params"] == 2276
    assert [m["path"] for m in model["modules"]][:3] == ["", "features", "features.0"]
    assert report["forward"]["backward_ran"] is True
    assert all(p["grad"]["present"] and p["grad"]["norm"] > 0 for p in model["parameters"])


def test_block_times_come_from_steps_the_detectors_left_alone(tmp_path):
    """The sample rate netscope picks itself: a step between the detectors' steps is timed
    per block with module hooks; it is left out of the step times like the sampled ones."""
    done, report = run_headless(tmp_path, ["train_cnn.py", "--epochs", "2"], every=None)
    assert done.returncode == 0, done.stderr
    run = report["run"]
    assert run["steps"] == 32  # 2 epochs of 256 / 16 batches
    assert run["block_timed_steps"] >= 1
    blocks = {b["path"]: b for b in run["blocks"]}
    assert {"", "features", "features.0", "features.3", "head"} <= set(blocks)
    root, features, head = blocks[""], blocks["features"], blocks["head"]
    assert root["calls"] == 1 and features["calls"] == 1
    assert root["inclusive_ms"] >= features["inclusive_ms"] + head["inclusive_ms"]
    children = sum(blocks[f"features.{i}"]["inclusive_ms"] for i in range(6))
    assert features["self_ms"] == pytest.approx(features["inclusive_ms"] - children, abs=1e-3)


def test_dataloader_workers_the_data_phase_is_the_wait_and_workers_end(tmp_path):
    mine = psutil.Process()
    before = {p.pid for p in mine.children(recursive=True)}  # e.g. multiprocessing's tracker
    done, report = run_headless(
        tmp_path, ["train_cnn.py", "--epochs", "1", "--samples", "64", "--workers", "2"]
    )
    assert done.returncode == 0, done.stderr
    run = report["run"]
    assert run["steps"] == 4 and run["step_boundary"] == "optimizer.step"
    assert run["phases_ms"]["data"] >= 0
    assert _sync_rows(report) == [(".item()", line_of("train_cnn.py", "{loss.item()"), "(step)")]
    # nothing of the script is left running (the workers ended with it)
    leftovers = [p for p in mine.children(recursive=True) if p.pid not in before and p.is_running()]
    assert leftovers == []


def test_inference_loop_steps_per_call_and_host_alias_is_not_a_sync(tmp_path):
    done, report = run_headless(tmp_path, ["infer.py"])
    assert done.returncode == 0, done.stderr
    run = report["run"]
    assert run["step_boundary"] == "forward" and run["steps"] == 12
    assert run["phases_ms"]["backward"] == 0 and run["phases_ms"]["optimizer"] == 0
    location = line_of("infer.py", "argmax(1).cpu()")
    # .cpu() per batch syncs (and is the D2H copy it would be on CUDA); the accuracy's .item()
    # reads host tensors made from those copies: not a sync
    assert _sync_rows(report) == [(".cpu()", location, "(step)")]
    assert run["syncs"][0]["per_step"] == 1.0
    assert [(c["direction"], c["location"]) for c in run["copies"]] == [("D2H", location)]
    assert run["models"] == [{"class": "Sequential", "total_params": 2762, "role": "main"}]
    assert report["model"]["source"] == "torch.nn.Sequential"  # never a site-packages path


def test_host_tensor_reads_are_never_syncs(tmp_path):
    done, report = run_headless(tmp_path, ["host_reads.py"])
    assert done.returncode == 0, done.stderr
    assert _sync_rows(report) == [
        ("bool(tensor) / if tensor:", line_of("host_reads.py", "if loss > 100"), "(step)")
    ]


def test_gan_second_model_is_its_own_root(tmp_path):
    done, report = run_headless(tmp_path, ["gan.py"])
    assert done.returncode == 0, done.stderr
    run = report["run"]
    assert run["step_boundary"] == "optimizer.step" and run["steps"] == 12
    assert run["models"] == [
        {"class": "Discriminator", "total_params": 193, "role": "main"},
        {"class": "Generator", "total_params": 212, "role": "trained"},
    ]
    assert report["model"]["class"] == "Discriminator"
    assert run["syncs"] == []


def test_script_raising_at_step_5(tmp_path):
    done, report = run_headless(tmp_path, ["raises.py"])
    assert done.returncode == 1
    assert "ValueError: bad batch at step 5" in done.stderr
    assert 'File "' in done.stderr and "raises.py" in done.stderr  # the traceback passes through
    assert "runpy" not in done.stderr and "netscope" not in done.stderr.split("netscope: wrote")[0]
    run = report["run"]
    assert run["exit_code"] == 1 and run["state"] == "crashed"
    assert run["error"]["type"] == "ValueError"
    assert run["error"]["location"] == line_of("raises.py", "raise ValueError")
    assert run["steps"] == 5  # what was recorded before the error is kept


def test_missing_script(tmp_path):
    done, report = run_headless(tmp_path, ["no_such_script.py"])
    assert done.returncode == 2
    assert "can't open file" in done.stderr
    run = report["run"]
    assert run["exit_code"] == 2 and run["error"]["type"] == "FileNotFoundError"
    assert report["model"] is None and run["steps"] == 0


def test_syntax_error_names_the_line(tmp_path):
    script = tmp_path / "broken.py"  # written here: a broken file in the tree fails the linter
    script.write_text("import torch\n\ndef broken(:\n    pass\n")
    done, report = run_headless(tmp_path, [str(script)])
    assert done.returncode == 1
    assert "SyntaxError" in done.stderr
    run = report["run"]
    assert run["error"]["type"] == "SyntaxError"
    assert run["error"]["location"].endswith("broken.py:3")


def test_no_model_runs_to_its_end_with_a_note_and_its_exit_status(tmp_path):
    done, report = run_headless(tmp_path, ["no_model.py"])
    assert done.returncode == 3
    assert done.stdout == "total 499500\n"
    run = report["run"]
    assert run["exit_code"] == 3 and run["state"] == "finished" and run["steps"] == 0
    assert any("no model was called" in note for note in run["notes"])


def test_module_form_and_markdown(tmp_path):
    out = tmp_path / "run.md"
    done = subprocess.run(
        [sys.executable, "-m", "netscope", "run", "-o", str(out), "-m", "host_reads"],
        cwd=SCRIPTS, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "# netscope run: -m host_reads" in text
    assert "Sync points of the loop" in text and "host_reads.py:18" in text
    # how many of how many steps were recorded: a short run's "10 (1 in 200)" read as if 10 of
    # 2,000 steps had been
    sampled = re.search(r"\| Sampled steps \| (\d+) of (\d+) steps", text)
    assert sampled is not None, text
    assert 0 < int(sampled.group(1)) <= int(sampled.group(2))


def test_ctrl_c_stops_the_script_and_keeps_what_was_recorded(tmp_path):
    out = tmp_path / "run.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "netscope", "run", "-o", str(out), "forever.py"],
        cwd=SCRIPTS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "twenty steps\n"
        time.sleep(0.5)
        os.kill(process.pid, signal.SIGINT)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    import json

    run = json.loads(out.read_text())["run"]
    assert run["state"] == "stopped" and run["exit_code"] == 130
    assert run["steps"] >= 20


def test_inputs_passed_by_keyword_live_on_the_device(tmp_path):
    """torch gives global pre-hooks no keyword arguments; a model called as
    model(input_ids=..., attention_mask=...) still has its inputs on the device."""
    done, report = run_headless(tmp_path, ["kwargs_inputs.py"])
    assert done.returncode == 0, done.stderr
    mask_check = line_of("kwargs_inputs.py", "if attention_mask.all():")
    assert _sync_rows(report) == [("bool(tensor) / if tensor:", mask_check, "")]
    assert report["run"]["syncs"][0]["per_step"] == 1.0


def test_the_scripts_file_is_absolute_as_python_sets_it(tmp_path):
    """`python sub/train.py` gives the script an absolute ``__file__``: a script that changes its
    folder and then opens a file next to itself runs the same under netscope."""
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "data.txt").write_text("found\n")
    (folder / "train.py").write_text(
        "import os\n"
        "here = os.path.dirname(__file__)\n"
        "os.chdir('/')\n"
        "print(os.path.isabs(__file__), open(os.path.join(here, 'data.txt')).read().strip())\n"
    )
    plain = subprocess.run(
        [sys.executable, "sub/train.py"], cwd=tmp_path, capture_output=True, text=True
    )
    out = tmp_path / "run.json"
    watched = subprocess.run(
        [sys.executable, "-m", "netscope", "run", "-o", str(out), "sub/train.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert plain.returncode == 0 and plain.stdout == "True found\n"
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout == plain.stdout


def test_an_error_inside_backward_prints_the_traceback_python_prints(tmp_path):
    """An exception raised inside the script's backward passes through netscope's patched
    backward() and a recorded step's detector modes: the traceback printed has none of
    netscope's frames, and the script's frames and the error are the ones plain python prints
    (torch's own frames may differ: a function mode sends backward() through
    handle_torch_function)."""
    script = tmp_path / "bad_backward.py"
    script.write_text(
        "import torch\n"
        "from torch import nn\n\n"
        "class Fails(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x):\n"
        "        return x * 2\n\n"
        "    @staticmethod\n"
        "    def backward(ctx, grad):\n"
        "        raise ValueError('no gradient here')\n\n"
        "model = nn.Linear(4, 4)\n"
        "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "for step in range(12):\n"
        "    loss = Fails.apply(model(torch.randn(2, 4))).sum() if step == 9 else model(\n"
        "        torch.randn(2, 4)).sum()\n"
        "    loss.backward()\n"
        "    optimizer.step()\n"
        "    optimizer.zero_grad()\n"
    )
    plain = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True
    )
    out = tmp_path / "run.json"
    watched = subprocess.run(
        [sys.executable, "-m", "netscope", "run", "-o", str(out), "--every", "1", str(script)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert plain.returncode == watched.returncode == 1
    printed = watched.stderr.split("netscope: wrote")[0]
    assert "ValueError: no gradient here" in printed and "/netscope/" not in printed

    def own(text: str) -> list[str]:
        lines = text.splitlines()
        return [line for i, line in enumerate(lines) if "bad_backward.py" in line] + lines[-1:]

    assert own(printed) == own(plain.stderr)
