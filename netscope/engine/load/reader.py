"""Any checkpoint path: one file (``checkpoint.py``), or a save_pretrained folder or sharded
index (``hf.py``). Above both, so that neither imports the other."""

from __future__ import annotations

import os

from netscope.engine.load import hf
from netscope.engine.load.checkpoint import Checkpoint, read_file


def read_checkpoint(
    path: str,
    *,
    trust_pickle: bool = False,
    values: bool = True,
    max_value_bytes: int | None = None,
) -> Checkpoint:
    """Open ``path``: a file by its extension, a save_pretrained folder, a sharded index.

    Safetensors values are read only when ``values`` and the tensors fit in ``max_value_bytes``
    (None: any size); otherwise its tensors are meta tensors built from the header alone.
    """
    if os.path.isdir(path) or path.endswith(".index.json"):
        return hf.read_pretrained(
            path, trust_pickle=trust_pickle, values=values, max_value_bytes=max_value_bytes
        )
    checkpoint = read_file(
        path, trust_pickle=trust_pickle, values=values, max_value_bytes=max_value_bytes
    )
    note = hf.shard_note(path)
    if note:
        checkpoint.notes = (*checkpoint.notes, note)
    return checkpoint
