"""Training MotionNN (:mod:`musclepose.models.motion_nn`): a curriculum from teacher forcing to rollouts.

:func:`train_motion` streams windows of ``window + horizon`` frames (:class:`~musclepose.io.
motion_stream.MotionWindows`: files and HDF5 shards, sharded over DataLoader workers and DDP
ranks), turns them into states with the codec the config names
(:mod:`musclepose.pipelines.motion_state`) and trains in three stages (Bengio et al. 2015,
"Scheduled sampling for sequence prediction with recurrent neural networks"):

1. **teacher forcing** - every one of the ``horizon`` steps predicted from the true history;
2. **scheduled sampling** - a rollout over ``horizon`` steps where each fed-back frame is the
   model's own prediction with a probability rising linearly from 0 to 1;
3. **multi-step rollout** - the model feeds itself for all ``horizon`` steps.

The loss is the L1 distance of the continuous state, averaged over steps (``loss_space="raw"``:
the 6-D rotations as they are, so every joint weighs the same, as in the benchmark's error,
and the other values divided by their training std; ``"std"``: every dimension divided by its
std, as the network sees it), plus the binary cross-entropy of the foot contacts. AdamW with a
linear warm-up and a cosine decay, gradients clipped to norm 1, non-finite steps skipped; the
weights validated and saved are an exponential moving average of the trained ones (decay
``ema``: on ~5,000 windows single steps are noisy). Benchmark rows are mirrored left-right
(:func:`mirror_rows`) and every sequence is also played at other speeds (:func:`time_scaled`)
as augmentation. Every ``val_every`` steps the rollout error on the validation sources
(mean rotation angle over joints and the horizon's steps, degrees) picks the checkpoint kept;
without validation sources the last one is kept. The checkpoint (:func:`~.checkpoint.save_checkpoint`)
records the codec, the rate, the data files with their SHA-256, the command and the history.
"""

from __future__ import annotations

import copy
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from ..body.rotations import rotation_6d_to_matrix
from ..io import cmu_prediction as cmu
from ..io.motion_stream import MotionWindows, RawSequence, list_sequences
from ..models.motion_nn import MotionNN, MotionNNConfig
from ..pipelines.motion_state import BodyCodec, CMUCodec, codec_for
from .checkpoint import save_checkpoint
from .distributed import all_finite, average_gradients, broadcast_parameters
from .distributed import world as dist_world

__all__ = [
    "MotionTrainConfig",
    "heldout_rollout_error",
    "linear_baseline",
    "mirror_rows",
    "rotation_error_deg",
    "sequence_states",
    "time_scaled",
    "train_motion",
]


@dataclass
class MotionTrainConfig:
    """Settings of :func:`train_motion` (defaults: the shipped benchmark model, see its model card)."""

    out: str
    train: list[str]
    val: list[str] = field(default_factory=list)
    codec: str = "cmu_expmap"
    fps: float = 60.0
    window: int = 50
    recent: int = 5
    n_basis: int = 8
    embed: int = 8
    context: int = 32
    hidden: int = 48
    depth: int = 2
    dropout: float = 0.0
    horizon: int = 25
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: int = 100
    teacher_steps: int = 200
    scheduled_steps: int = 400
    rollout_steps: int = 800
    teacher_positions: int = 5
    ar_init: bool = True
    linear_out: str = ""  # also save the network as initialised (the shared linear autoregression) here
    speeds: tuple[float, ...] = (1.0,)  # time-scale augmentation: each sequence also played at these speeds
    ema: float = 0.995  # the weights validated and saved are this exponential moving average (0: off)
    contact_weight: float = 0.1
    loss_space: str = "raw"
    on_jump: str = "split"
    mirror: bool = True
    val_every: int = 100
    seed: int = 0
    threads: int = 1
    workers: int = 0
    command: str = ""

    @property
    def total_steps(self) -> int:
        return self.teacher_steps + self.scheduled_steps + self.rollout_steps


def mirror_rows(rows: np.ndarray) -> np.ndarray:
    """Benchmark rows mirrored left-right (x -> -x): partner joints swapped, each exponential map
    ``(x, y, z) -> (x, -y, -z)`` (a reflection ``M`` turns ``R`` into ``M R M``), root x negated."""
    out = np.array(rows, dtype=np.float64)
    aa = out[:, 3:].reshape(len(out), cmu.N_JOINTS, 3)[:, cmu.MIRROR] * np.array([1.0, -1.0, -1.0])
    out[:, 3:] = aa.reshape(len(out), -1)
    out[:, 0] = -out[:, 0]
    return out


def time_scaled(states: torch.Tensor, speed: float, n_rot: int, velocity_dims: tuple[int, ...] = ()) -> torch.Tensor:
    """The state sequence played ``speed`` times as fast: linear interpolation at frame steps of
    ``speed``, rotations re-orthonormalised, per-second velocities (``velocity_dims``) scaled."""
    if speed == 1.0:
        return states
    t = torch.arange(0.0, len(states) - 1, speed, dtype=torch.float64)
    i = t.floor().long().clamp(max=len(states) - 2)
    w = (t - i).float()[:, None]
    out = (1 - w) * states[i] + w * states[i + 1]
    if n_rot:
        rot = rotation_6d_to_matrix(out[:, : 6 * n_rot].reshape(len(out), n_rot, 6))
        out[:, : 6 * n_rot] = rot[..., :, :2].transpose(-1, -2).reshape(len(out), -1)
    if velocity_dims:
        out[:, list(velocity_dims)] *= speed
    return out


def sequence_states(
    raw: RawSequence, codec: str, mirror: bool = False, speeds: tuple[float, ...] = (1.0,)
) -> list[torch.Tensor]:
    """States of one checked sequence (and of its mirror image, for benchmark rows with ``mirror``),
    each also at the ``speeds`` of the time-scale augmentation."""
    if codec == "cmu_expmap":
        if raw.kind != "cmu_rows":
            raise ValueError(f"{raw.ref}: the cmu_expmap codec reads benchmark rows, not {raw.kind}")
        c = CMUCodec()
        base = [c.encode(raw.frames)] + ([c.encode(mirror_rows(raw.frames))] if mirror else [])
        vel: tuple[int, ...] = ()
    elif codec == "body_q":
        if raw.kind != "q":
            raise ValueError(f"{raw.ref}: the body_q codec reads motions (q), not {raw.kind}; retarget them first")
        c = BodyCodec()
        base = [c.encode(raw.frames, raw.fps, raw.body)]
        vel = c.velocity_dims
    else:
        raise ValueError(f"unknown codec {codec!r}")
    return [time_scaled(s, v, c.n_rot, vel) for s in base for v in speeds]


def rotation_error_deg(pred: torch.Tensor, true: torch.Tensor, n_rot: int) -> torch.Tensor:
    """Mean rotation angle (degrees) between predicted and true 6-D joint rotations, per step ``(..., H)``."""
    a = rotation_6d_to_matrix(pred[..., : 6 * n_rot].reshape(*pred.shape[:-1], n_rot, 6))
    b = rotation_6d_to_matrix(true[..., : 6 * n_rot].reshape(*true.shape[:-1], n_rot, 6))
    cos = ((a.transpose(-1, -2) @ b).diagonal(dim1=-2, dim2=-1).sum(-1) - 1.0) / 2.0
    return torch.rad2deg(torch.arccos(cos.clamp(-1.0, 1.0))).mean(-1)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _data_card(sources: list[str]) -> list[dict[str, Any]]:
    files = sorted({r.path for r in list_sequences(sources)})
    return [{"file": str(p), "sha256": _sha256(p)} for p in files]


def _loss(
    model: MotionNN, pred: torch.Tensor, true: torch.Tensor, contact_weight: float, loss_space: str
) -> torch.Tensor:
    c = model.config
    n, r = c.n_continuous, 6 * c.n_rot
    scale = model.std[:n].clone()
    if loss_space == "raw":
        scale[:r] = 1.0
    loss = ((pred[..., :n] - true[..., :n]).abs() / scale).mean()
    if c.n_contact:
        p = pred[..., n:].clamp(1e-5, 1 - 1e-5)
        loss = loss + contact_weight * torch.nn.functional.binary_cross_entropy(p, true[..., n:].clamp(0, 1))
    return loss


def _fit_autoregression(model: MotionNN, seqs: list[torch.Tensor], ridge: float = 1.0) -> None:
    """Start the shared linear term at the least-squares one-step autoregression of every continuous
    dimension on its own features (pooled over dimensions: 13 coefficients from all frames), so that
    training starts from the linear predictor instead of from zero velocity."""
    c = model.config
    n = c.n_continuous
    xs, ys = [], []
    with torch.no_grad():
        for s in seqs:
            z = ((s - model.mean) / model.std)[:, :n]
            if len(z) <= c.window:
                continue
            win = z.unfold(0, c.window + 1, 1).permute(0, 2, 1)  # (N, window + 1, n)
            h = win[:, : c.window]
            feat = torch.cat([h[:, -c.recent :].transpose(1, 2), torch.einsum("bwd,wk->bdk", h, model.basis)], dim=2)
            xs.append(feat.reshape(-1, feat.shape[-1]).double())
            ys.append((win[:, -1] - win[:, -2]).reshape(-1, 1).double())
        if not xs:
            return
        x, y = torch.cat(xs), torch.cat(ys)
        a = x.T @ x + ridge * torch.eye(x.shape[1], dtype=x.dtype)
        model.ar.weight.copy_(torch.linalg.solve(a, x.T @ y).T.float())


def _network(cfg: MotionTrainConfig, states: torch.Tensor) -> MotionNN:
    codec = codec_for(cfg.codec)
    model = MotionNN(
        MotionNNConfig(
            n_rot=codec.n_rot, n_extra=codec.n_extra, n_contact=codec.n_contact, window=cfg.window,
            recent=cfg.recent, n_basis=cfg.n_basis, embed=cfg.embed, context=cfg.context, hidden=cfg.hidden,
            depth=cfg.depth, dropout=cfg.dropout, fps=cfg.fps,
        )
    )  # fmt: skip
    model.set_normalization(states.mean(0), states.std(0))
    return model


def _training_data(cfg: MotionTrainConfig) -> tuple[MotionWindows, list[torch.Tensor]]:
    transform = partial(sequence_states, codec=cfg.codec, mirror=cfg.mirror, speeds=tuple(cfg.speeds))
    data = MotionWindows(cfg.train, cfg.window + cfg.horizon, cfg.fps, transform, cfg.on_jump, shuffle_seed=cfg.seed)
    return data, data.states(range(len(data.refs)))


def linear_baseline(cfg: MotionTrainConfig) -> MotionNN:
    """The simpler baseline: the shared linear autoregression alone (least squares on ``cfg.train``,
    the network's other outputs zero), as the trainer initialises MotionNN."""
    _, seqs = _training_data(cfg)
    model = _network(cfg, torch.cat(seqs))
    _fit_autoregression(model, seqs)
    return model.eval()


def _validate(model: MotionNN, windows: torch.Tensor, cfg: MotionTrainConfig) -> dict[str, float]:
    model.eval()
    with torch.no_grad():
        errs = []
        for batch in windows.split(256):
            pred = model.rollout(batch[:, : cfg.window], cfg.horizon)
            errs.append(rotation_error_deg(pred, batch[:, cfg.window :], model.config.n_rot))
        e = torch.cat(errs).mean(0)
    model.train()
    return {"val_deg_mean": float(e.mean()), "val_deg_step1": float(e[0]), "val_deg_last": float(e[-1])}


def heldout_rollout_error(
    model: MotionNN, train_config: dict[str, Any], files: list[str | Path]
) -> dict[str, dict[str, float]]:
    """Rollout error (deg: mean, first and last step) of ``model`` and of its linear baseline,
    refitted from ``train_config`` (a checkpoint's ``extra.train_config``: its training files, window
    and horizon), on the windows of ``files`` cut as the trainer cuts its validation windows."""
    tc = {**train_config, "speeds": tuple(train_config.get("speeds", (1.0,))), "val": [str(f) for f in files]}
    cfg = MotionTrainConfig(**{k: v for k, v in tc.items() if k in MotionTrainConfig.__dataclass_fields__})
    windows = _val_windows(cfg, cfg.window + cfg.horizon)
    if windows is None:
        raise ValueError(f"no window of {cfg.window + cfg.horizon} frames in {', '.join(map(str, files))}")
    out = {"model": _validate(model, windows, cfg), "linear": _validate(linear_baseline(cfg), windows, cfg)}
    return {**out, "windows": {"n": int(len(windows))}}


def _val_windows(cfg: MotionTrainConfig, length: int) -> torch.Tensor | None:
    if not cfg.val:
        return None
    ds = MotionWindows(cfg.val, length, cfg.fps, partial(sequence_states, codec=cfg.codec), cfg.on_jump, stride=5)
    seqs = ds.states(range(len(ds.refs)))
    wins = [s[t : t + length] for s in seqs for t in range(0, len(s) - length + 1, 5)]
    return torch.stack(wins) if wins else None


def train_motion(cfg: MotionTrainConfig, log: Callable[[str], None] = print, progress=None) -> Path:
    """Train a MotionNN by the curriculum of the module docstring; returns the checkpoint folder.

    ``progress(step, info)`` is called after every optimiser step (a CLI progress bar).
    """
    torch.manual_seed(cfg.seed)  # (the windows' order has its own generator, seeded in MotionWindows)
    torch.set_num_threads(cfg.threads)
    rank, size = dist_world()
    length = cfg.window + cfg.horizon
    data, seqs = _training_data(cfg)
    all_states = torch.cat(seqs)
    model = _network(cfg, all_states)
    if cfg.ar_init:
        _fit_autoregression(model, seqs)
        if cfg.linear_out and rank == 0:
            _save(Path(cfg.linear_out), model, cfg, [], 0, 0)
    broadcast_parameters(model.parameters())
    val = _val_windows(cfg, length)
    log(
        f"{len(data.refs)} training sequences ({len(all_states)} frames after checks, augmentation and "
        f"decimation to {cfg.fps:g} Hz), {0 if val is None else len(val)} validation windows; "
        f"{sum(p.numel() for p in model.parameters()):,} parameters"
    )
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    total = cfg.total_steps

    def lr_at(step: int) -> float:
        if step < cfg.warmup:
            return cfg.lr * (step + 1) / cfg.warmup
        return 0.5 * cfg.lr * (1 + math.cos(math.pi * (step - cfg.warmup) / max(1, total - cfg.warmup)))

    loader = DataLoader(data, batch_size=cfg.batch_size, num_workers=cfg.workers, drop_last=True)
    averaged = copy.deepcopy(model).eval() if cfg.ema > 0 else model
    history: list[dict[str, Any]] = []
    best, best_step, skipped, t0 = math.inf, -1, 0, time.perf_counter()
    out = Path(cfg.out)
    gen = torch.Generator().manual_seed(cfg.seed + rank)
    if val is not None:  # the untrained network: the linear autoregression (or zero velocity without it)
        stage = "untrained (linear autoregression)" if cfg.ar_init else "untrained (zero velocity)"
        history.append({"step": 0, "stage": stage, **_validate(model, val, cfg)})
        log(" ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in history[-1].items()))
    step = 0
    model.train()
    for batch in loader:
        if step >= total:
            break
        hist, fut = batch[:, : cfg.window], batch[:, cfg.window :]
        if step < cfg.teacher_steps:  # one-step predictions from true histories at a few positions, in one pass
            ks = torch.randperm(cfg.horizon, generator=gen)[: cfg.teacher_positions]
            wins = torch.stack([batch[:, k : k + cfg.window] for k in ks.tolist()], dim=1)
            pred = model(wins.flatten(0, 1)).reshape(len(batch), len(ks), -1)
            fut = fut[:, ks]
            stage = "teacher"
        elif step < cfg.teacher_steps + cfg.scheduled_steps:
            p_model = (step - cfg.teacher_steps + 1) / cfg.scheduled_steps
            mask = torch.rand(fut.shape[:2], generator=gen) >= p_model
            pred = model.rollout(hist, cfg.horizon, teacher=fut, teacher_mask=mask)
            stage = f"scheduled p={p_model:.2f}"
        else:
            pred = model.rollout(hist, cfg.horizon)
            stage = "rollout"
        loss = _loss(model, pred, fut, cfg.contact_weight, cfg.loss_space)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        opt.zero_grad(set_to_none=True)
        if not all_finite(loss):
            skipped += 1
            step += 1
            continue
        loss.backward()
        average_gradients(model.parameters())
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if averaged is not model:
            with torch.no_grad():
                for pa, p in zip(averaged.parameters(), model.parameters(), strict=True):
                    pa.lerp_(p, 1.0 - cfg.ema)
        step += 1
        if progress is not None:
            progress(step, f"{stage} loss {loss.item():.4f}")
        if step % cfg.val_every == 0 or step == total:
            rec = {"step": step, "stage": stage, "loss": float(loss.detach()), "seconds": time.perf_counter() - t0}
            if val is not None:
                rec.update(_validate(averaged, val, cfg))
            history.append(rec)
            log(" ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in rec.items()))
            score = rec.get("val_deg_mean", -step)  # without validation: the latest
            # Only rollout-trained states compete: a teacher-forced network can score well on
            # a short validation rollout and still drift further out.
            if rank == 0 and step > cfg.teacher_steps and score < best:
                best, best_step = score, step
                _save(out, averaged, cfg, history, best_step, skipped)
    if rank == 0 and best_step < 0:
        _save(out, averaged, cfg, history, step, skipped)
    log(f"kept step {best_step if best_step >= 0 else step} ({time.perf_counter() - t0:.0f} s, {skipped} skipped)")
    return out


def _save(out: Path, model: MotionNN, cfg: MotionTrainConfig, history, step: int, skipped: int) -> None:
    if not hasattr(cfg, "_card"):
        cfg._card = {"train": _data_card(cfg.train), "val": _data_card(cfg.val) if cfg.val else []}
    extra = {
        "codec": cfg.codec,
        "fps": cfg.fps,
        "step": step,
        "skipped_steps": skipped,
        "train_config": asdict(cfg),
        "data": cfg._card,
        "history": history,
        "command": cfg.command,
    }
    save_checkpoint(out, {"motion_nn": model}, extra=extra)
