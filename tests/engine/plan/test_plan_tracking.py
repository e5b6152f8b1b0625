"""The communication high water of a planned step when storage addresses are reused."""

from __future__ import annotations

import torch

from netscope.engine.plan.tracking import PlanMemory


def test_a_freed_comm_buffer_counts_though_a_kept_gradient_reuses_its_address() -> None:
    """A gradient left out of the high water (the reduce-scatter's output) must not take an
    earlier, freed communication buffer with it when the allocator hands the gradient the
    buffer's old address: that made FSDP replays read 69,102 B for 74,778 B now and then."""
    reused = 0
    for _ in range(40):
        memory = PlanMemory()
        memory.in_comm = 1
        buffer = torch.empty(1000)
        memory.created(buffer)
        memory.in_comm = 0
        address = buffer.untyped_storage()._cdata
        del buffer
        gradient = torch.empty(10)
        memory.created(gradient)
        kept = gradient.untyped_storage()._cdata
        reused += kept == address
        assert memory.comm_high_water({kept}) == 4000
        assert memory.comm_high_water(set()) == 4000
    assert reused, "the allocator never reused an address: the case was not exercised"


def test_a_live_comm_buffer_left_out_is_not_counted() -> None:
    memory = PlanMemory()
    memory.in_comm = 1
    output = torch.empty(250)
    memory.created(output)
    memory.in_comm = 0
    assert memory.comm_high_water({output.untyped_storage()._cdata}) == 0
    assert memory.comm_high_water(set()) == 1000
