"""JSON report: the versioned contract of docs/schema.md, streamed to a file."""

from __future__ import annotations

import json
from typing import TextIO

from netscope.engine.model import Profile, Snapshot
from netscope.report.serialize import report_dict


def write_json(snapshot: Snapshot, profile: Profile | None, stream: TextIO) -> None:
    """Stream the report (large models make large reports); strict JSON, no NaN literals."""
    json.dump(report_dict(snapshot, profile), stream, indent=2, allow_nan=False)
    stream.write("\n")


def render_json(snapshot: Snapshot, profile: Profile | None = None) -> str:
    return json.dumps(report_dict(snapshot, profile), indent=2, allow_nan=False) + "\n"
