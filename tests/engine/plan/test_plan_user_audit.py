"""The plan as a new user met it on models nobody here wrote (a small transformers Llama, a CNN):
the measured peak set beside a planned step that is not the same step, --fit spellings the
error misnamed, patterns that checkpoint or shard nothing without a word, and --tp degrees the
model's heads do not divide."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LLAMA = """
import torch
from transformers import LlamaConfig, LlamaForCausalLM


def build_model():
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=500, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
    )
    return LlamaForCausalLM(config)


def example_input():
    torch.manual_seed(0)
    return {"input_ids": torch.randint(0, 500, (2, 16))}
"""


def netscope(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netscope", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"},
    )


def report(tmp_path: Path, *args: str) -> dict:  # type: ignore[type-arg]
    model = tmp_path / "llama.py"
    model.write_text(LLAMA)
    out = tmp_path / "r.json"
    run = netscope("report", str(model), "--train", "--optimizer", "adamw", *args, "-o", str(out))
    assert run.returncode == 0, run.stderr
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def test_a_planned_step_is_not_set_beside_the_measured_peak_as_the_same_step(
    tmp_path: Path,
) -> None:
    """`--fit 2xH100 --shard zero2` is one GPU's share of a sharded step: the memory section had
    it as "the same step replayed on meta" and blamed the gap on the CPU's optimizer."""
    planned = report(tmp_path, "--fit", "2xH100", "--shard", "zero2")
    memory, fit = planned["memory"], planned["fit"]
    assert fit["per_device"]["grads_bytes"] * 2 == memory["grads_bytes"]  # sharded: another step
    assert memory["replay_peak_bytes"] is None and memory["replay_differs"] == ""
    mixed = report(tmp_path, "--fit", "H100", "--precision", "bf16-mixed")
    assert mixed["memory"]["replay_peak_bytes"] is None
    same = report(tmp_path, "--fit", "H100")  # one GPU, the measured step: both peaks
    assert same["memory"]["replay_peak_bytes"] == same["fit"]["needed_bytes"]


def test_fit_errors_name_what_was_typed_and_the_sizes_of_a_board(tmp_path: Path) -> None:
    """`--fit 3xA100` said "--fit A100: not a device netscope knows" (the count dropped, and
    A100 is a board netscope knows in two sizes); `--fit 0` planned a 0-byte GPU."""
    model = str(Path(__file__).resolve().parents[3] / "sample_models" / "mlp.py")
    out = str(tmp_path / "r.json")
    run = netscope("report", model, "--fit", "3xA100", "-o", out)
    assert run.returncode == 2
    assert "--fit 3xA100:" in run.stderr and "3xA100-80GB or 3xA100-40GB" in run.stderr
    run = netscope("check", model, "--fit", "V100", "--time-budget", "0.2")
    assert run.returncode == 2 and "V100-16GB or V100-32GB" in run.stderr
    for zero in ("0", "0GiB", "2x0MiB"):
        run = netscope("report", model, "--fit", zero, "-o", out)
        assert run.returncode == 2 and f"--fit {zero}: a size of 0 bytes" in run.stderr
    assert not Path(out).exists()


CNN = """
import torch
from torch import nn


def build_model():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10),
    )


def example_input():
    return torch.randn(4, 3, 16, 16)
"""


def test_a_pattern_that_matches_no_block_is_an_error_not_a_silent_no_op(tmp_path: Path) -> None:
    """`--checkpoint nothing.*` (or one mistyped glob of several, or `--shard-units Nope`)
    planned the step with nothing checkpointed or sharded, and said nothing."""
    model = tmp_path / "llama.py"
    model.write_text(LLAMA)
    out = tmp_path / "r.json"
    plan = ("--train", "--fit", "2xH100", "--shard", "fsdp", "-o", str(out))
    for flag, pattern, missing in [
        ("--checkpoint", "model.layers.*,LlamaDecoderLayr", "LlamaDecoderLayr"),
        ("--checkpoint", "layers.*", "layers.*"),
        ("--shard-units", "Nope", "Nope"),
    ]:
        run = netscope("report", str(model), *plan, flag, pattern)
        assert run.returncode == 2, run.stderr
        assert f"{flag} {pattern}: {missing} matches no block of LlamaForCausalLM" in run.stderr
        assert "model.layers.* or LlamaDecoderLayer" in run.stderr
        assert not out.exists()
    run = netscope("report", str(model), *plan, "--checkpoint", "LlamaDecoderLayer")
    assert run.returncode == 0, run.stderr
    assert json.loads(out.read_text())["fit"]["checkpoint"] == ["model.layers.0", "model.layers.1"]


def test_checkpoint_all_with_no_repeated_block_says_nothing_is_checkpointed(
    tmp_path: Path,
) -> None:
    """A CNN with no repeated block: `--checkpoint all` checkpointed nothing, with no note."""
    model = tmp_path / "cnn.py"
    model.write_text(CNN)
    out = tmp_path / "r.json"
    run = netscope(
        "report", str(model), "--train", "--fit", "2xH100", "--shard", "fsdp",
        "--checkpoint", "all", "-o", str(out),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    fit = json.loads(out.read_text())["fit"]
    assert fit["checkpoint"] == [] and "--checkpoint all: no FSDP unit or repeated" in fit["note"]


def test_a_tp_degree_the_heads_do_not_divide_is_an_error_naming_the_heads(tmp_path: Path) -> None:
    """`--tp 4` on a Llama with 2 key/value heads: the replay's reshape failed and the finding
    blamed torch's meta functions ("an op without one, or one stricter than the real kernel")."""
    model = tmp_path / "llama.py"
    model.write_text(LLAMA)
    out = tmp_path / "r.json"
    for tp, heads in (("3", "4 attention heads and 2 key/value"), ("4", "2 key/value")):
        run = netscope("report", str(model), "--fit", f"{tp}xH100", "--tp", tp, "-o", str(out))
        assert run.returncode == 2, run.stdout + run.stderr
        assert f"--tp {tp}: LlamaForCausalLM's {heads} heads do not divide by {tp}" in run.stderr
        assert not out.exists()
    run = netscope("report", str(model), "--fit", "2xH100", "--tp", "2", "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert json.loads(out.read_text())["fit"]["tp"] == 2


RAISES = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        raise RuntimeError("the user's forward fails here")


def build_model():
    return Net()


def example_input():
    return torch.randn(2, 4)
"""


def test_a_mistyped_fit_is_refused_before_the_example_step_runs(tmp_path: Path) -> None:
    """The layout was checked after the whole snapshot: a typo cost one example step first, and
    a model whose step fails showed that failure instead of the typo."""
    model = tmp_path / "raises.py"
    model.write_text(RAISES)
    run = netscope("report", str(model), "--fit", "3xA100", "-o", str(tmp_path / "r.json"))
    assert run.returncode == 2, run.stderr
    assert "--fit 3xA100:" in run.stderr and "the user's forward fails" not in run.stderr
    run = netscope(
        "report",
        str(model),
        "--fit",
        "H100",
        "--checkpoint",
        "Nope",
        "-o",
        str(tmp_path / "r.json"),
    )
    assert run.returncode == 2 and "--checkpoint Nope: Nope matches no block" in run.stderr
