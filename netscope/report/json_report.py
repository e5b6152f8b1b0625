"""JSON report: the versioned contract of docs/schema.md, streamed to a file."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

import orjson

from netscope.engine.model import Profile, Snapshot
from netscope.report.serialize import report_dict
from netscope.report.serialize_items import ItemList

INDENT_LIMIT = 2000  # modules + parameters + buffers: above this the JSON is written compact
CHUNK = 500  # list items per write when streaming a compact report


def _compact_bytes(value: Any) -> bytes:
    """Compact JSON by orjson, UTF-8: 0.15 s for 20,000 blocks' 38 MB where json's C encoder
    takes 1.3 s. The report's floats are finite (``num``), so json's NaN check has nothing to
    catch. Numbers may be spelled differently (``0.00001`` for json's ``1e-05``): same values."""
    return orjson.dumps(value, default=_plain_number)


def _compact_text(value: Any) -> str:
    return _compact_bytes(value).decode()


def _plain_number(value: Any) -> float | int:
    """A subclass of float or int (a numpy scalar) as the number json writes for it; orjson
    asks here for any type it does not know, and anything else is still an error."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def write_json(snapshot: Snapshot, profile: Profile | None, stream: BinaryIO) -> None:
    """Write the report's UTF-8 bytes; strict JSON, no NaN literals, the text of ``render_json``.

    A small report is one indented ``dumps`` and one write: with ``indent`` json's encoder is pure
    Python either way, and ``dump`` adds a write call per token (a 1 MB report: ~40% slower). A
    large model's report is compact (orjson, a third of the size) and streamed: its long lists
    go out ``CHUNK`` items at a time, the model's item dicts made a chunk at a time as they are
    written (``ItemList``), so neither the whole text nor all its dicts are ever held (20,000
    blocks: ~38 MB of JSON from 60,000 dicts). orjson's bytes go to the file as they are.
    """
    if not _compact(snapshot):
        text = json.dumps(report_dict(snapshot, profile), indent=2, allow_nan=False)
        stream.write((text + "\n").encode())
        return
    _stream(report_dict(snapshot, profile, streamed=True), stream.write, 0)
    stream.write(b"\n")


def render_json(snapshot: Snapshot, profile: Profile | None = None) -> str:
    data = report_dict(snapshot, profile)
    if _compact(snapshot):
        return _compact_text(data) + "\n"
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def _compact(snapshot: Snapshot) -> bool:
    return len(snapshot.blocks) + len(snapshot.parameters) + len(snapshot.buffers) > INDENT_LIMIT


def _stream(value: Any, write: Callable[[bytes | memoryview], Any], depth: int) -> None:
    """Compact JSON of ``value`` written piecewise: the report's top two levels of objects key
    by key, an ``ItemList`` and any long list in chunks; everything else in one encoder call."""
    if isinstance(value, dict) and depth < 2 and all(isinstance(key, str) for key in value):
        write(b"{")
        for index, (key, item) in enumerate(value.items()):
            write((b"," if index else b"") + _compact_bytes(key) + b":")
            _stream(item, write, depth + 1)
        write(b"}")
    elif isinstance(value, ItemList):
        _stream_chunks(value.slices(CHUNK), write)
    elif isinstance(value, list) and len(value) > CHUNK:
        _stream_chunks((value[i : i + CHUNK] for i in range(0, len(value), CHUNK)), write)
    else:
        write(_compact_bytes(value))


def _stream_chunks(chunks: Iterable[list[Any]], write: Callable[[bytes | memoryview], Any]) -> None:
    """One JSON array of the chunks' items; each chunk is encoded, written and let go."""
    write(b"[")
    first = True
    for chunk in chunks:
        if chunk:
            if not first:
                write(b",")
            write(memoryview(_compact_bytes(chunk))[1:-1])  # the items, not a copy of them
            first = False
    write(b"]")
