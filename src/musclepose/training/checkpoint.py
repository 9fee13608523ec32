"""Saving a checkpoint folder, atomically (the format and loading: :mod:`musclepose.pipelines.checkpoint`).

The folder is built under a temporary name and renamed into place
(:func:`musclepose.atomic.atomic_dir`), so an interrupted save leaves the previous checkpoint
intact. An existing folder is replaced only if MusclePose wrote it (its manifest lists every
file in it, or, for folders written before manifests, it holds nothing but checkpoint files:
:func:`~musclepose.pipelines.checkpoint.is_checkpoint_folder`); anything else is refused
unless ``overwrite=True``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from ..atomic import atomic_dir
from ..pipelines.checkpoint import FORMAT, VERSION, is_checkpoint_folder
from ..pipelines.labels import LabelMap

__all__ = ["save_checkpoint", "write_checkpoint_files"]


def write_checkpoint_files(
    folder: Path, parts: dict[str, torch.nn.Module], extra: dict[str, Any] | None = None, labels: LabelMap | None = None
) -> None:
    """Write ``config.json`` and one ``<part>.safetensors`` per module into the existing ``folder``."""
    meta: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    if labels is not None:
        meta["labels"] = labels.to_json()
    meta |= {"parts": {}, "extra": extra or {}}
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
        save_file(state, folder / f"{name}.safetensors")
    (folder / "config.json").write_text(json.dumps(meta, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def save_checkpoint(
    folder: str | Path,
    parts: dict[str, torch.nn.Module],
    extra: dict[str, Any] | None = None,
    labels: LabelMap | None = None,
    *,
    overwrite: bool = False,
    also: Callable[[Path], None] | None = None,
) -> Path:
    """Write ``parts`` (each with a dataclass ``.config``), ``labels`` (the label lists of their
    heads, if any) and ``extra`` to ``folder``, atomically; returns it.

    ``also(tmp)`` writes more files into the folder before it is renamed into place (the
    coach's adapter and train state). ``overwrite``: replace a folder that holds files
    MusclePose did not write (otherwise :class:`~musclepose.atomic.ForeignFolderError`)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with atomic_dir(folder, overwrite=overwrite, legacy=is_checkpoint_folder) as tmp:
        write_checkpoint_files(tmp, parts, extra, labels)
        if also is not None:
            also(tmp)
    return folder
