"""``profile=True`` for an in-memory model: the profiler runs in netscope's worker process, as for
``netscope report --profile``, on a copy of the model saved with ``torch.save``.

Why not in the caller's process: the profiler moves the model to each device it times, trains
it with ``train=True`` (its weights change), and on a machine without a GPU registers torch's
PrivateUse1 backend as a stand-in GPU for the whole process. None of that may happen to the
caller's model or interpreter, and a worker survives a model that crashes or hangs.
What it needs: the model, its arguments and the ``optimizer``, ``loss`` and ``step`` functions
must pickle, and their classes must be importable in a fresh process (defined in a module or at
a script's top level; a class defined in a notebook cell is not).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch

from netscope.engine.errors import NetscopeError
from netscope.engine.load.loaded import LoadedTarget
from netscope.engine.model import Profile
from netscope.engine.options import ProfileOptions

MODEL_FILE = '''"""Written by netscope.inspect(profile=True): the caller's model, by torch.save."""
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name):
    return torch.load(os.path.join(HERE, name), weights_only=False)


def build_model():
    return _load("model.pt")


def example_input():
    return _load("input.pt")
'''
# the caller's functions, each saved beside the model and called as a model file's would be
FUNCTION_PARTS = {
    "optimizer": ("optimizer_fn", "model"),
    "loss": ("loss_fn", "output, batch"),
    "step": ("step_fn", "model, batch"),
}


def _save(value: Any, path: str, what: str) -> None:
    try:
        torch.save(value, path)
    except Exception as error:
        raise NetscopeError(
            f"profile=True: {what} cannot be saved for netscope's worker "
            f"({type(error).__name__}: {error})",
            hint="The profiler runs in a worker process: the model, its arguments, "
            "optimizer=, loss= and step= must pickle. Use profile=False, or "
            "`netscope report model.py --profile`.",
        ) from error


def _arguments(loaded: LoadedTarget) -> Any:
    """The forward's arguments as a model file's ``example_input()`` returns them."""
    example = loaded.example_input
    if example is None:
        raise NetscopeError(
            "profile=True needs the forward's arguments: netscope.inspect(model, x, profile=True)"
        )
    if example.args and example.kwargs:
        raise NetscopeError(
            "profile=True takes positional or keyword arguments for the forward, not both",
            hint="A model file's example_input() returns one or the other; pass one kind.",
        )
    if example.kwargs:
        return dict(example.kwargs)
    return example.args[0] if len(example.args) == 1 else tuple(example.args)


def _interactive_classes(model: torch.nn.Module) -> list[str]:
    """Classes of the model defined where a fresh process cannot import them: ``__main__`` of a
    notebook, ``python -c`` or the REPL (a script's ``__main__`` is re-imported by the worker)."""
    main = sys.modules.get("__main__")
    if main is not None and getattr(main, "__file__", None):
        return []
    return sorted({type(m).__name__ for m in model.modules() if type(m).__module__ == "__main__"})


def profile_in_worker(
    loaded: LoadedTarget,
    prof: ProfileOptions,
    on_message: Callable[[Any], None] | None = None,
) -> Profile:
    """Save the model and its arguments, profile them in a worker, return the Profile."""
    from netscope.engine.worker.session import run_in_worker

    assert loaded.model is not None
    arguments = _arguments(loaded)
    interactive = _interactive_classes(loaded.model)
    if interactive:
        raise NetscopeError(
            f"profile=True: {', '.join(interactive)} is defined in this interactive session "
            "(a notebook cell, python -c or the REPL), which netscope's worker process cannot "
            "import",
            hint="Move the class into a .py module and import it, or profile a model file: "
            "netscope report model.py --profile -o r.html",
        )
    with tempfile.TemporaryDirectory(prefix="netscope-inspect-") as folder:
        text = MODEL_FILE
        _save(loaded.model, os.path.join(folder, "model.pt"), "the model")
        _save(arguments, os.path.join(folder, "input.pt"), "the forward's arguments")
        for name, (field, parameters) in FUNCTION_PARTS.items():
            function = getattr(loaded, field)
            if function is not None:
                _save(function, os.path.join(folder, f"{name}.pt"), f"{name}=")
                call = f'_load("{name}.pt")({parameters})'
                text += f"\n\ndef {name}({parameters}):\n    return {call}\n"
        path = os.path.join(folder, "inspected_model.py")
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(text)
        options = replace(loaded.options, target=path, dtype=None)  # saved as already cast
        _, profile = run_in_worker(options, prof, on_message, profile=True)
    assert profile is not None  # run_in_worker raises otherwise
    return profile
