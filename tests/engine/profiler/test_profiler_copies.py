"""Copies between host and device: direction, bytes, dtype, flags, block and exact line.

Run on the stand-in GPU: the batch is a device tensor, tensors built without a device live on
the host.
"""

from __future__ import annotations

import prof_copy_models as models
import pytest
import torch
from prof_helpers import marked_location

from netscope.engine.model import CopyFinding
from netscope.engine.profiler.copies import direction
from netscope.engine.profiler.detect import detect_call


def copies_of(block: torch.nn.Module, x: torch.Tensor) -> tuple[CopyFinding, ...]:
    model = torch.nn.Sequential()
    model.add_module("inner", block)
    found, _ = detect_call(model, lambda m, batch: m(batch), x)
    return found


@pytest.mark.parametrize(
    ("block", "marker", "nbytes", "dtype", "non_blocking"),
    [
        (models.ToDevice, "to_device", 6 * 4, "float32", False),
        (models.ToDeviceNonBlocking, "to_device_nb", 6 * 4, "float32", True),
        (models.TensorOnDevice, "tensor_device", 3 * 4, "float32", False),
        (models.AsTensorOnDevice, "as_tensor", 4 * 8, "int64", False),
        (models.NewTensor, "new_tensor", 2 * 4, "float32", False),
        (models.CopyInto, "copy_", 6 * 4, "float32", False),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_copy_kind_found_at_its_line(
    block: type[torch.nn.Module], marker: str, nbytes: int, dtype: str, non_blocking: bool
) -> None:
    (finding,) = copies_of(block(), torch.ones(2, 3))
    assert finding.direction == "H2D"
    assert finding.bytes == nbytes
    assert finding.count == 1
    assert finding.dtype == dtype
    assert finding.non_blocking is non_blocking
    assert finding.pinned is False  # pageable host memory
    assert finding.block == "inner"
    assert finding.location == marked_location(models, marker)
    assert not finding.many_small


def test_many_small_copies_from_one_line_are_called_out() -> None:
    (finding,) = copies_of(models.ManySmall(), torch.ones(10, 4, dtype=torch.float16))
    assert (finding.count, finding.bytes, finding.dtype) == (10, 10 * 4 * 2, "float16")
    assert finding.many_small
    assert finding.direction == "D2H"
    assert finding.location == marked_location(models, "many_small")


def test_allocating_on_the_device_is_not_a_copy() -> None:
    assert copies_of(models.BornOnDevice(), torch.ones(1)) == ()


def test_aggregated_per_block_and_line_largest_first() -> None:
    found = copies_of(models.Mixed(), torch.ones(8, 8))
    assert [(f.block, f.location, f.bytes) for f in found] == [
        ("inner", marked_location(models, "mixed_big"), 8 * 8 * 4),
        ("inner.small", marked_location(models, "to_device"), 8 * 4),
    ]


def test_direction_names() -> None:
    cpu, meta = torch.device("cpu"), torch.device("meta")
    cuda0, cuda1 = torch.device("cuda", 0), torch.device("cuda", 1)
    assert direction(cpu, cuda0) == "H2D"
    assert direction(cuda0, cpu) == "D2H"
    assert direction(cuda0, cuda1) == "D2D"
    assert direction(cuda0, cuda0) is None
    assert direction(cpu, cpu) is None
    assert direction(cpu, meta) == "H2META"
    assert direction(meta, cpu) == "META2H"
    assert direction(cuda0, meta) == "D2META"
