"""Lookups over one Snapshot that the tree and the filter need: children, tensors, matches."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from netscope.app.markers import MARKERS, block_markers, tensor_markers
from netscope.engine.model import BlockInfo, ParamInfo, Snapshot, UnregisteredTensor
from netscope.engine.self_figures import self_saved_bytes, self_step_flops, top_blocks


class RowKind(StrEnum):
    """What a tree row is; equal to its plain string ("block", "parameter", ...)."""

    BLOCK = "block"
    PARAMETER = "parameter"
    BUFFER = "buffer"
    UNREGISTERED = "unregistered"
    MORE = "more"  # a "… N more" row: a page of rows not shown yet


@dataclass(frozen=True)
class TopBlock:
    """A row of the top-blocks view: a block's own figure (its children's not included)."""

    path: str
    type: str
    own: int  # FLOPs of the step, or bytes saved for backward, by this block outside its children
    inclusive: int  # with its children
    share: float | None  # own / the step's total, 0..1; None: no total


# What the top-blocks view ranks by (the tree's column key names them the same)
TOP_MEASURES = ("flops", "memory")


@dataclass(frozen=True)
class NodeKey:
    """What a tree row shows: a block, a parameter, a buffer or an unregistered tensor."""

    kind: str  # a RowKind
    name: str  # block path, qualified tensor name, or "module.attribute"
    block: str  # the block the row sits under ("" for the root itself)
    # An unregistered tensor's own attribute on ``block``: (block, attribute) names it exactly
    attribute: str = ""


class TreeIndex:
    """Children and leaves per block, built once per snapshot so lazy expansion is O(children)."""

    def __init__(self, snapshot: Snapshot, complete: bool = True) -> None:
        self.snapshot = snapshot
        # False for the structure sent before the forward (StructureReady): calls, outputs,
        # statistics and gradients are still being computed, not missing
        self.complete = complete
        # Blocks whose count waits for lazy parameters to get a shape (the forward gives it)
        self.uncounted: set[str] = set()
        for info in snapshot.parameters if not complete else ():
            path = info.block
            while info.numel is None and path not in self.uncounted:
                self.uncounted.add(path)
                path = path.rpartition(".")[0] if path else path
        self._top: dict[str, list[TopBlock]] = {}  # top_blocks, ranked once per measure
        self.children: dict[str, list[str]] = defaultdict(list)
        for block in snapshot.blocks:
            if block.parent is not None and block.path != "":
                self.children[block.parent].append(block.path)
        self.tensors: dict[str, list[ParamInfo]] = defaultdict(list)
        for info in (*snapshot.parameters, *snapshot.buffers):
            self.tensors[info.block].append(info)
        self.unregistered: dict[str, list[UnregisteredTensor]] = defaultdict(list)
        self._unregistered: dict[tuple[str, str], UnregisteredTensor] = {}
        for tensor in (
            *(t for b in snapshot.blocks for t in b.unregistered),
            *snapshot.unregistered,
        ):
            if (tensor.module, tensor.attribute) not in self._unregistered:
                self._unregistered[(tensor.module, tensor.attribute)] = tensor
                self.unregistered[tensor.module].append(tensor)

    def step_total(self, measure: str) -> int | None:
        """The step's FLOPs (forward + backward) or its saved activations; None: not counted."""
        snapshot = self.snapshot
        if measure == "flops":
            return snapshot.compute.step_flops if snapshot.compute is not None else None
        memory = snapshot.memory
        if memory is not None and memory.activations_bytes is not None:
            return memory.activations_bytes
        root = snapshot.blocks[0] if snapshot.blocks else None
        return root.saved_bytes if root is not None else None

    def top_blocks(self, measure: str, limit: int = 20) -> list[TopBlock]:
        """The blocks with the largest own figure (``measure`` "flops" or "memory"), as the
        engine computed it: a container that only sums its children ranks nowhere, a block
        reused under several paths ranks once, and the shares do not count a FLOP twice.
        Ranked once per snapshot and measure (10,000 blocks: a few ms)."""
        ranked = self._top.get(measure)
        if ranked is None:
            ranked = self._top[measure] = self._rank(measure)
        return ranked[:limit]

    def _rank(self, measure: str) -> list[TopBlock]:
        total = self.step_total(measure)
        own = self_step_flops if measure == "flops" else self_saved_bytes
        return [
            TopBlock(
                block.path,
                block.type,
                amount,
                block_measure(block, measure) or 0,
                amount / total if total else None,
            )
            for block, amount in top_blocks(self.snapshot, own)
        ]

    def block(self, path: str) -> BlockInfo | None:
        return self.snapshot.block_by_path.get(path)

    def unregistered_tensor(self, key: NodeKey) -> UnregisteredTensor | None:
        """The unregistered tensor an "unregistered" row shows, by (block, attribute)."""
        if key.kind != RowKind.UNREGISTERED:
            return None
        return self._unregistered.get((key.block, key.attribute))

    def child_keys(self, path: str) -> list[NodeKey]:
        """Rows under a block in display order: child blocks, parameters, buffers, unregistered."""
        keys = [NodeKey(RowKind.BLOCK, child, path) for child in self.children.get(path, ())]
        keys += [
            NodeKey(RowKind(info.kind), info.name, path) for info in self.tensors.get(path, ())
        ]
        keys += [
            NodeKey(RowKind.UNREGISTERED, _unregistered_name(t), path, t.attribute)
            for t in self.unregistered.get(path, ())
        ]
        return keys

    def same_rows(self, other: TreeIndex) -> bool:
        """Whether ``other`` has exactly these rows (so a tree of one can be relabelled)."""
        mine, theirs = self.snapshot, other.snapshot
        return (
            [b.path for b in mine.blocks] == [b.path for b in theirs.blocks]
            and [t.name for t in (*mine.parameters, *mine.buffers)]
            == [t.name for t in (*theirs.parameters, *theirs.buffers)]
            and list(self._unregistered) == list(other._unregistered)
        )

    def has_children(self, path: str) -> bool:
        return bool(
            self.children.get(path) or self.tensors.get(path) or self.unregistered.get(path)
        )

    def ancestors(self, key: NodeKey) -> list[str]:
        """Block paths from the root down to the block holding ``key`` (inclusive)."""
        path = key.name if key.kind == "block" else key.block
        chain = []
        block = self.block(path)
        while block is not None:
            chain.append(block.path)
            block = self.block(block.parent) if block.parent is not None else None
        return list(reversed(chain))

    def matches(self, query: str) -> list[NodeKey]:
        """Rows whose name, class or marker matches ``query``, in display (pre-)order."""
        words = query.lower().split()
        if not words:
            return []
        found: list[NodeKey] = []

        def visit(path: str) -> None:
            block = self.block(path)
            if block is not None and _block_matches(block, words):
                found.append(NodeKey("block", path, block.parent or ""))
            for key in self.child_keys(path):
                if key.kind == "block":
                    visit(key.name)
                elif self._leaf_matches(key, words):
                    found.append(key)

        root = self.snapshot.blocks[0].path if self.snapshot.blocks else ""
        visit(root)
        return found

    def _leaf_matches(self, key: NodeKey, words: list[str]) -> bool:
        info = self.snapshot.tensor_by_name.get(key.name)
        markers = tensor_markers(info) if info is not None else ()
        if key.kind == "unregistered":
            markers = ("unregistered",)
        texts = (key.name.lower(), key.kind, *markers)
        return all(_word_matches(word, texts, markers) for word in words)


def block_measure(block: BlockInfo, measure: str) -> int | None:
    """A block's inclusive figure: step FLOPs (forward + backward) or bytes saved for backward."""
    if measure == "flops":
        if block.forward_flops is None:
            return None
        return block.forward_flops + (block.backward_flops or 0)
    return block.saved_bytes


def _unregistered_name(tensor: UnregisteredTensor) -> str:
    return f"{tensor.module}.{tensor.attribute}" if tensor.module else tensor.attribute


def _word_matches(word: str, texts: tuple[str, ...], markers: tuple[str, ...]) -> bool:
    """A word matches a marker exactly ("tied", "nan") or any part of a name or class."""
    marker = "unregistered" if word == "unreg" else word
    return (marker in MARKERS and marker in markers) or any(word in text for text in texts)


def _block_matches(block: BlockInfo, words: list[str]) -> bool:
    markers = block_markers(block)
    texts = (block.path.lower(), block.type.lower())
    return all(_word_matches(word, texts, markers) for word in words)
