"""The checkpoint format, and loading a checkpoint (saving: :mod:`musclepose.training.checkpoint`).

A checkpoint is a folder: ``config.json`` + ``<part>.safetensors`` per module (Hugging Face's
``save_pretrained`` convention, no pickle). ``config.json`` holds ``format`` and ``version``; per
part, the module and config classes and the config's fields (each part an ``nn.Module`` built
from a config dataclass, nanoGPT style); ``labels``, the label lists of the classification heads
(:mod:`.labels`); and any JSON-able ``extra`` (training step, data, command line). Loading trusts
nothing in the folder: only classes under :data:`ALLOWED_MODULES` are instantiated, part names
are plain file names inside the folder, sizes are checked against the safetensors headers before
allocating, and NaN or infinite weights are refused.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file

from ..io.errors import FormatError
from .labels import LabelMap

__all__ = [
    "ALLOWED_MODULES",
    "FORMAT",
    "VERSION",
    "check_adapter",
    "check_finite",
    "checkpoint_labels",
    "is_checkpoint_folder",
    "load_checkpoint",
    "read_config",
    "safetensors_shapes",
    "weights_path",
]

FORMAT = "musclepose.checkpoint"
VERSION = 1
ALLOWED_MODULES = ("musclepose.models.",)
MAX_CONFIG_BYTES = 16 * 2**20
_PART_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


def _resolve(path: str) -> type:
    if not path.startswith(ALLOWED_MODULES):
        raise ValueError(f"checkpoint names {path!r}, outside {ALLOWED_MODULES}: refused")
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def read_config(folder: str | Path) -> dict[str, Any]:
    """The parsed ``config.json`` of the checkpoint ``folder`` (format and layout checked)."""
    folder = Path(folder)
    cfg_path = folder / "config.json"
    if not cfg_path.is_file():
        raise FileNotFoundError(f"{folder}: not a checkpoint (no config.json)")
    if cfg_path.stat().st_size > MAX_CONFIG_BYTES:
        raise FormatError(cfg_path, f"larger than {MAX_CONFIG_BYTES // 2**20} MiB: not a checkpoint config")
    try:
        meta = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise FormatError(cfg_path, f"not valid JSON ({err})") from None
    if not isinstance(meta, dict):
        raise FormatError(cfg_path, "must be a JSON object")
    if meta.get("format") != FORMAT:
        raise FormatError(cfg_path, f"format {meta.get('format')!r}, expected {FORMAT!r}", field="format")
    parts = meta.get("parts", {})
    if not isinstance(parts, dict) or not all(isinstance(v, dict) for v in parts.values()):
        raise FormatError(cfg_path, "must map part names to objects", field="parts")
    for name, info in parts.items():
        weights_path(folder, name)
        for key in ("module", "config_class", "config"):
            if key not in info:
                raise FormatError(cfg_path, "missing", field=f"parts.{name}.{key}")
        if not isinstance(info["config"], dict):
            raise FormatError(cfg_path, "must be an object", field=f"parts.{name}.config")
    return meta


def weights_path(folder: str | Path, name: str) -> Path:
    """``<folder>/<name>.safetensors``, refusing a part name that is not a plain name (``../victim``,
    an absolute path) or a file that resolves outside the folder (a symbolic link)."""
    folder = Path(folder)
    if not isinstance(name, str) or not _PART_NAME.match(name) or ".." in name:
        raise FormatError(folder / "config.json", f"part name {name!r} is not a plain name: refused", field="parts")
    path = folder / f"{name}.safetensors"
    if not path.resolve().is_relative_to(folder.resolve()):
        raise FormatError(path, "points outside the checkpoint folder: refused")
    return path


def safetensors_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape from a ``.safetensors`` header (nothing else is read)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118 - not a dict
    except Exception as err:  # safetensors raises its own error types for a corrupt header
        raise FormatError(path, f"not a readable safetensors file ({err})") from None


def check_finite(state: dict[str, torch.Tensor], path: Path) -> None:
    """Raise :class:`FormatError` naming the first tensor of ``state`` that holds NaN or infinity."""
    for key, t in state.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise FormatError(path, "holds NaN or infinite weights: the checkpoint is damaged", field=key)


def _check_sizes(cls: type, config: Any, weights: Path, name: str) -> None:
    """The module ``cls(config)`` would have exactly the tensors of ``weights``' header: checked on
    PyTorch's meta device (no memory), so that a tampered size fails before allocating anything."""
    found = safetensors_shapes(weights)
    largest = max((d for shape in found.values() for d in shape), default=1)
    for field_name, value in dataclasses.asdict(config).items():
        # A layer count or width far beyond every tensor in the file would only make construction hang.
        if isinstance(value, int) and not isinstance(value, bool) and value > max(100_000, 10 * largest):
            where = f"parts.{name}.config.{field_name}"
            msg = f"{value} is implausible for this part's weights (largest tensor dimension {largest})"
            raise FormatError(weights.with_name("config.json"), msg, field=where)
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in cls(config).state_dict().items()}
    missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    if missing or extra:
        raise FormatError(
            weights, f"does not fit part {name!r}'s config: missing {missing[:3]}, unexpected {extra[:3]}"
        )
    for k, shape in expected.items():
        if found[k] != shape:
            raise FormatError(weights, f"shape {found[k]} where the config says {shape}", field=k)


def load_checkpoint(folder: str | Path, map_location: str | torch.device = "cpu"):
    """``(parts, extra)``: the modules rebuilt from their configs with their weights, and ``extra``.

    Part files stay inside ``folder``; sizes in ``config.json`` are checked against the
    safetensors headers before anything is allocated; NaN or infinite weights are refused
    (each a :class:`~musclepose.io.errors.FormatError` naming the file and the field)."""
    folder = Path(folder)
    meta = read_config(folder)
    cfg_path = folder / "config.json"
    parts = {}
    for name, info in meta["parts"].items():
        weights = weights_path(folder, name)
        config_cls, module_cls = _resolve(info["config_class"]), _resolve(info["module"])
        try:
            config = config_cls(**info["config"])
        except (TypeError, ValueError) as err:
            raise FormatError(
                cfg_path, f"does not fit {config_cls.__name__}: {err}", field=f"parts.{name}.config"
            ) from None
        if not weights.is_file():
            raise FileNotFoundError(f"{folder}: part {name!r} has no {weights.name}")
        _check_sizes(module_cls, config, weights, name)
        module = module_cls(config)
        state = load_file(weights, device=str(map_location))
        check_finite(state, weights)
        module.load_state_dict(state)
        parts[name] = module
    extra = meta.get("extra", {})
    return parts, extra if isinstance(extra, dict) else {}


def check_adapter(folder: str | Path) -> Path:
    """Check the LoRA adapter of checkpoint ``folder`` before peft reads it; returns ``<folder>/adapter``.

    It must be a real folder inside the checkpoint, its rank ``r`` must match the safetensors
    header's LoRA shapes (a tampered rank would allocate before failing), and its weights must be
    finite. Raises ``FileNotFoundError`` or :class:`~musclepose.io.errors.FormatError`."""
    folder = Path(folder)
    adapter = folder / "adapter"
    if not adapter.is_dir():
        raise FileNotFoundError(f"{folder}: coach checkpoint has no LoRA adapter folder 'adapter'")
    weights, cfg_path = adapter / "adapter_model.safetensors", adapter / "adapter_config.json"
    for p in (adapter, weights, cfg_path):
        if not p.resolve().is_relative_to(folder.resolve()):
            raise FormatError(p, "points outside the checkpoint folder: refused")
        if p is not adapter and not p.is_file():
            raise FileNotFoundError(f"{adapter}: no {p.name}")
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        r = cfg["r"]
    except (ValueError, UnicodeDecodeError, KeyError, TypeError) as err:
        raise FormatError(cfg_path, f"not a LoRA adapter config ({err})") from None
    if not isinstance(r, int) or not 1 <= r <= 4096:
        raise FormatError(cfg_path, f"rank {r!r} is not a LoRA rank (1-4096)", field="r")
    for key, shape in safetensors_shapes(weights).items():
        rank = shape[0] if "lora_A" in key else shape[-1] if "lora_B" in key else r
        if len(shape) != 2 or rank != r:
            raise FormatError(weights, f"shape {shape} does not fit rank {r} of {cfg_path.name}", field=key)
    check_finite(load_file(weights), weights)
    return adapter


def is_checkpoint_folder(folder: Path) -> bool:
    """Whether ``folder`` holds only what a checkpoint writer wrote (for folders written before
    manifests, :func:`musclepose.atomic.check_replaceable_dir`): a ``config.json`` of this format
    and nothing but the parts, adapter, form screen, history and train state."""
    try:
        if json.loads((folder / "config.json").read_text(encoding="utf-8")).get("format") != FORMAT:
            return False
    except (OSError, ValueError, AttributeError):
        return False
    known = {"config.json", "adapter", "train_state", "form_screen.json", "form_screen_video.json", "history.json",
             ".adapter.tmp", ".train_state.tmp"}  # fmt: skip
    return all(p.name in known or p.suffix == ".safetensors" for p in folder.iterdir())


def checkpoint_labels(folder: str | Path) -> LabelMap:
    """The label lists of the checkpoint ``folder`` (:meth:`.labels.LabelMap.from_config`), unchecked."""
    return LabelMap.from_config(read_config(folder), Path(folder))
