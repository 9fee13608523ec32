"""Saving a checkpoint folder, atomically (the format and loading: :mod:`musclepose.pipelines.checkpoint`).

The folder is written under a temporary name and renamed into place, so an interrupted save
leaves the previous checkpoint intact.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from ..pipelines.checkpoint import FORMAT, VERSION
from ..pipelines.labels import LabelMap

__all__ = ["save_checkpoint"]


def save_checkpoint(
    folder: str | Path,
    parts: dict[str, torch.nn.Module],
    extra: dict[str, Any] | None = None,
    labels: LabelMap | None = None,
) -> Path:
    """Write ``parts`` (each with a dataclass ``.config``), ``labels`` (the label lists of their
    heads, if any) and ``extra`` to ``folder``; returns it."""
    folder = Path(folder)
    meta: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    if labels is not None:
        meta["labels"] = labels.to_json()
    meta |= {"parts": {}, "extra": extra or {}}
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
