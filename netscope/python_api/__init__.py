"""netscope from Python: ``netscope.inspect(model, x)`` -> Report, ``netscope.open(model, x)``.
See docs/api.md; the names here are stable, as the JSON schema's are."""

from __future__ import annotations

from netscope.python_api.calls import inspect, open
from netscope.python_api.report import Report

__all__ = ["Report", "inspect", "open"]
