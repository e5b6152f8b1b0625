"""``import netscope`` stays light (the CLI imports the package), and the API is one attribute
away: netscope.inspect, netscope.open, netscope.Report."""

from __future__ import annotations

import subprocess
import sys

import pytest

import netscope


def test_import_netscope_does_not_import_torch_until_the_api_is_used() -> None:
    code = (
        "import builtins, sys, netscope\n"
        "assert 'torch' not in sys.modules, 'torch imported by import netscope'\n"
        "from netscope import *\n"
        "assert open is builtins.open\n"
        "assert 'inspect' not in dir() and 'Report' in dir()\n"
        "inspect = netscope.inspect\n"
        "assert 'torch' in sys.modules\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_api_names() -> None:
    from netscope.python_api import Report, inspect, open

    assert (netscope.inspect, netscope.open, netscope.Report) == (inspect, open, Report)
    assert {"inspect", "open", "Report", "__version__"} <= set(dir(netscope))
    with pytest.raises(AttributeError, match="no attribute 'inspcet'"):
        netscope.inspcet  # noqa: B018
