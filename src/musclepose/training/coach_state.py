"""The coach's checkpoint while it trains: learning-rate schedule, optimiser state, save, export.

A coach checkpoint folder (:mod:`musclepose.pipelines.checkpoint`) holds ``encoder`` and
``bridge`` safetensors, the LoRA adapter (``adapter/``, peft's safetensors), ``form_screen.json``
and ``train_state/`` (optimiser and schedule state, safetensors + JSON) so that ``musclepose train
coach`` resumes after being killed. :func:`export_coach` writes the shipped form: float16 weights,
no train state.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ..pipelines.checkpoint import checkpoint_labels, load_checkpoint
from ..pipelines.labels import LabelMap
from .checkpoint import save_checkpoint

__all__ = ["cosine_lr", "export_coach", "load_optimizer", "save_coach", "save_optimizer"]


def cosine_lr(step: int, total: int, lr: float, floor: float = 1e-6, warmup: int = 0) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay from ``lr`` to ``floor`` at ``total``."""
    if warmup and step < warmup:
        return lr * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return floor + 0.5 * (lr - floor) * (1.0 + math.cos(math.pi * p))


def save_optimizer(opt: torch.optim.Optimizer, folder: Path, name: str) -> None:
    """``opt``'s state as ``<name>.safetensors`` (tensors) + ``<name>.json`` (the rest) in ``folder``."""
    sd = opt.state_dict()
    tensors, meta = {}, {"param_groups": sd["param_groups"], "state": {}}
    for pid, st in sd["state"].items():
        meta["state"][str(pid)] = {}
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"{pid}.{k}"] = v.detach().contiguous().cpu()
            else:
                meta["state"][str(pid)][k] = v
    save_file(tensors, folder / f"{name}.safetensors")
    (folder / f"{name}.json").write_text(json.dumps(meta))


def load_optimizer(opt: torch.optim.Optimizer, folder: Path, name: str) -> None:
    """Restore what :func:`save_optimizer` wrote into ``opt``."""
    meta = json.loads((folder / f"{name}.json").read_text())
    tensors = load_file(folder / f"{name}.safetensors")
    state: dict[int, dict[str, Any]] = {int(p): dict(v) for p, v in meta["state"].items()}
    for key, v in tensors.items():
        pid, _, k = key.partition(".")
        state.setdefault(int(pid), {})[k] = v
    opt.load_state_dict({"param_groups": meta["param_groups"], "state": state})


def save_coach(
    folder: Path, encoder, bridge, llm, extra: dict[str, Any], train_state: dict | None = None,
    labels: LabelMap | None = None,
) -> None:  # fmt: skip
    """Write the coach checkpoint folder atomically (encoder, bridge, LoRA adapter, train state);
    ``labels``: the label lists of the encoder's heads (default: the code's, :meth:`LabelMap.current`)."""
    parts = {"encoder": encoder}
    if bridge is not None:
        parts["bridge"] = bridge
    screen = folder / "form_screen.json"
    kept = screen.read_text() if screen.is_file() else None
    save_checkpoint(folder, parts, extra, labels if labels is not None else LabelMap.current())
    if kept is not None:
        (folder / "form_screen.json").write_text(kept)
    # The adapter and train state go into the renamed folder; a crash between the two leaves
    # a checkpoint without them, which resume treats as "stage not reached".
    if llm is not None and hasattr(llm.model, "save_pretrained"):
        tmp = folder / ".adapter.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        llm.model.save_pretrained(tmp, safe_serialization=True)
        os.replace(tmp, folder / "adapter")
    if train_state is not None:
        tmp = folder / ".train_state.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for name, opt in train_state.pop("optimizers").items():
            save_optimizer(opt, tmp, name)
        (tmp / "state.json").write_text(json.dumps(train_state))
        os.replace(tmp, folder / "train_state")


def export_coach(src: str | Path, dst: str | Path) -> Path:
    """Copy a trained coach checkpoint for shipping: encoder, bridge and LoRA adapter in float16,
    its label lists, without the train state (about half the size; the loader casts back to float32)."""
    from peft import PeftConfig  # heavy, optional until a coach is exported

    src, dst = Path(src), Path(dst)
    parts, extra = load_checkpoint(src)
    if "bridge" not in parts or not (src / "adapter" / "adapter_model.safetensors").is_file():
        raise ValueError(f"{src}: not a complete coach checkpoint (needs encoder, bridge and adapter)")
    labels = checkpoint_labels(src)
    PeftConfig.from_pretrained(src / "adapter")  # validates the adapter config
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.", dir=dst.parent))
    try:
        save_checkpoint(tmp / "ckpt", {k: m.half() for k, m in parts.items()}, extra | {"history": []}, labels)
        (tmp / "ckpt" / "adapter").mkdir()
        weights = load_file(src / "adapter" / "adapter_model.safetensors")
        save_file({k: v.half() for k, v in weights.items()}, tmp / "ckpt" / "adapter" / "adapter_model.safetensors")
        shutil.copy(src / "adapter" / "adapter_config.json", tmp / "ckpt" / "adapter" / "adapter_config.json")
        if (src / "form_screen.json").is_file():
            shutil.copy(src / "form_screen.json", tmp / "ckpt" / "form_screen.json")
        history = extra.get("history", [])
        (tmp / "ckpt" / "history.json").write_text(json.dumps(history, indent=1) + "\n")
        if dst.exists():
            shutil.rmtree(dst)
        os.replace(tmp / "ckpt", dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for p in [dst, *dst.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst
