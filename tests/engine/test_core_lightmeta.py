"""The meta forward skips torch's lazy dynamo import and leaves torch exactly as it was."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROBE = textwrap.dedent(
    """
    import sys
    import torch
    from netscope.engine.snapshot.lightmeta import light_meta_forward

    def rms(x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)

    check = torch._check_with
    x = torch.empty(2, 8, device="meta")
    with light_meta_forward():
        y = rms(x)
        try:
            torch._check(False, lambda: "still checked")
        except RuntimeError as exc:
            assert "still checked" in str(exc), exc
    assert y.shape == (2, 8) and y.device.type == "meta"
    assert torch._check_with is check, "torch._check_with not restored"
    assert "torch._dynamo" not in sys.modules, "dynamo was imported"
    # torch behaves as before afterwards: dynamo still compiles and disables as it should
    eager = rms(torch.ones(2, 8))
    compiled = torch.compile(rms, backend="eager")(torch.ones(2, 8))
    assert "torch._dynamo" in sys.modules and torch.equal(eager, compiled)
    from torch._compile import _disable_dynamo
    import gc
    code = _disable_dynamo(lambda: None).__code__
    slot = code.co_freevars.index("fn")
    for f in gc.get_referrers(code):
        if type(f).__name__ == "function" and f.__closure__:
            fn = f.__closure__[slot].cell_contents
            assert getattr(fn, "__dynamo_disable", None) is not fn, fn
    print("ok")
    """
)


def test_meta_forward_without_dynamo_and_torch_restored() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
