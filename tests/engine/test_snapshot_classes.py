"""class_source: the line inspect gives, from one parse per file."""

from __future__ import annotations

import importlib.util
import inspect
import sys
import textwrap

from netscope.engine.snapshot import classes

SOURCE = """
from torch import nn


def tag(**_kwargs):
    return lambda cls: cls


def keep(cls):
    return cls


class Plain(nn.Module):
    pass


@tag(
    note="a decorator over several lines",
)
@keep
class Decorated(nn.Module):
    class Inner(nn.Module):
        pass


def make():
    class Local(nn.Module):  # a class made in a function: inspect decides
        pass

    return Local


class Plain2(Plain):
    pass
"""


def test_class_lines_equal_inspect_for_decorated_nested_and_local_classes(tmp_path) -> None:
    path = tmp_path / "shapes_of_classes.py"
    path.write_text(textwrap.dedent(SOURCE))
    spec = importlib.util.spec_from_file_location("shapes_of_classes", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["shapes_of_classes"] = module
    try:
        spec.loader.exec_module(module)
        found = [module.Plain, module.Decorated, module.Decorated.Inner, module.make()]
        found.append(module.Plain2)
        for cls in found:
            expected = inspect.getsourcelines(cls)[1]
            assert classes._class_line(cls, str(path)) == expected, cls.__qualname__
            assert (classes.class_source(cls) or "").endswith(f"shapes_of_classes.py:{expected}")
        first_decorator = path.read_text().splitlines().index("@tag(") + 1
        assert classes._class_line(module.Decorated, str(path)) == first_decorator
    finally:
        del sys.modules["shapes_of_classes"]


def test_a_scripts_class_lines_are_read_before_it_runs(tmp_path) -> None:
    """``netscope run`` reads the script's class lines before the script starts (child.main):
    a class the script defines is then placed from that read, with no parse in the loop's first
    step, at the line inspect gives for the class while runpy runs it."""
    import runpy

    script = tmp_path / "train_script.py"
    script.write_text(
        SOURCE
        + textwrap.dedent(
            """
            import inspect
            from netscope.engine.snapshot import classes

            FOUND = [
                (classes.class_source(cls), inspect.getsourcelines(cls)[1])
                for cls in (Decorated, Decorated.Inner, Plain2)
            ]
            """
        )
    )
    classes.read_class_lines(str(script))
    assert set(classes._CLASS_LINES[str(script)]) >= {"Plain", "Decorated.Inner", "Plain2"}
    found = runpy.run_path(str(script), run_name="__main__")["FOUND"]
    shown = classes.display_path(str(script))
    assert found and all(source == f"{shown}:{line}" for source, line in found), found
