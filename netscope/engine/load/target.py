"""``load_target``: turn what the user named (model file or checkpoint) into live objects."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from netscope.engine.errors import NetscopeError, display_path
from netscope.engine.load import example as examples
from netscope.engine.load import hf
from netscope.engine.load.device import resolve_device
from netscope.engine.load.dtype import cast_model, cast_value
from netscope.engine.load.loaded import ExampleInput, LoadedTarget
from netscope.engine.load.modelfile import (
    build_from_file,
    import_model_file,
    loss_function,
    optional_function,
    split_target,
)
from netscope.engine.load.reader import read_checkpoint
from netscope.engine.load.weights import apply_weights
from netscope.engine.options import LoadOptions

Progress = Callable[[str], None] | None


def _say(progress: Progress, stage: str) -> None:
    if progress is not None:
        progress(stage)


def is_model_file(target: str) -> bool:
    return split_target(target)[0].endswith(".py")


def lazy_tensor_names(model: nn.Module) -> frozenset[str]:
    """Names of uninitialized (lazy) parameters and buffers (a LazyBatchNorm's running stats are
    ``UninitializedBuffer``); the names are built only when one exists."""
    held = (
        t
        for m in model.modules()
        for t in (*m._parameters.values(), *m._buffers.values())
        if t is not None
    )
    if not any(is_lazy(t) for t in held):
        return frozenset()
    named = (
        *model.named_parameters(remove_duplicate=False),
        *model.named_buffers(remove_duplicate=False),
    )
    return frozenset(n for n, t in named if is_lazy(t))


def _place(model: nn.Module, device: torch.device, path: str) -> nn.Module:
    """Move the model to an explicitly requested device (cpu: leave the user's placement)."""
    if device.type == "cpu":
        return model
    tensors = [*model.parameters(), *model.buffers()]
    if all(t.device == device for t in tensors):
        return model
    try:
        return model.to(device)
    except Exception as exc:
        raise NetscopeError(
            f"moving the model from {display_path(path)} to {device} failed: "
            f"{type(exc).__name__}: {exc}",
            path=path,
        ) from exc


def load_target(options: LoadOptions, progress: Progress = None) -> LoadedTarget:
    """Import and build the model (or read the checkpoint) named by ``options.target``."""
    device = resolve_device(options.device)
    if not is_model_file(options.target):
        return _load_checkpoint_alone(options, device, progress)
    path, name = split_target(options.target)
    _say(progress, "importing model file")
    module = import_model_file(path)
    _say(progress, "building")
    model, source = build_from_file(module, path, name, device)
    model = cast_model(_place(model, device, path), options.dtype)
    loaded = LoadedTarget(
        options=options,
        path=path,
        model=model,
        loss_fn=loss_function(module, path),
        step_fn=optional_function(module, "step"),
        optimizer_fn=optional_function(module, "optimizer"),
        shard_units_fn=optional_function(module, "shard_units"),
        tp_plan_fn=optional_function(module, "tp_plan"),
        source=source,
        lazy_at_build=lazy_tensor_names(model),
    )
    example_fn = optional_function(module, "example_input")
    if options.input_shape is not None:
        loaded.example_input = examples.synthesize(options.input_shape, options.input_dtype)
    elif example_fn is not None:
        loaded.example_input = examples.from_function(example_fn, path)
    if loaded.example_input is not None:
        loaded.example_input = cast_input(loaded.example_input.to(device), options.dtype)
    if options.weights:
        _say(progress, "loading weights")
        checkpoint = read_checkpoint(
            options.weights, trust_pickle=options.trust_pickle, values=device.type != "meta"
        )
        loaded.state_dict = checkpoint.tensors
        loaded.checkpoint_diff = apply_weights(model, checkpoint, load=device.type != "meta")
    return loaded


def _example(options: LoadOptions, device: torch.device) -> ExampleInput | None:
    if options.input_shape is None:
        return None
    example = examples.synthesize(options.input_shape, options.input_dtype).to(device)
    return cast_input(example, options.dtype)


def cast_input(example: ExampleInput, dtype: str | None) -> ExampleInput:
    """The example's floating tensors in ``--dtype`` (the model's parameters are cast too)."""
    if dtype is None:
        return example
    return replace(
        example, args=cast_value(example.args, dtype), kwargs=cast_value(example.kwargs, dtype)
    )


def _load_checkpoint_alone(
    options: LoadOptions, device: torch.device, progress: Progress
) -> LoadedTarget:
    notes: tuple[str, ...] = ()
    folder = hf.config_folder(options.target)
    if folder is not None:
        loaded, why = _load_from_config(options, folder, device, progress)
        if loaded is not None:
            return loaded
        notes = (why,)
    _say(progress, "reading checkpoint")
    checkpoint = read_checkpoint(
        options.target, trust_pickle=options.trust_pickle, max_value_bytes=options.stats_limit
    )
    if checkpoint.module is not None:  # a whole pickled module, opened with --trust-pickle
        model = cast_model(_place(checkpoint.module, device, options.target), options.dtype)
        scripted = checkpoint.format == "torchscript"  # takes no Python hooks: no forward
        return LoadedTarget(
            options,
            options.target,
            model,
            example_input=None if scripted else _example(options, device),
            lazy_at_build=lazy_tensor_names(model),
            checkpoint_notes=checkpoint.notes,
        )
    label = hf.adapter_label(checkpoint.adapter) if checkpoint.adapter is not None else ""
    return LoadedTarget(
        options,
        options.target,
        None,
        state_dict=checkpoint.tensors,
        checkpoint_label=label,
        checkpoint_notes=(*checkpoint.notes, *notes),
    )


def _load_from_config(
    options: LoadOptions, folder: str, device: torch.device, progress: Progress
) -> tuple[LoadedTarget | None, str]:
    """A save_pretrained folder with config.json: the model built by transformers, weights diffed.

    Without a forward to run (no --input-shape) the model is built on meta and only the
    checkpoint's headers are read; with one, it is built on ``device`` and the weights loaded.
    """
    build_on = device if options.input_shape is not None else torch.device("meta")
    _say(progress, "building from config.json")
    model, why = hf.model_from_config(folder, build_on)
    if model is None:
        return None, why
    model = cast_model(model, options.dtype)
    with_values = build_on.type != "meta"
    _say(progress, "reading checkpoint")
    checkpoint = read_checkpoint(
        options.target, trust_pickle=options.trust_pickle, values=with_values
    )
    loaded = LoadedTarget(
        options,
        options.target,
        model,
        example_input=_example(options, build_on),
        source=display_path(os.path.join(folder, "config.json")),
        lazy_at_build=lazy_tensor_names(model),
        checkpoint_notes=checkpoint.notes,
    )
    loaded.checkpoint_diff = apply_weights(model, checkpoint, load=with_values)
    return loaded, ""
