"""The engine and the reports never import textual: the app only renders what they produce."""

import subprocess
import sys

ENGINE_MODULES = [
    "netscope.cli",
    "netscope.engine.model",
    "netscope.engine.api",
    "netscope.engine.load.target",
    "netscope.engine.load.checkpoint",
    "netscope.engine.snapshot.build",
    "netscope.engine.profiler.session",
    "netscope.engine.profiler.worker",
    "netscope.engine.profiler.check",
    "netscope.report.write",
]


def test_engine_imports_without_textual() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'textual' or name.startswith('textual.'):\n"
        "            raise ImportError('textual is blocked in this test')\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for name in {ENGINE_MODULES!r}:\n"
        "    __import__(name)\n"
        "assert not any(m == 'textual' or m.startswith('textual.') for m in sys.modules)\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_app_package_is_the_only_textual_importer() -> None:
    from pathlib import Path

    import netscope

    root = Path(netscope.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "app" not in path.relative_to(root).parts[:1]
        and any(
            line.lstrip().startswith(("import textual", "from textual"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []
