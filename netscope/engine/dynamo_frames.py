"""Frames dynamo never compiles, marked on their code objects (needs no ``torch._dynamo`` import).

torch's own way, ``torch._dynamo.disable(fn)``, wraps ``fn`` in a function that switches dynamo's
frame callback off and back on at every call (four switches) and imports dynamo on first use. A
hook or a dispatch handler netscope runs hundreds of times a step marks its code instead: the
frame, and with it whatever it calls, is skipped by dynamo's frame evaluation, as under the
wrapper. Inlining while dynamo traces a caller is not affected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def never_compiled(*functions: Callable[..., Any], only_itself: bool = False) -> bool:
    """Dynamo never compiles these functions as frames of their own, nor what they call: a module
    compiled in place (``model.compile()``) runs ``_call_impl`` eagerly and calls the global hooks
    as new frames, which dynamo would compile (netscope's frames in the user's counters, its hooks
    as compiled no-ops). ``only_itself``: what the function calls is treated by dynamo as without
    it (a wrapper of torch's own ``backward``). False when this torch cannot mark frames."""
    try:
        from torch._C._dynamo.eval_frame import (
            _FrameAction,
            _FrameExecStrategy,
            set_code_exec_strategy,
        )
    except ImportError:  # a torch without dynamo's C part: nothing compiles frames
        return False
    callees = _FrameAction.DEFAULT if only_itself else _FrameAction.SKIP
    skip = _FrameExecStrategy(_FrameAction.SKIP, callees)
    for function in functions:
        set_code_exec_strategy(function.__code__, skip)
    return True
