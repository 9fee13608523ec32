"""The checkpoint format, and loading a checkpoint (saving: :mod:`musclepose.training.checkpoint`).

A checkpoint is a folder: ``config.json`` + ``<part>.safetensors`` per module (Hugging Face's
``save_pretrained`` convention, no pickle). ``config.json`` holds ``format`` and ``version``; per
part, the module and config classes and the config's fields (each part an ``nn.Module`` built
from a config dataclass, nanoGPT style); ``labels``, the label lists of the classification heads
(:mod:`.labels`); and any JSON-able ``extra`` (training step, data, command line). Only classes
under :data:`ALLOWED_MODULES` are instantiated when loading, never an arbitrary import path.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from .labels import LabelMap

__all__ = ["ALLOWED_MODULES", "FORMAT", "VERSION", "checkpoint_labels", "load_checkpoint", "read_config"]

FORMAT = "musclepose.checkpoint"
VERSION = 1
ALLOWED_MODULES = ("musclepose.models.",)


def _resolve(path: str) -> type:
    if not path.startswith(ALLOWED_MODULES):
        raise ValueError(f"checkpoint names {path!r}, outside {ALLOWED_MODULES}: refused")
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def read_config(folder: str | Path) -> dict[str, Any]:
    """The parsed ``config.json`` of the checkpoint ``folder`` (format checked)."""
    folder = Path(folder)
    cfg_path = folder / "config.json"
    if not cfg_path.is_file():
        raise FileNotFoundError(f"{folder}: not a checkpoint (no config.json)")
    meta = json.loads(cfg_path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError(f"{cfg_path}: format {meta.get('format')!r}, expected {FORMAT!r}")
    return meta


def load_checkpoint(folder: str | Path, map_location: str | torch.device = "cpu"):
    """``(parts, extra)``: the modules rebuilt from their configs with their weights, and ``extra``."""
    folder = Path(folder)
    meta = read_config(folder)
    parts = {}
    for name, info in meta["parts"].items():
        config = _resolve(info["config_class"])(**info["config"])
        module = _resolve(info["module"])(config)
        weights = folder / f"{name}.safetensors"
        if not weights.is_file():
            raise FileNotFoundError(f"{folder}: part {name!r} has no {weights.name}")
        module.load_state_dict(load_file(weights, device=str(map_location)))
        parts[name] = module
    return parts, meta.get("extra", {})


def checkpoint_labels(folder: str | Path) -> LabelMap:
    """The label lists of the checkpoint ``folder`` (:meth:`.labels.LabelMap.from_config`), unchecked."""
    return LabelMap.from_config(read_config(folder), Path(folder))
