"""JSON report: the versioned contract of docs/schema.md, streamed to a file."""

from __future__ import annotations

import json
from typing import TextIO

from netscope.engine.model import Profile, Snapshot
from netscope.report.serialize import report_dict

INDENT_LIMIT = 2000  # modules + parameters + buffers: above this the JSON is written compact


def write_json(snapshot: Snapshot, profile: Profile | None, stream: TextIO) -> None:
    """Write the report; strict JSON, no NaN literals.

    One ``dumps`` and one write: with ``indent`` json's encoder is pure Python either way, and
    ``dump`` adds a write call per token (a 1 MB report: ~40% slower). A large model's report is
    compact: the C encoder, no indentation (20,000 blocks: 10x faster, a third of the size).
    """
    stream.write(render_json(snapshot, profile))


def render_json(snapshot: Snapshot, profile: Profile | None = None) -> str:
    data = report_dict(snapshot, profile)
    if len(snapshot.blocks) + len(snapshot.parameters) + len(snapshot.buffers) > INDENT_LIMIT:
        return json.dumps(data, separators=(",", ":"), allow_nan=False) + "\n"
    return json.dumps(data, indent=2, allow_nan=False) + "\n"
