"""A meta-device forward without torch's lazy imports of dynamo and sympy (seconds, ~300 MB).

On its first meta op torch imports ``torch._dynamo`` (python decompositions are wrapped by
``torch._compile._disable_dynamo``, which imports dynamo to build the "disabled" form) and
``torch.fx.experimental.symbolic_shapes`` (``torch._check`` imports it even for a plain bool).
Neither is needed when nothing is being compiled. Inside ``light_meta_forward()``:

* each ``_disable_dynamo`` wrapper caches the plain function as its disabled form. That is what
  ``torch._dynamo.disable`` amounts to outside compilation; it is done only while dynamo is not
  loaded (so nothing can be tracing), and every cache entry set here is removed on exit;
* ``torch._check_with`` returns at once for a condition that ``is True`` (what
  ``expect_true(True)`` returns), and defers to torch for anything else;
* functional ops seen before with the same input metadata reuse their result's metadata
  (``meta_cache.MetaResultCache``): a model's repeated layers are computed once.

Everything is restored in ``finally``; when dynamo or sympy is already loaded the matching part
is skipped (there is nothing to save).
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator
from types import FunctionType
from typing import Any

import torch

from netscope.engine.snapshot.meta_cache import MetaResultCache

_CACHE_ATTR = "__dynamo_disable"  # the attribute torch._compile._disable_dynamo's wrapper reads


def _disable_wrapper_code() -> Any:
    """The code object shared by every ``_disable_dynamo`` wrapper (None if torch changed)."""
    try:
        from torch._compile import _disable_dynamo

        probe = _disable_dynamo(lambda: None)
    except Exception:
        return None
    code = getattr(probe, "__code__", None)
    if code is None or "fn" not in code.co_freevars:
        return None
    return code


def _wrapped_functions() -> list[Any]:
    """The functions inside every live ``_disable_dynamo`` wrapper that has no cache yet."""
    code = _disable_wrapper_code()
    if code is None:
        return []
    slot = code.co_freevars.index("fn")
    found = []
    for obj in gc.get_referrers(code):
        if type(obj) is FunctionType and obj.__closure__ is not None:
            try:
                fn = obj.__closure__[slot].cell_contents
            except ValueError:  # empty cell
                continue
            if getattr(fn, _CACHE_ATTR, None) is None:
                found.append(fn)
    return found


def _fast_check_with(original: Any) -> Any:
    def check_with(error_type: Any, cond: Any, message: Any) -> None:
        if cond is True:
            return
        original(error_type, cond, message)

    check_with.__wrapped__ = original  # type: ignore[attr-defined]
    return check_with


@contextlib.contextmanager
def light_meta_forward() -> Iterator[None]:
    """Run a meta forward without importing dynamo or sympy; torch is left as it was found."""
    cached: list[Any] = []
    original_check = torch._check_with
    try:
        if "torch._dynamo" not in sys.modules:
            for fn in _wrapped_functions():
                try:
                    setattr(fn, _CACHE_ATTR, fn)
                except (AttributeError, TypeError):  # builtins take no attributes
                    continue
                cached.append(fn)
        if "torch.fx.experimental.symbolic_shapes" not in sys.modules:
            torch._check_with = _fast_check_with(original_check)
        with MetaResultCache():
            yield
    finally:
        torch._check_with = original_check
        for fn in cached:
            if getattr(fn, _CACHE_ATTR, None) is fn:
                delattr(fn, _CACHE_ATTR)
