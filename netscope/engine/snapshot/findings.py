"""Findings: what a user should know about a snapshot, each in one plain sentence."""

from __future__ import annotations

from netscope.engine.model import Finding, ParamInfo, Severity, Snapshot

META_FORWARD_FAILED = "On the meta device"  # how a forward note starts when meta could not run it


def model_findings(snapshot: Snapshot) -> tuple[Finding, ...]:
    found: list[Finding] = []
    for info in snapshot.parameters:
        if info.unused:
            found.append(Finding(
                "warning", "unused-parameter",
                f"{info.name} requires grad but got no gradient from the backward pass: it took "
                "no part in the loss (never used, or used through .data / .detach())",
                subject=info.name,
            ))  # fmt: skip
        found += _nonfinite_values(info, info.name)
        if info.grad is not None and (info.grad.nan or info.grad.inf):
            found.append(Finding(
                "error", "nonfinite-gradient",
                f"the gradient of {info.name} holds {info.grad.nan} NaN and {info.grad.inf} Inf",
                subject=info.name,
            ))  # fmt: skip
    for info in snapshot.buffers:
        found += _nonfinite_values(info, f"buffer {info.name}")
    param_devices = sorted({p.device for p in snapshot.parameters})
    if len(param_devices) > 1:
        found.append(Finding(
            "warning", "several-devices",
            f"parameters are spread over {len(param_devices)} devices "
            f"({', '.join(param_devices)}): every operation needs its operands on one device",
        ))  # fmt: skip
    lazy = [p.name for p in snapshot.parameters if not p.initialized]
    lazy_buffers = [b.name for b in snapshot.buffers if not b.initialized]
    if lazy or lazy_buffers:
        counted = [f"{len(lazy)} lazy parameter(s)"] if lazy else []
        counted += [f"{len(lazy_buffers)} lazy buffer(s)"] if lazy_buffers else []
        found.append(Finding(
            "info", "uninitialized",
            f"{' and '.join(counted)} are still uninitialized (shape unknown until the "
            "first forward): totals leave them out",
            subject=(lazy or lazy_buffers)[0],
        ))  # fmt: skip
    for group in snapshot.ties:
        found.append(Finding(
            "info", "tied-parameters", f"{', '.join(group.names)}: {group.note}",
            subject=group.names[0],
        ))  # fmt: skip
    for tensor in snapshot.unregistered:
        where = f"{tensor.module}.{tensor.attribute}" if tensor.module else tensor.attribute
        severity: Severity = (
            "warning" if param_devices and tensor.device not in param_devices else "info"
        )
        found.append(Finding(
            severity, "unregistered-tensor",
            f"{where} ({tensor.device}) is a tensor attribute, neither parameter nor buffer: it "
            "is not saved in state_dict and not moved by .to(); register_buffer() fixes both",
            subject=tensor.module,
        ))  # fmt: skip
    found += _derived_findings(snapshot)
    if snapshot.forward.ran:
        for block in snapshot.blocks:
            if block.calls == 0 and block.path and block.weights_used_by is not None:
                if not block.buffer_names and _holds_packed_only(snapshot, block.parameter_names):
                    continue  # LinearPackedParams: storage the quantized op reads, by design
                user = snapshot.block_by_path.get(block.weights_used_by)
                by = f"{user.path or '(root)'} ({user.type})" if user else "(root)"
                found.append(Finding(
                    "info", "weights-used-without-call",
                    f"block {block.path} ({block.type}) is never called, but its weights are: "
                    f"the forward of {by} passes them to a functional op directly, so hooks on "
                    f"{block.path} (forward hooks, LoRA-style wrappers) never run",
                    subject=block.path, location=block.source,
                ))  # fmt: skip
            elif block.calls == 0 and block.path:
                found.append(Finding(
                    "info", "unused-block",
                    f"block {block.path} ({block.type}) was never called by the example forward",
                    subject=block.path, location=block.source,
                ))  # fmt: skip
    else:
        found.append(_forward_missing(snapshot))
    found += _checkpoint_findings(snapshot)
    return tuple(found)


_DERIVED_UNDO = {
    "pruning": "prune.remove(module, '{a}') makes it a plain parameter again",
    "parametrization": "parametrize.remove_parametrizations(module, '{a}') bakes it into a plain "
    "parameter",
    "weight_norm": "torch.nn.utils.parametrizations.weight_norm is the current form of this "
    "deprecated hook",
    "spectral_norm": "torch.nn.utils.parametrizations.spectral_norm is the current form of this "
    "hook",
}


def _holds_packed_only(snapshot: Snapshot, names: tuple[str, ...]) -> bool:
    """Only packed weights (or, with no tensors, a packed object a quantized LSTM reads)."""
    infos = [snapshot.tensor_by_name.get(name) for name in names]
    return all(i is not None and i.role == "packed" for i in infos)


def _derived_findings(snapshot: Snapshot) -> list[Finding]:
    """Pruned and parametrized tensors: what computes them, what state_dict saves."""
    out = []
    for item in snapshot.derived:
        sources = ", ".join(item.sources)
        if item.kind == "pruning":
            mask = snapshot.tensor_by_name.get(item.sources[-1])
            zeros = mask.stats.zero_fraction if mask is not None and mask.stats else None
            share = f"; {zeros:.1%} of it is pruned to zero" if zeros is not None else ""
            what = (
                f"{item.name} is pruned by torch.nn.utils.prune ({item.method}): the forward uses "
                f"{item.how}, recomputed before every call{share}. It is not an unregistered "
                f"tensor: state_dict saves {sources}"
            )
        elif item.kind == "parametrization":
            what = (
                f"{item.name} is a parametrization (torch.nn.utils.parametrize, {item.method}): "
                f"computed from {sources} on every access; state_dict saves those"
            )
        else:
            what = (
                f"{item.name} is computed by torch.nn.utils.{item.kind} before every forward: "
                f"{item.how}; state_dict saves {sources}"
            )
        undo = _DERIVED_UNDO[item.kind].format(a=item.attribute)
        code = "pruned-tensor" if item.kind == "pruning" else "parametrized-tensor"
        out.append(Finding("info", code, f"{what}. {undo}", subject=item.name))
    return out


def _nonfinite_values(info: ParamInfo, label: str) -> list[Finding]:
    if not info.has_nonfinite or info.stats is None:
        return []
    message = f"{label} holds {info.stats.nan} NaN and {info.stats.inf} Inf values"
    return [Finding("error", "nonfinite-values", message, subject=info.name)]


def _forward_missing(snapshot: Snapshot) -> Finding:
    """No example input at all, or one the meta device could not run (value-dependent code)."""
    if snapshot.forward.note.startswith(META_FORWARD_FAILED):
        return Finding("warning", "meta-forward-failed", snapshot.forward.note)
    return Finding("info", "no-example-input", snapshot.forward.note)


def _checkpoint_findings(snapshot: Snapshot) -> list[Finding]:
    diff = snapshot.checkpoint
    if diff is None:
        return []
    out = []
    for label, keys in (("missing from", diff.missing), ("unexpected in", diff.unexpected)):
        if keys:
            shown = ", ".join(keys[:5]) + (" ..." if len(keys) > 5 else "")
            out.append(Finding(
                "warning", f"checkpoint-{label.split()[0]}",
                f"{len(keys)} key(s) {label} {diff.path}: {shown}",
            ))  # fmt: skip
    for mismatch in diff.mismatched:
        out.append(Finding(
            "warning", f"checkpoint-{mismatch.kind}-mismatch",
            f"{mismatch.key}: model {mismatch.model_shape} {mismatch.model_dtype}, checkpoint "
            f"{mismatch.checkpoint_shape} {mismatch.checkpoint_dtype}",
            subject=mismatch.key,
        ))  # fmt: skip
    return out
