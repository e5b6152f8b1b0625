"""``structure_snapshot``: the model's tree as soon as it is built, before any forward.

Blocks, classes, parameters and buffers with their shapes, dtypes and devices, ties, counts and
unregistered tensors: everything that needs no example forward, no backward and no statistics.
It reads tensors' metadata only (never their values), so it costs milliseconds where the full
snapshot (``snapshot_model``) costs seconds; the app shows it while the full one is computed.
Unknown values stay ``None`` (calls, outputs, statistics, gradients): never a made-up 0.
"""

from __future__ import annotations

from netscope.engine.errors import display_path
from netscope.engine.load.compiled import eager_target
from netscope.engine.load.device import device_label, resolve_device
from netscope.engine.load.loaded import LoadedTarget
from netscope.engine.model import ForwardInfo, Snapshot
from netscope.engine.snapshot.blocks import build_blocks, first_path_unregistered
from netscope.engine.snapshot.build import _entries
from netscope.engine.snapshot.classes import user_class
from netscope.engine.snapshot.sharding import with_sharding
from netscope.engine.snapshot.special import derived_tensors, source_notes
from netscope.engine.snapshot.tensors import count_params, held_bytes, param_info, tie_groups

STRUCTURE_NOTE = "structure only: the example forward and the statistics are being computed"


def structure_snapshot(loaded: LoadedTarget) -> Snapshot | None:
    """The tree of a built model without forward or statistics; None for a checkpoint alone."""
    loaded, _compiled = eager_target(loaded)
    model = loaded.model
    if model is None:
        return None
    named = list(model.named_modules(remove_duplicate=False))
    derived_at = {path: tuple(derived_tensors(path, module)) for path, module in named}
    derived = tuple(d for path, _ in model.named_modules() for d in derived_at[path])
    param_entries, buffer_entries = _entries(named, source_notes(list(derived)))
    ties, tie_index = tie_groups(param_entries)
    lazy = loaded.lazy_at_build
    params = [
        param_info(e, None, None, tie_index.get(e.name), e.name in lazy) for e in param_entries
    ]
    buffers = [param_info(e, None, None, None, e.name in lazy) for e in buffer_entries]
    counts = count_params(params, ties, [p for p, _ in named])
    blocks = with_sharding(build_blocks(named, counts, params, buffers, None, derived_at), named)
    return Snapshot(
        target=display_path(loaded.path),
        kind="model",
        model_class=user_class(model).__name__,
        device=device_label(resolve_device(loaded.options.device)),
        blocks=blocks,
        parameters=tuple(params),
        buffers=tuple(buffers),
        ties=ties,
        unregistered=first_path_unregistered(named, blocks),
        forward=ForwardInfo(ran=False, note=STRUCTURE_NOTE),
        total_params=counts.total,
        trainable_params=counts.trainable,
        total_bytes=held_bytes(params, buffers),
        checkpoint=loaded.checkpoint_diff,
        source=loaded.source,
        devices=tuple(sorted({p.device for p in (*params, *buffers)})),
        derived=derived,
    )
