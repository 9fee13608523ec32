"""Checkpoints as folders: ``config.json`` + ``<part>.safetensors`` per module, written atomically.

A checkpoint holds several named parts (e.g. ``encoder``, ``bridge``), each an ``nn.Module``
built from a config dataclass (nanoGPT style). ``config.json`` records, per part, the config
class and its fields, plus any JSON-able ``extra`` (training step, data, command line), so a
checkpoint fully describes itself and loads without pickle (safetensors only; Hugging Face's
``save_pretrained``/``from_pretrained`` convention). The folder is written under a temporary
name and renamed into place, so an interrupted save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

__all__ = ["load_checkpoint", "save_checkpoint"]

FORMAT = "musclepose.checkpoint"
VERSION = 1
# Config classes a checkpoint may name: only these are instantiated when loading (never an
# arbitrary import path from a file).
_ALLOWED_MODULES = ("musclepose.models.",)


def save_checkpoint(folder: str | Path, parts: dict[str, torch.nn.Module], extra: dict[str, Any] | None = None) -> Path:
    """Write ``parts`` (each with a dataclass ``.config``) and ``extra`` to ``folder``; returns it."""
    folder = Path(folder)
    meta: dict[str, Any] = {"format": FORMAT, "version": VERSION, "parts": {}, "extra": extra or {}}
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name, module in parts.items():
            config = getattr(module, "config", None)
            if not dataclasses.is_dataclass(config):
                raise ValueError(f"part {name!r}: module has no dataclass .config")
            cls = type(config)
            meta["parts"][name] = {
                "module": f"{type(module).__module__}.{type(module).__qualname__}",
                "config_class": f"{cls.__module__}.{cls.__qualname__}",
                "config": dataclasses.asdict(config),
            }
            state = {k: v.detach().contiguous().cpu() for k, v in module.state_dict().items()}
            save_file(state, tmp / f"{name}.safetensors")
        (tmp / "config.json").write_text(json.dumps(meta, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _resolve(path: str) -> type:
    if not path.startswith(_ALLOWED_MODULES):
        raise ValueError(f"checkpoint names {path!r}, outside {_ALLOWED_MODULES}: refused")
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def load_checkpoint(folder: str | Path, map_location: str | torch.device = "cpu"):
    """``(parts, extra)``: the modules rebuilt from their configs with their weights, and ``extra``."""
    folder = Path(folder)
    cfg_path = folder / "config.json"
    if not cfg_path.is_file():
        raise FileNotFoundError(f"{folder}: not a checkpoint (no config.json)")
    meta = json.loads(cfg_path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError(f"{cfg_path}: format {meta.get('format')!r}, expected {FORMAT!r}")
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
