"""The coach's checkpoint while it trains: learning-rate schedule, optimiser state, save, export.

A coach checkpoint folder (:mod:`musclepose.pipelines.checkpoint`) holds ``encoder`` and
``bridge`` safetensors, the LoRA adapter (``adapter/``, peft's safetensors), ``form_screen.json``
and ``train_state/`` (optimiser and schedule state, the data position and every RNG state,
safetensors + JSON) so that ``musclepose train coach`` resumes after being killed and ends with
the weights an uninterrupted run would have. :func:`export_coach` writes the shipped form:
float16 weights, no train state. Both replace only a folder MusclePose wrote.
"""

from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ..atomic import check_no_overlap, check_replaceable_dir
from ..pipelines.checkpoint import check_adapter, checkpoint_labels, is_checkpoint_folder, load_checkpoint
from ..pipelines.form_screen import VIDEO_FLOORS_FILE
from ..pipelines.labels import LabelMap
from .checkpoint import save_checkpoint

SCREEN_FILES = ("form_screen.json", VIDEO_FLOORS_FILE)  # beside the weights, fitted apart from them

__all__ = [
    "cosine_lr",
    "guarded_step",
    "export_coach",
    "load_optimizer",
    "restore_rng",
    "rng_state",
    "save_coach",
    "save_optimizer",
]


def cosine_lr(step: int, total: int, lr: float, floor: float = 1e-6, warmup: int = 0) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay from ``lr`` to ``floor`` at ``total``."""
    if warmup and step < warmup:
        return lr * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return floor + 0.5 * (lr - floor) * (1.0 + math.cos(math.pi * p))


def guarded_step(loss: torch.Tensor, params: Any, opt: torch.optim.Optimizer, max_norm: float = 1.0) -> bool:
    """One optimiser step on ``loss``, gradients clipped to ``max_norm``; a non-finite loss is
    skipped, never applied (returns False)."""
    opt.zero_grad(set_to_none=True)
    if not torch.isfinite(loss):
        return False
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    opt.step()
    return True


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


def rng_state(gen: torch.Generator | None = None, np_rng: np.random.Generator | None = None) -> dict[str, Any]:
    """Every random state a resumed run needs to continue as if it had never stopped, as JSON:
    torch's (and CUDA's), Python's, NumPy's global one, the keypoint-dropout generator ``gen``
    and the LM stage's ``np_rng`` (which phrasing the target text takes)."""
    out: dict[str, Any] = {
        "torch": torch.get_rng_state().tolist(),
        "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
        "numpy_global": _np_global_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = [s.tolist() for s in torch.cuda.get_rng_state_all()]
    if gen is not None:
        out["generator"] = gen.get_state().tolist()
    if np_rng is not None:
        out["numpy"] = np_rng.bit_generator.state
    return out


def _np_global_state() -> list:
    # NumPy's legacy global state: not ours, but libraries we call may draw from it.
    name, keys, pos, has_gauss, gauss = np.random.get_state()  # noqa: NPY002
    return [name, keys.tolist(), int(pos), int(has_gauss), float(gauss)]


def restore_rng(
    state: dict[str, Any] | None, gen: torch.Generator | None = None, np_rng: np.random.Generator | None = None
) -> None:
    """Put back what :func:`rng_state` recorded (absent keys are left alone)."""
    if not state:
        return
    torch.set_rng_state(torch.tensor(state["torch"], dtype=torch.uint8))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, gauss_np = state["numpy_global"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss_np))  # noqa: NPY002
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([torch.tensor(s, dtype=torch.uint8) for s in state["cuda"]])
    if gen is not None and "generator" in state:
        gen.set_state(torch.tensor(state["generator"], dtype=torch.uint8))
    if np_rng is not None and "numpy" in state:
        np_rng.bit_generator.state = state["numpy"]


def save_coach(
    folder: Path, encoder, bridge, llm, extra: dict[str, Any], train_state: dict | None = None,
    labels: LabelMap | None = None, overwrite: bool = False,
) -> None:  # fmt: skip
    """Write the coach checkpoint folder atomically: encoder, bridge, LoRA adapter, the form screen
    already there, train state (optimisers, schedule position, RNG states), all renamed into place
    at once; ``labels``: the label lists of the encoder's heads (default: the code's,
    :meth:`LabelMap.current`). ``overwrite``: replace a folder holding files MusclePose did not write."""
    parts = {"encoder": encoder}
    if bridge is not None:
        parts["bridge"] = bridge
    # The form screen and its video floors are fitted apart from the networks: kept as they are.
    kept = {n: (folder / n).read_text() for n in SCREEN_FILES if (folder / n).is_file()}
    train_state = dict(train_state) if train_state is not None else None

    def rest(tmp: Path) -> None:
        for name, text in kept.items():
            (tmp / name).write_text(text)
        if llm is not None and hasattr(llm.model, "save_pretrained"):
            llm.model.save_pretrained(tmp / "adapter", safe_serialization=True)
        if train_state is not None:
            (tmp / "train_state").mkdir()
            for name, opt in train_state.pop("optimizers").items():
                save_optimizer(opt, tmp / "train_state", name)
            (tmp / "train_state" / "state.json").write_text(json.dumps(train_state))

    save_checkpoint(folder, parts, extra, labels if labels is not None else LabelMap.current(), overwrite=overwrite,
                    also=rest)  # fmt: skip


def export_coach(src: str | Path, dst: str | Path, overwrite: bool = False) -> Path:
    """Copy a trained coach checkpoint for shipping: encoder, bridge and LoRA adapter in float16,
    its label lists, without the train state (about half the size; the loader casts back to float32).

    ``dst`` may not be ``src``, hold it or lie in it; an existing ``dst`` is replaced only if
    MusclePose wrote it, unless ``overwrite`` (:func:`musclepose.atomic.check_replaceable_dir`)."""
    from peft import PeftConfig  # heavy, optional until a coach is exported

    src, dst = Path(src), Path(dst)
    check_no_overlap(src, dst)
    check_replaceable_dir(dst, overwrite, legacy=is_checkpoint_folder)
    parts, extra = load_checkpoint(src)
    if "bridge" not in parts or not (src / "adapter" / "adapter_model.safetensors").is_file():
        raise ValueError(f"{src}: not a complete coach checkpoint (needs encoder, bridge and adapter)")
    check_adapter(src)
    labels = checkpoint_labels(src)
    PeftConfig.from_pretrained(src / "adapter")  # validates the adapter config

    def rest(tmp: Path) -> None:
        (tmp / "adapter").mkdir()
        weights = load_file(src / "adapter" / "adapter_model.safetensors")
        save_file({k: v.half() for k, v in weights.items()}, tmp / "adapter" / "adapter_model.safetensors")
        shutil.copy(src / "adapter" / "adapter_config.json", tmp / "adapter" / "adapter_config.json")
        for name in SCREEN_FILES:
            if (src / name).is_file():
                shutil.copy(src / name, tmp / name)
        (tmp / "history.json").write_text(json.dumps(extra.get("history", []), indent=1) + "\n")
        for p in [tmp, *tmp.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)

    halves = {k: m.half() for k, m in parts.items()}
    return save_checkpoint(dst, halves, extra | {"history": []}, labels, overwrite=overwrite, also=rest)
