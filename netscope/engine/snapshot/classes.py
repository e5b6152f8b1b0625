"""What kind of block a class is: built-in or the user's, a container, where it is defined."""

from __future__ import annotations

import ast
import contextlib
import inspect
import linecache
import sys

from torch import nn

from netscope.engine.errors import display_path, library_path

_SOURCE_CACHE: dict[type, str | None] = {}
# Containers that hold blocks but are never called themselves: their call count is not a fact
# (a bare ``nn.Module()`` used as a namespace is one too: it has no forward).
CONTAINERS = (nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)


def user_class(module: object) -> type:
    """The class the user wrote: FSDP2's ``fully_shard`` swaps a module's class for a generated
    ``FSDP<Name>`` subclass of it (bases: ``FSDPModule`` and the original), which is torch's
    bookkeeping, not the model's; everything else is its own class."""
    cls = type(module)
    bases = cls.__bases__
    generated = (
        len(bases) == 2
        and bases[0].__name__ == "FSDPModule"
        and bases[0].__module__.startswith("torch.distributed")
    )
    return bases[1] if generated else cls


def is_builtin(cls: type) -> bool:
    """torch.nn (and other torch) classes are built-ins; everything else is the user's."""
    return cls.__module__ == "torch" or cls.__module__.startswith("torch.")


def class_source(cls: type) -> str | None:
    """``file.py:LINE`` of a class definition, cached per class."""
    if cls not in _SOURCE_CACHE:
        try:
            filename = inspect.getsourcefile(cls)
            line = _class_line(cls, filename) if filename else None
            _SOURCE_CACHE[cls] = f"{display_path(filename)}:{line}" if filename else None
        except (OSError, TypeError):
            _SOURCE_CACHE[cls] = None
    return _SOURCE_CACHE[cls]


def model_source(cls: type) -> str | None:
    """Where a model's class comes from: a library's by its name (``torch.nn.Sequential``,
    ``transformers.GPT2LMHeadModel``), never a file in site-packages; the user's as file:LINE."""
    filename = None
    with contextlib.suppress(OSError, TypeError):
        filename = inspect.getsourcefile(cls)
    if is_builtin(cls) or (filename is not None and library_path(filename) is not None):
        return public_name(cls)
    return class_source(cls)


def public_name(cls: type) -> str:
    """The shortest importable name of a class: ``torch.nn.Sequential`` rather than
    ``torch.nn.modules.container.Sequential``."""
    parts = cls.__module__.split(".")
    for cut in range(1, len(parts) + 1):
        module = sys.modules.get(".".join(parts[:cut]))
        if module is not None and getattr(module, cls.__qualname__, None) is cls:
            return f"{module.__name__}.{cls.__qualname__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def _class_line(cls: type, filename: str) -> int:
    """The line inspect gives for ``cls`` (its first decorator, else ``class``), from one parse
    per file: inspect parses the whole file for every class (0.1 s for transformers'
    modeling_llama.py and its 8 classes)."""
    read_class_lines(filename)
    line = _CLASS_LINES[filename].get(cls.__qualname__)
    return line if line is not None else inspect.getsourcelines(cls)[1]


_CLASS_LINES: dict[str, dict[str, int]] = {}


def read_class_lines(filename: str) -> None:
    """Parse a file's class lines once (cached). ``netscope run`` reads the script's before it
    starts: the parse of a model class's file otherwise runs inside the loop's first step (5 ms
    of a 200-line script, the Trainer benchmark's)."""
    if filename not in _CLASS_LINES:
        _CLASS_LINES[filename] = _class_lines("".join(linecache.getlines(filename)))


def _class_lines(source: str) -> dict[str, int]:
    """Qualified class name -> line of its definition (first decorator), as inspect counts."""
    lines: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                name = f"{prefix}{child.name}"
                first = child.decorator_list[0] if child.decorator_list else child
                lines.setdefault(name, first.lineno)
                visit(child, f"{name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, f"{prefix}{child.name}.<locals>.")
            else:
                visit(child, prefix)

    with contextlib.suppress(SyntaxError, ValueError, RecursionError):  # then inspect decides
        visit(ast.parse(source), "")
    return lines
