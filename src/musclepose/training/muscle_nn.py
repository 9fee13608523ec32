"""Training MuscleNN (:mod:`musclepose.models.muscle_nn`) as MASS trains it, on inverse-dynamics frames.

Data: frames ``(q, qd, tau)`` from inverse dynamics (with estimated or known ground reactions)
of (1) synthetic clips of the exercise engine (:func:`musclepose.sim.clip.clip_params_for` on the
subjects of :func:`~musclepose.sim.clip.make_subjects`; each subject is one person and lives in
one split, so held-out people are never trained on) and (2) real recordings loaded by
:func:`musclepose.io.load_motion` and :func:`musclepose.motion.kinetics.compute_kinetics`: the
CMU and MASS clips train; squats1 and walking1 of AddBiomechanics expert1 (one person) are held
out as the real test set. Training frames also get one copy with each DoF's demand scaled by
U(0, 2.5) (the torques a tracking controller asks for are not inverse dynamics; scaled demand
covers saturation and silence). The loss is :func:`mass_loss` (self-supervised: no activation
targets; static optimisation is used only to report agreement).
Adam, cosine decay; the weights with the lowest validation loss (held-out synthetic people of
the val split) are saved as a checkpoint folder: ``config.json`` + ``model.safetensors``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..body.muscles import MTGParameters, mtg_parameters, static_optimization
from ..io import load_motion
from ..models.muscle_nn import MuscleInputs, MuscleNN, MuscleNNConfig, muscle_features
from ..motion.kinetics import compute_kinetics
from ..sim.clip import clip_kinetics, clip_params_for, make_subjects
from .checkpoint import save_checkpoint
from .coach_state import cosine_lr

__all__ = [
    "REAL_TEST",
    "REAL_TRAIN",
    "Frames",
    "MuscleNNTrainConfig",
    "build_frames",
    "mass_loss",
    "recording_frames",
    "synthetic_frames",
    "train_muscle_nn",
]

# Recordings under the reference data folder (--refdata; $MUSCLEPOSE_REFDATA or ../shared/data).
REAL_TRAIN = (
    "mocap/cmu/131_01.bvh",
    *(f"mocap/mass/{n}.bvh" for n in ("backflip", "balance", "cart", "dance", "kick", "pirouette", "run", "walk")),
)
REAL_TEST = ("mocap/addbiomechanics_expert1/squats1.mot", "mocap/addbiomechanics_expert1/walking1.mot")


@dataclass
class Frames:
    """Frames of one clip: generalized positions, velocities, forces ``(T, 47)`` float32 and its muscles."""

    source: str
    subject: str
    split: str
    params: MTGParameters
    q: torch.Tensor
    qd: torch.Tensor
    tau: torch.Tensor

    def static(self) -> torch.Tensor:
        """Static optimisation's activations ``(T, 82)`` (the closed-form reference)."""
        return static_optimization(self.params, self.q, self.qd, self.tau).activations


@dataclass
class MuscleNNTrainConfig:
    """Settings of :func:`train_muscle_nn` (defaults: the shipped model, see its model card)."""

    out: str
    refdata: str = "../shared/data"
    seed: int = 0
    n_subjects: int = 40
    n_clips: int = 80
    clip_s: float = 6.0
    real_train: tuple[str, ...] = REAL_TRAIN
    real_test: tuple[str, ...] = REAL_TEST
    steps: int = 3000
    batch_size: int = 4096
    lr: float = 2e-3
    activation_weight: float = 1e-3
    hidden: int = 64
    n_layers: int = 3
    augment_max: float = 2.5
    val_every: int = 250
    command: str = ""
    overwrite: bool = False  # replace a folder holding files MusclePose did not write
    model: dict[str, Any] = field(default_factory=dict)  # MuscleNNConfig overrides


def synthetic_frames(seed: int, n_subjects: int, n_clips: int, clip_s: float) -> list[Frames]:
    """Inverse-dynamics frames of ``n_clips`` synthetic clips over ``n_subjects`` people (each in one split)."""
    subjects = make_subjects(seed, n_subjects)
    out = []
    for i in range(n_clips):
        cp, subject = clip_params_for(seed, i, subjects, duration_s=clip_s)
        motion = cp.generate()
        kin = clip_kinetics(motion)
        q, qd, tau = (x.detach().float() for x in (motion.q, kin.qd, kin.tau))
        params = mtg_parameters(motion.body)
        out.append(Frames(f"synthetic {cp.exercise} #{i}", subject["subject"], subject["split"], params, q, qd, tau))
    return out


def recording_frames(path: str | Path, split: str) -> Frames:
    """Inverse-dynamics frames of a real recording (ground reactions estimated when it has no force plates)."""
    motion = load_motion(path)
    kin = compute_kinetics(motion)
    q, qd, tau = (torch.as_tensor(x).detach().float() for x in (kin.motion.q, kin.qd, kin.tau))
    return Frames(str(path), Path(path).stem, split, mtg_parameters(motion.body), q, qd, tau)


def build_frames(config: MuscleNNTrainConfig, say: Callable[[str], None] = lambda _: None) -> dict[str, list[Frames]]:
    """All frames by split: ``train``, ``val`` (synthetic people), ``test`` (synthetic people and real)."""
    splits: dict[str, list[Frames]] = {"train": [], "val": [], "test": []}
    say(f"synthesising {config.n_clips} clips over {config.n_subjects} people")
    for f in synthetic_frames(config.seed, config.n_subjects, config.n_clips, config.clip_s):
        splits[f.split].append(f)
    for path, split in [(p, "train") for p in config.real_train] + [(p, "test") for p in config.real_test]:
        say(f"inverse dynamics of {Path(path).name}")
        splits[split].append(recording_frames(Path(config.refdata) / path, split))
    return splits


def mass_loss(
    activations: torch.Tensor, inputs: MuscleInputs, weight: float = 1e-3, clip: float = 2.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """MASS's objective: ``(torque error / capacity)^2 + weight * a^2``, mean over frames and DoF.

    The error of DoF ``i`` is scaled by the capacity in the direction it must turn (at least
    ``min_capacity`` of that generator's isometric peak: ``inputs.scale``), so a DoF's share
    of the loss does not grow with its strength, and the scaled demand is clipped to ``+-clip``:
    beyond 1 the best a bounded activation can do is 1 either way, so the minimiser is unchanged
    while impossible frames (demand 50 times capacity) no longer swamp the gradient. Unsaturated
    (and capacity above the floor), the minimiser is static optimisation's activation divided by
    ``1 + weight``. Returns ``(loss, torque error (..., 41) N m)``.
    """
    n = inputs.need.shape[-1]
    a_pos, a_neg = activations[..., :n], activations[..., n:]
    made = a_pos * inputs.pos - a_neg * inputs.neg
    target = (inputs.need / inputs.scale).clamp(-clip, clip)
    err = target - made / inputs.scale
    return (err**2).mean() + weight * (activations**2).mean() * 2.0, inputs.need - made


def _inputs(frames: list[Frames], cfg: MuscleNNConfig, augment: float = 0.0, seed: int = 0) -> MuscleInputs:
    """Network inputs of every frame (with one demand-scaled copy when ``augment`` > 0), concatenated."""
    gen = torch.Generator().manual_seed(seed)
    parts = []
    for f in frames:
        parts.append(muscle_features(f.params, f.q, f.qd, f.tau, cfg))
        if augment > 0:
            scale = torch.rand(f.tau[:, 6:].shape, generator=gen) * augment
            base = f.tau[:, 6:] - parts[-1].need  # the passive torque
            tau = torch.cat([f.tau[:, :6], base + scale * parts[-1].need], dim=1)
            parts.append(muscle_features(f.params, f.q, f.qd, tau, cfg))
    return MuscleInputs(*(torch.cat([getattr(p, k) for p in parts]) for k in MuscleInputs._fields))


def _batch(inputs: MuscleInputs, idx: torch.Tensor) -> MuscleInputs:
    return MuscleInputs(*(x[idx] for x in inputs))


@torch.no_grad()
def _evaluate(net: MuscleNN, frames: list[Frames], weight: float) -> dict[str, float]:
    inputs = _inputs(frames, net.config)
    a = net(inputs.features)
    loss, err = mass_loss(a, inputs, weight)
    so = torch.cat([f.static() for f in frames])
    return {
        "loss": float(loss),
        "mae_vs_static": float((a - so).abs().mean()),
        "torque_rmse_nm": float(err.pow(2).mean().sqrt()),
    }


def train_muscle_nn(
    config: MuscleNNTrainConfig,
    frames: dict[str, list[Frames]] | None = None,
    progress: Callable[[int, int], None] | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Train (module docstring), save the best-on-val weights to ``config.out``; returns the statistics."""
    torch.manual_seed(config.seed)
    frames = build_frames(config, say) if frames is None else frames
    if not frames["train"] or not frames["val"]:
        raise ValueError("MuscleNN needs frames in both the train and the val split")
    cfg = MuscleNNConfig(hidden=config.hidden, n_layers=config.n_layers, **config.model)
    net = MuscleNN(cfg)
    train = _inputs(frames["train"], cfg, config.augment_max, config.seed)
    n = train.features.shape[0]
    say(f"{n} training frames (half of them demand-scaled copies)")
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: cosine_lr(s, config.steps, 1.0, floor=0.0))
    gen = torch.Generator().manual_seed(config.seed)
    best, best_state, history = math.inf, None, []
    start = time.perf_counter()
    for step in range(1, config.steps + 1):
        idx = torch.randint(0, n, (min(config.batch_size, n),), generator=gen)
        batch = _batch(train, idx)
        loss, _ = mass_loss(net(batch.features), batch, config.activation_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % config.val_every == 0 or step == config.steps:
            net.eval()
            val = _evaluate(net, frames["val"], config.activation_weight)
            net.train()
            history.append(
                {"step": step, "train_loss": float(loss.detach()), **{f"val_{k}": v for k, v in val.items()}}
            )
            if val["loss"] < best:
                best, best_state = val["loss"], {k: v.clone() for k, v in net.state_dict().items()}
        if progress is not None:
            progress(step, config.steps)
    wall = time.perf_counter() - start
    net.load_state_dict(best_state)
    net.eval()
    test = {"synthetic": [f for f in frames["test"] if f.source.startswith("synthetic")]}
    test |= {Path(f.source).stem: [f] for f in frames["test"] if not f.source.startswith("synthetic")}
    tests = {k: _evaluate(net, v, config.activation_weight) for k, v in test.items() if v}
    stats = {
        "steps": config.steps,
        "wall_s": round(wall, 1),
        "train_frames": n,
        "val_frames": int(sum(f.q.shape[0] for f in frames["val"])),
        "best_val_loss": best,
        "test": tests,
        "history": history,
    }
    data = {
        "synthetic": {
            "seed": config.seed,
            "subjects": config.n_subjects,
            "clips": config.n_clips,
            "clip_s": config.clip_s,
        },
        "real_train": [Path(p).name for p in config.real_train],
        "real_test": [Path(p).name for p in config.real_test],
    }
    settings = {k: v for k, v in asdict(config).items() if k not in ("out", "refdata")}
    summary = {k: v for k, v in stats.items() if k != "history"}
    extra = {"task": "muscle_nn", "train": settings, "data": data, "stats": summary}
    save_checkpoint(config.out, {"model": net}, extra, overwrite=config.overwrite)
    return stats
