"""Training the HDT (:mod:`musclepose.models.hdt`) on the IMU-pose corpus (:mod:`.hdt_data`).

Each step draws windows of ``window`` frames from the training sequences (real recordings
drawn ``real_share`` of the time, whatever their frame count), a sensor layout per window
(``six`` 45 %, ``phone-watch`` 35 %, a random subset of 2-7 slots 20 %) and the domain
randomisation of :func:`~musclepose.sim.sensors.imu_worn.worn_imu_errors`: device errors (bias, scale,
misalignment, noise,
saturation, dropped samples held), orientation-filter errors (a constant tilt and heading
error with a drift) and calibration residuals (a constant sensor-to-segment misalignment).
Inputs and targets come from :mod:`musclepose.pipelines.imu_features`, as at inference.

Loss, with the seed's weights: pose 1.0 (a Gaussian NLL per joint over its 6-D rotation and
over the root velocity, in the beta-NLL form of Seitzer et al. 2022, beta 0.5, which keeps the
mean learning where the variance is large), exercise 0.5 (cross-entropy per frame, on clips
with an exercise label), form 0.3 (binary cross-entropy of the faults per frame, on synthetic
clips), calibration 0.1 (the squared log-ratio of each joint's mean squared error in the batch
to its mean predicted variance). AdamW, linear warm-up then cosine decay, gradients clipped to
1, non-finite steps skipped on every rank. Every ``val_every`` steps a fixed set of validation
windows picks the checkpoint kept (lowest MPJPE); at the end the intervals of the predicted
standard deviations are recalibrated on the real validation recordings (:func:`fit_interval_calibration`).
torchrun-ready (:mod:`.distributed`).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..body.skeleton import SEGMENTS
from ..models.hdt import HDT, HDTConfig, HDTOutput
from ..pipelines.checkpoint import load_checkpoint, read_config
from ..pipelines.imu_features import (
    LAYOUTS,
    MODEL_FPS,
    SLOT_SEGMENTS,
    SLOTS,
    fk_from_rotations,
    imu_features,
    local_rotation_error_deg,
    pose_targets,
)
from ..pipelines.imu_nn import NNIndex, lagged
from ..pipelines.imu_pose import IMUPoseModel, IntervalCalibration
from ..pipelines.labels import LabelMap
from ..sim.imu_corpus import Sequence
from ..sim.sensors.imu_worn import worn_imu_errors
from .checkpoint import save_checkpoint
from .distributed import all_finite, average_gradients, broadcast_parameters
from .distributed import world as dist_world

__all__ = [
    "LOSS_WEIGHTS",
    "HDTTrainConfig",
    "build_nn_index",
    "export_imu_pose",
    "file_sha256",
    "fit_interval_calibration",
    "hdt_losses",
    "make_batch",
    "train_hdt",
    "validation_z",
]

LOSS_WEIGHTS = {"pose": 1.0, "exercise": 0.5, "form": 0.3, "calibration": 0.1}
BETA_NLL = 0.5


def _slot_segments() -> list[int]:
    return [SEGMENTS.index(s) for s in SLOT_SEGMENTS]


@dataclass
class HDTTrainConfig:
    """Settings of :func:`train_hdt` (defaults: the shipped model, see its model card)."""

    out: str
    model: dict[str, Any] = field(default_factory=dict)  # HDTConfig overrides
    steps: int = 4000
    max_minutes: float | None = None  # a wall-clock budget: the schedule runs on max(steps, time) progress
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: int = 200
    real_share: float = 0.25
    val_every: int = 250
    n_val_windows: int = 384
    seed: int = 0
    threads: int = 1
    corpus: str = ""
    corpus_sha256: str = ""
    command: str = ""


def _layout(g: torch.Generator) -> torch.Tensor:
    u = float(torch.rand(1, generator=g))
    if u < 0.45:
        names = LAYOUTS["six"]
    elif u < 0.80:
        names = LAYOUTS["phone-watch"]
    else:
        k = int(torch.randint(2, len(SLOTS) + 1, (1,), generator=g))
        names = [SLOTS[i] for i in torch.randperm(len(SLOTS), generator=g)[:k].tolist()]
    return torch.tensor([n in names for n in SLOTS])


def make_batch(
    seqs: list[Sequence],
    picks: list[tuple[int, int, int]],
    g: torch.Generator,
    window: int,
    layouts: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """Inputs and targets of windows ``picks = [(sequence, version, start)]`` (layouts drawn unless given)."""
    segs = _slot_segments()
    seg_rot = torch.stack([seqs[i].rot[t0 : t0 + window][:, segs] for i, _, t0 in picks])
    srot = torch.stack([seqs[i].srot[k, t0 : t0 + window] for i, k, t0 in picks])
    acc = torch.stack([seqs[i].acc[k, t0 : t0 + window] for i, k, t0 in picks])
    present = layouts if layouts is not None else torch.stack([_layout(g) for _ in picks])
    rot_in, a_in = worn_imu_errors(seg_rot, srot, acc, g, present)
    x, yaw = imu_features(rot_in, a_in, present)
    rot = torch.stack([seqs[i].rot[t0 : t0 + window] for i, _, t0 in picks])
    root = torch.stack([seqs[i].root[t0 : t0 + window] for i, _, t0 in picks])
    rot6, vel = pose_targets(rot, root, yaw, MODEL_FPS)
    return {
        "x": x, "yaw": yaw, "rot6": rot6, "vel": vel, "rot": rot,
        "offsets": torch.stack([seqs[i].offsets for i, _, _ in picks]),
        "exercise": torch.tensor([seqs[i].exercise for i, _, _ in picks]),
        "faults": torch.stack([seqs[i].faults for i, _, _ in picks]),
        "synthetic": torch.tensor([seqs[i].source == "musclepose.sim" for i, _, _ in picks]),
        "present": present,
    }  # fmt: skip


# ------------------------------------------------------------------------------ losses
def _beta_nll(err2: torch.Tensor, logvar: torch.Tensor, dims: int) -> torch.Tensor:
    """Mean beta-NLL of squared errors ``err2 (...)`` summed over ``dims`` coordinates with variance exp(logvar)."""
    nll = 0.5 * (err2 * torch.exp(-logvar) + dims * logvar) / dims
    return (nll * torch.exp(logvar).detach() ** BETA_NLL).mean()


def hdt_losses(out: HDTOutput, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The loss terms (module docstring) as scalars."""
    err2 = (out.rot6 - batch["rot6"]).square().sum(-1)  # (B, T, J)
    verr2 = (out.vel - batch["vel"]).square().sum(-1)
    losses = {"pose": _beta_nll(err2, out.logvar, 6) + _beta_nll(verr2, out.vel_logvar, 3)}
    mse_j = (err2.detach() / 6).flatten(0, 1).mean(0)
    var_j = torch.exp(out.logvar).flatten(0, 1).mean(0)
    losses["calibration"] = (torch.log(mse_j + 1e-8) - torch.log(var_j + 1e-8)).square().mean()
    lab = batch["exercise"] >= 0
    if lab.any():
        logits = out.exercise_logits[lab]
        target = batch["exercise"][lab][:, None].expand(logits.shape[:2])
        losses["exercise"] = F.cross_entropy(logits.flatten(0, 1), target.flatten())
    else:
        losses["exercise"] = out.exercise_logits.sum() * 0.0
    syn = batch["synthetic"]
    if syn.any():
        logits = out.form_logits[syn]
        target = batch["faults"][syn][:, None].expand_as(logits)
        losses["form"] = F.binary_cross_entropy_with_logits(logits, target)
    else:
        losses["form"] = out.form_logits.sum() * 0.0
    return losses


def _total(losses: dict[str, torch.Tensor]) -> torch.Tensor:
    return sum(LOSS_WEIGHTS[k] * v for k, v in losses.items())


# ------------------------------------------------------------------------------ validation
def val_windows(seqs: list[Sequence], window: int, n: int, seed: int) -> list[tuple[int, int, int]]:
    """A fixed, frame-weighted draw of ``n`` windows ``(sequence, version, start)``."""
    rng = np.random.default_rng(seed)
    ok = [i for i, s in enumerate(seqs) if s.n_frames >= window]
    w = np.array([seqs[i].n_frames for i in ok], dtype=np.float64)
    out = []
    for i in rng.choice(ok, size=n, p=w / w.sum()):
        out.append((int(i), int(rng.integers(seqs[i].srot.shape[0])), int(rng.integers(seqs[i].n_frames - window + 1))))
    return out


@torch.no_grad()
def evaluate_windows(model: HDT, batches: list[dict[str, torch.Tensor]]) -> dict[str, float]:
    """MPJPE (cm, root-aligned, all frames of the windows), local rotation error (deg) and the
    normalised squared error (a calibration check in the training log) on prepared validation batches."""
    model.eval()
    mp, re, z2, n = 0.0, 0.0, 0.0, 0
    for b in batches:
        out = model(b["x"])
        pred = fk_from_rotations(out.rot6, b["yaw"], b["offsets"])
        true = fk_from_rotations(b["rot6"], b["yaw"], b["offsets"])
        mp += float((pred - true).norm(dim=-1).mean()) * len(b["x"])
        re += float(local_rotation_error_deg(out.rot6, b["rot6"]).mean()) * len(b["x"])
        z2 += float(((out.rot6 - b["rot6"]).square().mean(-1) * torch.exp(-out.logvar)).mean()) * len(b["x"])
        n += len(b["x"])
    model.train()
    return {"mpjpe_cm": 100 * mp / n, "rotation_error_deg": re / n, "z2": z2 / n}


def validation_z(model: HDT, seqs: list[Sequence], seed: int = 0, draws: int = 4) -> dict[str, np.ndarray]:
    """``|error| / s`` of every 6-D pose coordinate of every frame of ``seqs`` (per sequence name), the
    network's own standard deviations (no temperature), each frame from its own full causal window as
    the product runs it, for the ``six`` and ``phone-watch`` layouts and ``draws`` error draws each
    (sensor errors drawn as in training, sensor placement alternating over the sequence's versions)."""
    runner = IMUPoseModel(model, 1.0, LabelMap.current(), {}, None)
    segs = [SEGMENTS.index(n) for n in SLOT_SEGMENTS]
    out: dict[str, list[np.ndarray]] = {}
    for layout in ("six", "phone-watch"):
        present = torch.tensor([s in LAYOUTS[layout] for s in SLOTS])[None]
        for i, seq in enumerate(seqs):
            for d in range(draws):
                g = torch.Generator().manual_seed(seed + 1000 * d + i)
                v = d % seq.srot.shape[0]
                rot, acc = worn_imu_errors(seq.rot[:, segs][None], seq.srot[v][None], seq.acc[v][None], g, present)
                x, yaw = imu_features(rot, acc, present)
                o = runner.predict_features(x[0].float())
                true6, _ = pose_targets(seq.rot, seq.root, yaw[0], MODEL_FPS)
                z = (o[0] - true6).abs() * torch.exp(-0.5 * o[1])[..., None]
                out.setdefault(seq.name, []).append(z.flatten().double().numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def fit_interval_calibration(
    model: HDT, val: list[Sequence], seed: int = 0, draws: int = 4, z: dict[str, np.ndarray] | None = None
) -> tuple[IntervalCalibration, dict[str, Any]]:
    """The checkpoint's interval calibration, fitted on the validation split only: the quantiles of
    ``|error| / s`` (:meth:`IntervalCalibration.fit`) over the *real* validation recordings (all of
    the validation split when it has none). Chosen on validation, leaving one real validation
    recording out at a time (``scripts/recalibrate_imu_pose.py``; six IMUs, 4 recordings): quantiles of
    the real recordings covered 68.3 % / 95.5 % of the left-out one (ECE 0.036), a likelihood
    temperature over the whole validation split (synthetic clips included; the earlier way) 72.6 % /
    91.1 % (0.071), the same over the real recordings 79.2 % / 94.5 %, quantiles of the whole split
    58.7 % / 91.7 %: the synthetic clips' errors are not the real ones'. Returns the calibration and
    facts about the fit (recordings, coordinates, the likelihood temperature of the same errors).
    ``z``: :func:`validation_z` of ``val`` already computed (only its recordings in use are read)."""
    real = [s for s in val if s.source != "musclepose.sim"]
    used = real or val
    if z is None:
        z = validation_z(model, used, seed=seed, draws=draws)
    z = {s.name: z[s.name] for s in used}
    allz = np.concatenate(list(z.values()))
    cal = IntervalCalibration.fit(allz)
    info = {"fitted_on": "real validation recordings" if real else "validation split",
            "recordings": sorted(z), "coordinates": int(allz.size), "draws": draws,
            "likelihood_temperature": float(np.sqrt(np.mean(allz**2)))}  # fmt: skip
    return cal, info


# ------------------------------------------------------------------------------ training
def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def train_hdt(
    config: HDTTrainConfig,
    train: list[Sequence],
    val: list[Sequence],
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train, keep the best checkpoint by validation MPJPE in ``config.out``, fit the temperature; returns the
    history."""
    torch.set_num_threads(config.threads)
    rank, size = dist_world()
    torch.manual_seed(config.seed)
    labels = LabelMap.current()  # the heads follow the catalogue of this code, as the corpus' labels do
    mcfg = HDTConfig(**{**config.model, "n_exercises": len(labels.exercises), "n_faults": len(labels.faults)})
    model = HDT(mcfg)
    broadcast_parameters(model.parameters())
    w = mcfg.window
    train = [s for s in train if s.n_frames >= w]
    g = torch.Generator().manual_seed(config.seed * 1000 + rank)
    rng = np.random.default_rng([config.seed, rank])
    real = [i for i, s in enumerate(train) if s.source != "musclepose.sim"]
    syn = [i for i, s in enumerate(train) if s.source == "musclepose.sim"]
    pw = {k: np.array([train[i].n_frames for i in ids], dtype=np.float64) for k, ids in (("r", real), ("s", syn))}

    def pick() -> tuple[int, int, int]:
        use_real = real and (not syn or rng.random() < config.real_share)
        ids, p = (real, pw["r"]) if use_real else (syn, pw["s"])
        i = ids[int(rng.choice(len(ids), p=p / p.sum()))]
        return i, int(rng.integers(train[i].srot.shape[0])), int(rng.integers(train[i].n_frames - w + 1))

    gv = torch.Generator().manual_seed(12345)
    vpicks = val_windows(val, w, config.n_val_windows, 12345)
    vb = [make_batch(val, vpicks[i : i + 64], gv, w) for i in range(0, len(vpicks), 64)]
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    rest = [p for n, p in model.named_parameters() if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups,
                            lr=config.lr)  # fmt: skip
    history: list[dict[str, Any]] = []
    best = math.inf
    t0 = time.perf_counter()
    local_bs = max(1, config.batch_size // size)
    run: dict[str, float] = {}
    for step in range(config.steps):
        progress = _progress(step, time.perf_counter() - t0, config)
        if progress >= 1.0:
            break
        for grp in opt.param_groups:
            grp["lr"] = _lr(step, progress, config)
        batch = make_batch(train, [pick() for _ in range(local_bs)], g, w)
        losses = hdt_losses(model(batch["x"]), batch)
        loss = _total(losses)
        opt.zero_grad(set_to_none=True)
        if not all_finite(loss):
            log(f"step {step}: non-finite loss, skipped")
            continue
        loss.backward()
        average_gradients(model.parameters())
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        for k, v in losses.items():
            run[k] = 0.98 * run.get(k, float(v.detach())) + 0.02 * float(v.detach())
        last = step + 1 == config.steps or _progress(step + 1, time.perf_counter() - t0, config) >= 1.0
        if (step + 1) % config.val_every == 0 or last:
            m = evaluate_windows(model, vb)
            rec = {"step": step + 1, "seconds": round(time.perf_counter() - t0, 1),
                   **{k: round(v, 4) for k, v in run.items()},
                   **{f"val_{k}": round(v, 4) for k, v in m.items()}}  # fmt: skip
            history.append(rec)
            log(" ".join(f"{k}={v}" for k, v in rec.items()))
            if m["mpjpe_cm"] < best and rank == 0:
                best = m["mpjpe_cm"]
                _save(model, config, history, None)
    if rank == 0:
        parts, _ = load_checkpoint(config.out)
        best_model = parts["model"]
        cal, info = fit_interval_calibration(best_model, [s for s in val if s.n_frames >= w], seed=config.seed)
        log(f"interval calibration on the {info['fitted_on']}: sigma x{cal.temperature:.3f}, "
            f"2-sigma band {cal.two_sigma:.2f} sigma wide")  # fmt: skip
        _save(best_model, config, history, cal, info)
    return {"history": history}


def _progress(step: int, seconds: float, c: HDTTrainConfig) -> float:
    """Fraction of training done: of the steps, or of the time budget when that runs out first
    (on a shared machine the time per step is not known in advance)."""
    p = step / c.steps
    if c.max_minutes:
        p = max(p, seconds / (60.0 * c.max_minutes))
    return p


def _lr(step: int, progress: float, c: HDTTrainConfig) -> float:
    """Linear warm-up over ``warmup`` steps, then a cosine decay to 1e-5 over the training's progress."""
    if step < c.warmup:
        return c.lr * (step + 1) / c.warmup
    return 1e-5 + 0.5 * (c.lr - 1e-5) * (1.0 + math.cos(math.pi * min(1.0, progress)))


def _save(
    model: HDT,
    config: HDTTrainConfig,
    history: list[dict[str, Any]],
    calibration: IntervalCalibration | None,
    calibration_info: dict[str, Any] | None = None,
) -> None:
    cal = calibration or IntervalCalibration.gaussian(1.0)
    extra = {
        "kind": "imu_pose",
        "model_fps": MODEL_FPS,
        "slots": list(SLOTS),
        "temperature": cal.temperature,
        "calibration": cal.to_dict() | ({"info": calibration_info} if calibration_info else {}),
        "train_config": asdict(config),
        "history": history,
    }
    save_checkpoint(config.out, {"model": model}, extra=extra, labels=LabelMap.current())


def build_nn_index(seqs: list[Sequence], n_per_layout: int = 4000, seed: int = 0, window: int = 48) -> NNIndex:
    """The retrieval baseline's tables (:class:`~musclepose.pipelines.imu_nn.NNIndex`): for each of the
    ``six`` and ``phone-watch`` layouts, ``n_per_layout`` frames drawn from training windows with the
    same randomised errors as training (the last frame of each window, keyed by its lagged features)."""
    g = torch.Generator().manual_seed(seed)
    picks = val_windows(seqs, window, n_per_layout, seed)
    data = {}
    for layout in ("six", "phone-watch"):
        present = torch.tensor([s in LAYOUTS[layout] for s in SLOTS])
        keys, vals = [], []
        for a in range(0, len(picks), 256):
            chunk = picks[a : a + 256]
            b = make_batch(seqs, chunk, g, window, layouts=present[None].expand(len(chunk), -1))
            keys.append(torch.stack([lagged(x)[-1] for x in b["x"]]))
            vals.append(b["rot6"][:, -1])
        data[layout] = (torch.cat(keys), torch.cat(vals))
    return NNIndex.fit(data)


def export_imu_pose(
    src: str | Path, dst: str | Path, compare: str | Path | None = None, tables: str | Path | None = None
) -> Path:
    """A checkpoint for shipping: the model of ``src`` in float16 (history and settings kept in ``extra``), a
    comparison model ``compare`` in a sub-folder named for what it is (``hdt_transformer`` or ``baseline_cnn``),
    and the retrieval tables (``nn_*.safetensors``) of ``tables`` (default ``src``)."""
    dst = Path(dst)
    todo = [(src, dst)]
    if compare is not None:
        kind = "baseline_cnn" if load_checkpoint(compare)[0]["model"].config.n_layers == 0 else "hdt_transformer"
        todo.append((compare, dst / kind))
    for folder, out in todo:
        parts, extra = load_checkpoint(folder)
        labels = LabelMap.from_config(read_config(folder), folder)
        save_checkpoint(out, {"model": parts["model"].half()}, extra=extra, labels=labels)
    for p in Path(tables or src).glob("nn_*.safetensors"):
        (dst / p.name).write_bytes(p.read_bytes())
    return dst
