"""Training the motion tokenizer (:mod:`musclepose.models.vqvae`) on real mocap and synthetic clips.

Data: the ``train`` split of :mod:`musclepose.io.mocap_corpus` (real people) plus, optionally,
``synthetic`` clips of the exercise generators (:func:`musclepose.sim.random_clip`, seeds of
their own, random bodies), all at ``fps`` and turned into features
(:mod:`musclepose.pipelines.motion_features`), normalised with the training data's mean and std.
Each batch draws ``window``-frame crops at random offsets, a ``synthetic_share`` of them from
synthetic clips (so ~1.5 minutes of real mocap are not drowned by ~14 of generated ones), the rest from
real clips, clips chosen in proportion to their length.

Loss (as T2M-GPT, Zhang et al. 2023): smooth-L1 (or, ``recon_loss="l1"``, L1) reconstruction of
the normalised features, plus ``velocity_weight`` times the same of their frame-to-frame differences, plus
``commit_weight`` times the quantiser's commitment loss; plus ``root_weight`` times the L1 error
(m, rad) of the root path and heading integrated over the window from the decoded yaw rate and
root velocity (the global error of a decoded clip is dominated by that drift, which a per-frame
loss does not see); codebooks are EMA-updated by
``vector_quantize_pytorch``. AdamW, linear warm-up, cosine decay, gradients clipped to norm 1.

Design choice on the ``val`` split only: every combination of ``codebook_sizes`` x
``quantizers`` (plain VQ or residual VQ depth) is trained; every ``val_every`` steps the
global MPJPE (:func:`~musclepose.pipelines.motion_tokens.joint_error_mm`) of whole val clips
reconstructed through the tokens picks that run's weights, and the run with the lowest one is
saved. The test split is never read here.
"""

from __future__ import annotations

import copy
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..io.mocap_corpus import CorpusClip, corpus_files, load_corpus
from ..models.vqvae import VQVAE, VQVAEConfig
from ..pipelines.motion_features import FEATURE_DIM, LAYOUT, FeatureStats, motion_features
from ..pipelines.motion_tokens import MotionTokenizer, joint_error_mm
from ..progress import progress_bar
from ..sim import random_clip
from .checkpoint import save_checkpoint
from .coach_state import guarded_step

__all__ = ["TokenizerTrainConfig", "corpus_features", "synthetic_features", "train_motion_tokens", "val_error"]

SYNTHETIC_SEED = 20_000  # synthetic clip i is random_clip(SYNTHETIC_SEED + i): its own seeds


@dataclass
class TokenizerTrainConfig:
    """Settings of :func:`train_motion_tokens` (defaults: the shipped tokenizer, see its model card)."""

    out: str
    refdata: str
    fps: float = 20.0
    window: int = 40
    width: int = 96
    depth: int = 3
    code_dim: int = 64
    codebook_sizes: tuple[int, ...] = (64, 128)
    quantizers: tuple[int, ...] = (1, 4)
    steps: int = 1200
    batch_size: int = 64
    lr: float = 2e-3
    warmup: int = 100
    recon_loss: str = "smooth_l1"  # or "l1": a constant pull on errors well below one std
    velocity_weight: float = 0.5
    root_weight: float = 1.0
    commit_weight: float = 0.02
    synthetic: int = 40
    synthetic_share: float = 0.5
    val_every: int = 400
    seed: int = 0
    threads: int = 1
    device: str = "cpu"
    overwrite: bool = False  # replace a folder holding files MusclePose did not write
    command: str = ""


def corpus_features(clips: list[CorpusClip]) -> list[np.ndarray]:
    return [motion_features(c.motion.q, c.motion.fps, c.motion.body) for c in clips]


def synthetic_features(n: int, fps: float) -> list[np.ndarray]:
    out = []
    for i in range(n):
        m = random_clip(SYNTHETIC_SEED + i).resampled(fps)
        out.append(motion_features(m.q, m.fps, m.body))
    return out


class _Windows:
    """Random ``window``-frame crops of normalised feature clips, clips drawn by length."""

    def __init__(self, clips: list[np.ndarray], stats: FeatureStats, window: int) -> None:
        keep = [c for c in clips if len(c) >= window]
        if not keep:
            raise ValueError(f"no clip of at least {window} frames")
        self.clips = [stats.normalise(torch.as_tensor(c, dtype=torch.float32)) for c in keep]
        lengths = np.array([len(c) - window + 1 for c in keep], dtype=np.float64)
        self.p = lengths / lengths.sum()
        self.window = window

    def sample(self, n: int, rng: np.random.Generator) -> torch.Tensor:
        idx = rng.choice(len(self.clips), size=n, p=self.p)
        crops = []
        for i in idx:
            c = self.clips[i]
            s = int(rng.integers(len(c) - self.window + 1))
            crops.append(c[s : s + self.window])
        return torch.stack(crops)


def _root_path(f: torch.Tensor, fps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Heading ``(B, T)`` and horizontal root path ``(B, T, 2)`` integrated from features from zero
    (as :func:`~musclepose.pipelines.motion_features.features_to_q`, the first step included)."""
    (ry, _), (va, vb) = LAYOUT["yaw_rate"], LAYOUT["root_velocity"]
    yaw = torch.cumsum(f[..., ry], dim=-1) / fps
    v = f[..., va:vb]
    c, s = torch.cos(yaw), torch.sin(yaw)
    step = torch.stack([c * v[..., 0] + s * v[..., 2], -s * v[..., 0] + c * v[..., 2]], dim=-1)  # Ry(yaw) v, x and z
    return yaw, torch.cumsum(step, dim=-2) / fps


def _root_path_error(recon: torch.Tensor, target: torch.Tensor, fps: float) -> torch.Tensor:
    yaw_a, path_a = _root_path(recon, fps)
    yaw_b, path_b = _root_path(target, fps)
    return (yaw_a - yaw_b).abs().mean() + (path_a - path_b).norm(dim=-1).mean()


def val_error(model: VQVAE, stats: FeatureStats, clips: list[CorpusClip]) -> tuple[float, float]:
    """``(global MPJPE in mm, codebook usage in %)`` of whole ``clips`` through the tokens
    (frame-weighted mean; usage of the first quantiser), on the CPU."""
    tok = MotionTokenizer(copy.deepcopy(model).cpu(), stats)  # a copy: the EMA codebooks stay as trained
    err, frames, used = 0.0, 0, set()
    for c in clips:
        ref = tok.at_rate(c.motion)
        tokens = tok.encode(ref)
        dec = tok.decode(tokens, ref.body)
        err += joint_error_mm(ref.body, ref.q, dec.q) * len(ref)
        frames += len(ref)
        ids = tokens.ids if tokens.ids.ndim == 1 else tokens.ids[:, 0]
        used |= set(ids.tolist())
    return err / max(frames, 1), 100.0 * len(used) / model.config.codebook_size


def _train_one(
    cfg: TokenizerTrainConfig,
    vq: VQVAEConfig,
    real: _Windows,
    synth: _Windows | None,
    stats: FeatureStats,
    val: list[CorpusClip],
    log: Callable[[str], None],
) -> tuple[VQVAE, dict[str, Any]]:
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = VQVAE(vq).to(cfg.device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    dist = F.l1_loss if cfg.recon_loss == "l1" else F.smooth_l1_loss
    n_synth = round(cfg.batch_size * cfg.synthetic_share) if synth is not None else 0
    best, best_state, history = math.inf, copy.deepcopy(model.state_dict()), []
    name = f"K={vq.codebook_size} Q={vq.n_quantizers}"
    t0 = time.time()
    with progress_bar(f"tokenizer {name}", cfg.steps) as advance:
        for step in range(1, cfg.steps + 1):
            lr = cfg.lr * min(1.0, step / cfg.warmup) * 0.5 * (1.0 + math.cos(math.pi * step / cfg.steps))
            for g in opt.param_groups:
                g["lr"] = max(lr, 0.05 * cfg.lr)
            parts = [real.sample(cfg.batch_size - n_synth, rng)]
            if n_synth:
                parts.append(synth.sample(n_synth, rng))  # type: ignore[union-attr]
            x = torch.cat(parts).to(cfg.device)
            out = model(x)
            rec = dist(out.recon, x)
            vel = dist(out.recon.diff(dim=1), x.diff(dim=1))
            root = _root_path_error(stats.denormalise(out.recon), stats.denormalise(x), cfg.fps)
            loss = rec + cfg.velocity_weight * vel + cfg.commit_weight * out.commit + cfg.root_weight * root
            guarded_step(loss, model.parameters(), opt)  # a non-finite step is skipped, never applied
            advance(1, info=f"rec {rec.item():.3f}")
            if step % cfg.val_every == 0 or step == cfg.steps:
                mpjpe, usage = val_error(model, stats, val) if val else (math.nan, math.nan)
                history.append(
                    {"step": step, "rec": rec.item(), "vel": vel.item(), "val_mpjpe_mm": mpjpe, "val_usage": usage}
                )
                log(f"{name} step {step}: rec {rec.item():.4f} val MPJPE {mpjpe:.1f} mm usage {usage:.0f}%")
                if not val or mpjpe < best:
                    best, best_state = (mpjpe if val else best), copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    model.cpu().eval()
    summary = {
        "codebook_size": vq.codebook_size,
        "quantizers": vq.n_quantizers,
        "val_mpjpe_mm": best,
        "seconds": time.time() - t0,
        "history": history,
    }
    return model, summary


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train_motion_tokens(cfg: TokenizerTrainConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train every candidate design, keep the best on the val split, save it to ``cfg.out``;
    returns the sweep summary (also saved in the checkpoint's ``config.json``)."""
    torch.set_num_threads(cfg.threads)
    if cfg.window % 4 or not cfg.codebook_sizes or not cfg.quantizers:
        raise ValueError("window must be a multiple of 4, and codebook_sizes and quantizers non-empty")
    train, val = load_corpus(cfg.refdata, "train", cfg.fps), load_corpus(cfg.refdata, "val", cfg.fps)
    real_feats = corpus_features(train)
    synth_feats = synthetic_features(cfg.synthetic, cfg.fps)
    stats = FeatureStats.fit(real_feats + synth_feats)
    log(f"train: {len(train)} real clips ({sum(map(len, real_feats))} frames), {len(synth_feats)} synthetic "
        f"({sum(map(len, synth_feats))} frames); val: {len(val)} clips")  # fmt: skip
    real = _Windows(real_feats, stats, cfg.window)
    synth = _Windows(synth_feats, stats, cfg.window) if synth_feats else None
    runs = []
    for k in cfg.codebook_sizes:
        for nq in cfg.quantizers:
            vq = VQVAEConfig(
                n_features=FEATURE_DIM, width=cfg.width, depth=cfg.depth, code_dim=cfg.code_dim,
                codebook_size=k, n_quantizers=nq, fps=cfg.fps,
            )  # fmt: skip
            runs.append(_train_one(cfg, vq, real, synth, stats, val, log))
    model, chosen = min(runs, key=lambda r: r[1]["val_mpjpe_mm"])
    files = {
        split: [{"source": s, "person": p, "file": str(f.relative_to(Path(cfg.refdata))), "sha256": _sha256(f)}
                for s, p, f in corpus_files(cfg.refdata, split)]
        for split in ("train", "val")
    }  # fmt: skip
    extra = {
        "features": {"layout": {k: list(v) for k, v in LAYOUT.items()}, "fps": cfg.fps} | stats.to_json(),
        "train": asdict(cfg) | {"synthetic_seeds": [SYNTHETIC_SEED, SYNTHETIC_SEED + cfg.synthetic]},
        "data": files,
        "chosen": {k: chosen[k] for k in ("codebook_size", "quantizers", "val_mpjpe_mm")},
        "sweep": [
            {k: r[1][k] for k in ("codebook_size", "quantizers", "val_mpjpe_mm", "seconds", "history")} for r in runs
        ],
        "command": cfg.command,
    }
    save_checkpoint(cfg.out, {"vqvae": model}, extra, overwrite=cfg.overwrite)
    return extra
