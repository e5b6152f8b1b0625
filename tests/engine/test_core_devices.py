"""Device resolution with guarded CUDA calls, and the 69-billion-parameter model on meta."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import torch
from core_helpers import line_of, sample, snap

from netscope.engine.errors import NetscopeError
from netscope.engine.load import device as devices

NO_CUDA = not devices.cuda_available()


@pytest.mark.skipif(not NO_CUDA, reason="this machine has a GPU")
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_requested_without_gpu(name: str, tmp_path) -> None:
    assert devices.cuda_device_count() == 0 and devices.cuda_device_name(0) is None
    with pytest.raises(NetscopeError) as err:
        devices.resolve_device(name)
    assert "no CUDA GPU is available" in str(err.value) and "--device meta" in str(err.value)
    with pytest.raises(NetscopeError):
        snap(sample("mlp.py"), device=name)


@pytest.mark.parametrize("name", ["tpu", "cuda:x", "cpu:1", ""])
def test_unknown_devices(name: str) -> None:
    if name == "":
        assert devices.resolve_device(name) == torch.device("cpu")
        return
    with pytest.raises(NetscopeError, match="unknown device"):
        devices.resolve_device(name)


def test_labels() -> None:
    assert devices.resolve_device("META") == torch.device("meta")
    assert devices.device_label("cuda") == "cuda:0" and devices.device_label("cpu") == "cpu"


def test_small_model_on_meta_has_shapes_but_no_values() -> None:
    snapshot = snap(sample("mlp.py"), device="meta")
    weight = snapshot.tensor_by_name["0.weight"]
    assert weight.device == "meta" and weight.shape == (256, 20)
    assert weight.stats is None and weight.grad is None
    assert snapshot.blocks[0].outputs[0].shape == (2, 10) and snapshot.blocks[1].activation is None
    assert "meta device" in snapshot.forward.note and snapshot.device == "meta"


def test_big_transformer_on_meta_in_a_fresh_process() -> None:
    code = (
        "import json, resource\n"
        "from netscope.engine.api import take_snapshot\n"
        "from netscope.engine.options import LoadOptions\n"
        f"s = take_snapshot(LoadOptions({sample('big_transformer.py')!r}, device='meta'))\n"
        "print(json.dumps([s.total_params, [g.names for g in s.ties],\n"
        "    s.blocks[0].outputs[0].shape, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]))\n"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    total, ties, shape, rss_kb = json.loads(out.stdout)
    assert total == 68_714_504_192 and ties == [["embed_tokens.weight", "lm_head.weight"]]
    assert shape == [1, 16, 32000]
    assert rss_kb < 1_000_000  # peak RSS under 1 GB
    assert time.perf_counter() - start < 60  # generous here: the benchmark reports the real figure


def test_value_dependent_forward_on_meta_keeps_the_structure() -> None:
    """FixedHiddenMLP loops on `X.abs().sum() > 1`: meta has no values, the tree is still shown."""
    path = sample("fixed_hidden_mlp.py")
    snapshot = snap(path, device="meta")
    assert not snapshot.forward.ran and snapshot.total_params == 20 * 20 + 20
    assert [b.path for b in snapshot.blocks] == ["", "linear"]
    assert all(block.calls is None for block in snapshot.blocks)
    (finding,) = [f for f in snapshot.findings if f.code == "meta-forward-failed"]
    assert finding.severity == "warning"
    assert f"fixed_hidden_mlp.py:{line_of(path, 'while X.abs().sum() > 1')}" in finding.message
    assert "--device cpu" in finding.message
    assert not any(f.code == "no-example-input" for f in snapshot.findings)
