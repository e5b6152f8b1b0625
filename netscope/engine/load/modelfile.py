"""Importing a user's model file and building its model, with every failure pointed at a line."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import torch
from torch import nn

from netscope.engine.errors import NetscopeError, display_path, wrap_user_error
from netscope.engine.load.exists import require_file
from netscope.engine.options import split_target

__all__ = ["split_target"]

DEFAULT_FACTORY = "build_model"


def import_model_file(path: str) -> ModuleType:
    """Import ``path`` as a fresh module; its folder goes on sys.path so sibling imports work."""
    require_file(path, "model file")
    absolute = os.path.abspath(path)
    name = os.path.splitext(os.path.basename(path))[0]
    existing = sys.modules.get(name)
    if not name.isidentifier() or (
        existing is not None and getattr(existing, "__file__", None) != absolute
    ):  # the name belongs to another module (a library, another file): keep both apart
        digest = hashlib.sha1(absolute.encode()).hexdigest()[:8]
        name = f"netscope_user_{digest}_{name if name.isidentifier() else 'model'}"
    spec = importlib.util.spec_from_file_location(name, absolute)
    if spec is None or spec.loader is None:
        raise NetscopeError(f"cannot import {display_path(path)} as Python", path=path)
    module = importlib.util.module_from_spec(spec)
    folder = os.path.dirname(absolute)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        raise wrap_user_error(exc, f"importing {display_path(path)} failed", path) from exc
    return module


def source_of(obj: Any) -> str | None:
    """``file.py:LINE`` where a function or class is defined, or None."""
    target = obj if inspect.isfunction(obj) or inspect.isclass(obj) else type(obj)
    try:
        filename = inspect.getsourcefile(target)
        if filename is None:
            return None
        if inspect.isfunction(target):
            return f"{display_path(filename)}:{target.__code__.co_firstlineno}"
        return f"{display_path(filename)}:{inspect.getsourcelines(target)[1]}"
    except (OSError, TypeError):
        return None


@contextlib.contextmanager
def _meta_build() -> Iterator[None]:
    """Build on meta with ``torch.nn.init`` functions as no-ops: there are no values to fill.

    Besides the wasted work, ``normal_`` on meta imports torch._dynamo (seconds) on first use.
    """
    import torch.nn.init as init

    names = [n for n in dir(init) if n.endswith("_") and not n.startswith("_")]
    saved = {name: getattr(init, name) for name in names}

    def keep(tensor: Any, *_args: Any, **_kwargs: Any) -> Any:
        return tensor

    try:
        for name in names:
            setattr(init, name, keep)
        with torch.device("meta"):
            yield
    finally:
        for name, fn in saved.items():
            setattr(init, name, fn)


def _build_context(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    return _meta_build() if device.type == "meta" else contextlib.nullcontext()


def build_from_file(
    module: ModuleType, path: str, name: str | None, device: torch.device
) -> tuple[nn.Module, str | None]:
    """Resolve ``name`` (default ``build_model``) to a module and build it on ``device``."""
    attr = name or DEFAULT_FACTORY
    shown = display_path(path)
    if not hasattr(module, attr):
        found = sorted(
            n for n, v in vars(module).items()
            if not n.startswith("_") and (isinstance(v, nn.Module) or (
                inspect.isclass(v) and issubclass(v, nn.Module) and v.__module__ == module.__name__
            ))
        )  # fmt: skip
        hint = f"name one with {shown}:NAME" + (
            f" (candidates: {', '.join(found)})" if found else ""
        )
        raise NetscopeError(f"{shown} defines no {attr}()", path=path, hint=hint)
    obj = getattr(module, attr)
    source = source_of(obj) if not isinstance(obj, nn.Module) else None
    if isinstance(obj, nn.Module):
        model, what = obj, attr
    elif callable(obj):
        what = f"{attr}()"
        try:
            with _build_context(device):
                model = obj()
        except (Exception, SystemExit) as exc:  # user code may call sys.exit()
            raise wrap_user_error(exc, f"{what} in {shown} raised", path) from exc
    else:
        raise NetscopeError(
            f"{shown}: {attr} is a {type(obj).__name__}, not a model factory, class or module",
            path=path,
        )
    if not isinstance(model, nn.Module):
        raise NetscopeError(
            f"{what} in {shown} returned {type(model).__name__}, not an nn.Module",
            path=path,
            location=source,
            hint="return the model object, e.g. `return nn.Sequential(...)`",
        )
    return model, source or source_of(model)


def optional_function(module: ModuleType, name: str) -> Callable[..., Any] | None:
    value = getattr(module, name, None)
    return value if callable(value) and not isinstance(value, nn.Module) else None


class OutputOnlyLoss:
    """A file's ``loss(output)`` called as ``(output, batch)``; ``called_as`` is what reports
    say ran, so they do not claim the batch was passed."""

    called_as = "loss(output)"

    def __init__(self, user_loss: Callable[[Any], Any]) -> None:
        self.user_loss = user_loss

    def __call__(self, output: Any, _batch: Any) -> Any:
        return self.user_loss(output)


def loss_function(module: ModuleType, path: str) -> Callable[[Any, Any], Any] | None:
    """The file's ``loss``, always called as ``(output, batch)``: ``loss(output)`` works too.

    Many losses need only the model's output (a Hugging Face model's ``out.loss``); a wrong
    signature is named with its line here, not as a failed backward later."""
    user_loss = optional_function(module, "loss")
    if user_loss is None:
        return None
    try:
        signature = inspect.signature(user_loss)
    except (TypeError, ValueError):  # a builtin or C callable: call it as documented
        return user_loss
    for arity in (2, 1):
        try:
            signature.bind(*range(arity))
        except TypeError:
            continue
        if arity == 2:
            return user_loss
        return OutputOnlyLoss(user_loss)
    raise NetscopeError(
        f"loss{signature} in {display_path(path)} cannot be called as loss(output, batch) or "
        "loss(output)",
        path=path,
        location=source_of(user_loss),
        hint="Define loss(output, batch) (or loss(output)) returning a scalar tensor.",
    )
