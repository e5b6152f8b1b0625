"""Tensors torch keeps outside plain parameters and buffers, recognised and named in plain words.

* Quantized modules (``torch.ao.nn.quantized`` and ``.dynamic``) keep weight and bias packed in a
  ``ScriptObject`` (``LinearPackedParams._packed_params``, a quantized conv's
  ``_packed_params``, a dynamic LSTM's ``_all_weight_values``): no ``_parameters`` entry, so
  they were invisible. They are unpacked with the module's own ``_weight_bias()`` and listed
  under the names the float module would use (``0._packed_params.weight``).
* ``torch.nn.utils.prune`` turns ``weight`` into a plain attribute rebuilt before each forward
  from ``weight_orig * weight_mask``; the legacy ``weight_norm`` / ``spectral_norm`` hooks do the
  same from ``weight_g``/``weight_v`` or ``weight_orig``/``weight_u``/``weight_v``. Those
  attributes are derived, not unregistered tensors.
* ``torch.nn.utils.parametrize`` computes ``weight`` on every access from
  ``parametrizations.weight.original*``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from netscope.engine.dtypes import dtype_name
from netscope.engine.model import DerivedTensor


@dataclass
class PackedTensor:
    """One unpacked weight or bias of a quantized module."""

    attribute: str
    tensor: torch.Tensor
    note: str


# What every nn.Module keeps in its __dict__ (hook tables, _parameters...): never a tensor a
# block holds, so the scans below look only at the attributes a class adds (in_features...).
_MODULE_INTERNALS = frozenset(vars(nn.Module()))


def own_attributes(module: nn.Module) -> list[tuple[str, Any]]:
    """The attributes a module's class and code set, in their order, without nn.Module's own
    bookkeeping."""
    values = vars(module)
    if not values.keys() - _MODULE_INTERNALS:
        return []
    return [(name, value) for name, value in values.items() if name not in _MODULE_INTERNALS]


def _is_script_object(value: Any) -> bool:
    return isinstance(value, torch.ScriptObject)


def packed_objects(module: nn.Module) -> list[Any]:
    """The packed ScriptObjects a module holds as plain attributes (what quantized ops read)."""
    script = torch.ScriptObject
    return [v for _, v in own_attributes(module) if isinstance(v, script)]


def _packed_note(module: nn.Module, tensor: torch.Tensor, key: str) -> str:
    packed_dtype = getattr(module, "dtype", None)
    shown = dtype_name(tensor.dtype)
    if isinstance(packed_dtype, torch.dtype) and packed_dtype != tensor.dtype:
        shown = f"{shown}, packed as {dtype_name(packed_dtype)}"
    return (
        f"{shown} tensor packed by torch.ao quantization inside {type(module).__name__} (not an "
        f"nn.Parameter: the quantized op reads the packed object, so it gets no gradient); "
        f"state_dict stores it under {key}"
    )


def packed_tensors(module: nn.Module) -> list[PackedTensor]:
    """The weights a quantized module keeps packed, unpacked; [] for any other module."""
    weight_bias = getattr(type(module), "_weight_bias", None)
    if weight_bias is None:
        return []
    try:
        if "_all_weight_values" in module._modules:  # dynamic LSTM / GRU: one object per layer
            found = weight_bias(module)  # {"weight": {name: t}, "bias": {name: t}}
            return [
                PackedTensor(name, t, _packed_note(module, t, "_all_weight_values.*.param"))
                for group in found.values()
                for name, t in group.items()
                if isinstance(t, torch.Tensor)
            ]
        if not _is_script_object(vars(module).get("_packed_params")):
            return []  # the quantized Linear itself: its LinearPackedParams child holds them
        weight, bias = weight_bias(module)
    except Exception:  # an unpack that fails (an exotic backend) hides nothing else
        return []
    key = "_packed_params" if "_packed_params" in module.state_dict() else "weight / bias"
    out = [PackedTensor("weight", weight, _packed_note(module, weight, key))]
    if isinstance(bias, torch.Tensor):
        out.append(PackedTensor("bias", bias.detach(), _packed_note(module, bias, key)))
    return out


def _prune_methods(hook: Any) -> str:
    methods = getattr(hook, "_pruning_methods", None)
    if methods:
        return "+".join(type(m).__name__ for m in methods)
    return type(hook).__name__


def derived_tensors(path: str, module: nn.Module) -> list[DerivedTensor]:
    """Attributes torch recomputes from registered tensors: pruning, parametrizations, norms."""
    if not module._forward_pre_hooks and "parametrizations" not in module._modules:
        return []  # neither a pruning / norm hook nor a parametrization
    from torch.nn.utils import parametrize, prune
    from torch.nn.utils.spectral_norm import SpectralNorm
    from torch.nn.utils.weight_norm import WeightNorm

    prefix = f"{path}." if path else ""
    found: list[DerivedTensor] = []
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, prune.BasePruningMethod):
            name = hook._tensor_name
            found.append(DerivedTensor(
                path, name, "pruning", _prune_methods(hook),
                (f"{prefix}{name}_orig", f"{prefix}{name}_mask"),
                f"{name} = {name}_orig * {name}_mask",
            ))  # fmt: skip
        elif isinstance(hook, WeightNorm):
            name = hook.name
            found.append(DerivedTensor(
                path, name, "weight_norm", "WeightNorm", (f"{prefix}{name}_g", f"{prefix}{name}_v"),
                f"{name} = {name}_g * {name}_v / ||{name}_v|| (dim {hook.dim})",
            ))  # fmt: skip
        elif isinstance(hook, SpectralNorm):
            name = hook.name
            found.append(DerivedTensor(
                path, name, "spectral_norm", "SpectralNorm",
                (f"{prefix}{name}_orig", f"{prefix}{name}_u", f"{prefix}{name}_v"),
                f"{name} = {name}_orig / sigma({name}_orig), sigma estimated by power iteration "
                f"with {name}_u and {name}_v",
            ))  # fmt: skip
    if parametrize.is_parametrized(module):
        chains: Any = module.parametrizations
        for name, chain in chains.items():
            originals = [n for n, _ in chain.named_parameters(recurse=False)]
            methods = [type(m).__name__ for m in chain]
            found.append(DerivedTensor(
                path, name, "parametrization", " then ".join(methods),
                tuple(f"{prefix}parametrizations.{name}.{n}" for n in originals),
                f"{name} = {' o '.join(reversed(methods))}({', '.join(originals)}), computed on "
                "every access",
            ))  # fmt: skip
    return found


def derived_attributes(module: nn.Module) -> set[str]:
    """Names of plain tensor attributes that prune / weight_norm / spectral_norm hooks rebuild."""
    if not module._forward_pre_hooks:
        return set()
    return {d.attribute for d in derived_tensors("", module) if d.kind != "parametrization"}


def source_notes(derived: list[DerivedTensor]) -> dict[str, tuple[str, str]]:
    """Qualified source name -> (role, note) for the ParamInfo rows of derived tensors."""
    notes: dict[str, tuple[str, str]] = {}
    for item in derived:
        role = "pruned" if item.kind == "pruning" else "parametrized"
        what = {
            "pruning": f"torch.nn.utils.prune ({item.method})",
            "parametrization": f"torch.nn.utils.parametrize ({item.method})",
            "weight_norm": "torch.nn.utils.weight_norm (legacy hook)",
            "spectral_norm": "torch.nn.utils.spectral_norm (legacy hook)",
        }[item.kind]
        for source in item.sources:
            notes[source] = (role, f"source of {item.name} via {what}: {item.how}")
    return notes
