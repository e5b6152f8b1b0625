"""Code a recorded step runs without its detectors: the updates of torch's own optimizers.

A recorded step's two modes cost every torch call they see (a call from C++ into Python each,
often more than a small op's own work), and on a training step much of what they see is torch's
own update: the optimizer reading each parameter's ``.grad`` (a torch call through the function
mode) and its foreach updates, once per parameter tensor or group.

None of it can stall the device or copy across it: the updates of torch's optimizers keep their
step counters on the host (``capturable``/``fused`` ones keep them on the device and never read
them back). So the modes step aside there (``SampledStep.step_aside``) and come back for the
closure an optimizer runs (Lightning's ``training_step``, the loop's own code). Not stepped
aside: an optimizer class of the script's or a library's (even one built on torch's), ``LBFGS``
(its line search reads values back), sparse and newer optimizers, and a step with hooks of the
script's registered on the optimizer (they run inside it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

# torch.optim classes whose step() reads nothing back from the device
_UPDATES_WITHOUT_SYNCS = frozenset(
    {
        "SGD",
        "Adam",
        "AdamW",
        "Adagrad",
        "Adadelta",
        "Adamax",
        "NAdam",
        "RAdam",
        "RMSprop",
        "Rprop",
        "ASGD",
    }
)


class Aside(Protocol):
    """What a recorded step offers: its modes off the stack, then back."""

    def step_aside(self) -> None: ...

    def step_back(self) -> None: ...


def update_without_syncs(optimizer: Any) -> bool:
    """Whether ``optimizer.step()`` runs torch's own update and nothing of the script's."""
    cls = type(optimizer)
    if cls.__name__ not in _UPDATES_WITHOUT_SYNCS or not cls.__module__.startswith("torch.optim."):
        return False
    own_hooks = (
        getattr(optimizer, "_optimizer_step_pre_hooks", None),
        getattr(optimizer, "_optimizer_step_post_hooks", None),
    )
    return not any(own_hooks)


def with_detectors(closure: Callable[[], Any], aside: Aside) -> Callable[[], Any]:
    """The closure an optimizer runs while the detectors are aside, with them back on."""

    def detected() -> Any:
        aside.step_back()
        try:
            return closure()
        finally:
            aside.step_aside()

    return detected
