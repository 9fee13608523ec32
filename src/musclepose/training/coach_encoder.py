"""Stage 1 of coach training: the physics-informed encoder (the LM loss off, the seed's "LM warm-up").

Supervised terms where the synthetic clip has ground truth: ``q`` (rad, m), foot contact, the
static-optimisation activations, anthropometrics, exercise and faults (presence, severity, side;
only the faults the clip's exercise can show count, positives weighted ``FAULT_POS_WEIGHT``), and
the ground reactions of the GRF model with the encoder's residuals (body weights). Physics terms
of the seed: ``tau_mtg`` (the torque generators driven by the predicted activations at the
predicted ``q``, ``qd``) against the clip's inverse dynamics ``tau_q[6:]`` (a detached teacher) as
Smooth-L1 of ``sign * log1p(|tau|)``; jerk of the predicted ``q``; joint-limit violation;
activation sparsity (mean a^2). Labels are indexed in the code's order (``EXERCISE_NAMES``,
``FAULT_NAMES``), which the checkpoint records.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ..body import muscle_torque
from ..catalogue import FAULT_NAMES, SIDED_FAULTS
from ..models.encoder import MotionEncoder
from ..motion.differentiate import derivatives
from ..pipelines.coach_examples import CoachExample
from ..pipelines.coach_inputs import ENCODER_FPS
from ..pipelines.coach_physics import BodyCache, encoder_grf
from ..pipelines.labels import EXERCISE_NAMES, LabelMap, detect_faults, exercise_faults
from ..progress import progress_bar
from .coach_state import cosine_lr, rng_state, save_coach
from .distributed import all_finite, average_gradients, barrier
from .distributed import world as dist_world

__all__ = ["LOSS_WEIGHTS", "encoder_batch", "encoder_losses", "grf_loss", "train_encoder_stage", "val_metrics"]

LOSS_WEIGHTS = {
    "q": 1.0, "contact": 0.2, "activations": 1.0, "shape": 0.1, "fault": 1.0, "severity": 0.5, "side": 0.2,
    "exercise": 0.2, "mtg": 1.0, "jerk": 0.1, "limits": 0.05, "sparsity": 0.01, "grf": 1.0,
}  # fmt: skip
FAULT_POS_WEIGHT = 3.0


# ---------------------------------------------------------------------------------- batching
def _pad_stack(xs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    t = max(x.shape[0] for x in xs)
    out = xs[0].new_zeros((len(xs), t, *xs[0].shape[1:]))
    pad = torch.ones(len(xs), t, dtype=torch.bool)
    for i, x in enumerate(xs):
        out[i, : x.shape[0]] = x
        pad[i, : x.shape[0]] = False
    return out, pad


def _fault_targets(ex: CoachExample) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    present, severity, side = (torch.zeros(len(FAULT_NAMES)) for _ in range(3))
    for name, f in ex.faults.items():
        if name in FAULT_NAMES:
            k = FAULT_NAMES.index(name)
            present[k], severity[k], side[k] = 1.0, float(f["severity"]), float(f.get("side") == "r")
    return present, severity, side


def _possible(exercise: str) -> torch.Tensor:
    allowed = exercise_faults().get(exercise, FAULT_NAMES)
    return torch.tensor([float(n in allowed) for n in FAULT_NAMES])


def encoder_batch(examples: list[CoachExample], keypoint_dropout: float = 0.0, gen: torch.Generator | None = None):
    """The padded inputs and targets of ``examples``; keypoints dropped for a ``keypoint_dropout``
    share of the clips (by ``gen``)."""
    inputs, pad = _pad_stack([e.inputs for e in examples])
    if keypoint_dropout > 0:
        drop = torch.rand(len(examples), generator=gen) < keypoint_dropout
        inputs[drop, :, 7:] = 0.0
    ft = [_fault_targets(e) for e in examples]
    return {
        "inputs": inputs,
        "pad": pad,
        "q": _pad_stack([e.q for e in examples])[0],
        "contact": _pad_stack([e.contact for e in examples])[0],
        "activations": _pad_stack([e.activations for e in examples])[0],
        "tau": _pad_stack([e.tau for e in examples])[0],
        "shape": torch.tensor(
            [[e.body["height_m"], e.body["mass_kg"] / 100.0, float(e.body["sex"] == "male")] for e in examples]
        ),  # fmt: skip
        "fault": torch.stack([f[0] for f in ft]),
        "severity": torch.stack([f[1] for f in ft]),
        "side": torch.stack([f[2] for f in ft]),
        "exercise": torch.tensor([EXERCISE_NAMES.index(e.exercise) for e in examples]),
        "possible": torch.stack([_possible(e.exercise) for e in examples]),
    }


# ---------------------------------------------------------------------------------- losses
def _signed_log(x: torch.Tensor) -> torch.Tensor:
    return torch.sign(x) * torch.log1p(x.abs())


def grf_loss(delta: torch.Tensor, ex: CoachExample) -> torch.Tensor:
    """Smooth-L1 (body weights) between the GRF model with the encoder's residuals, on the clip's
    true motion and contacts, and the clip's ground-truth ground reactions: the residual head
    learns what the linear seed model misses."""
    force = encoder_grf(delta, ex.grf_psi, ex.grf_feet, ex.contact)
    return F.smooth_l1_loss(force, ex.grf.to(force), beta=0.1)


def encoder_losses(encoder: MotionEncoder, batch: dict, examples: list[CoachExample], bodies: BodyCache):
    """``(losses, out)``: the stage-1 loss terms (module docstring) as a dict of scalars, and the
    encoder's output."""
    out = encoder(batch["inputs"], ENCODER_FPS, pad=batch["pad"])
    keep = (~batch["pad"]).float()[..., None]
    n = keep.sum().clamp(min=1.0)

    def masked_mean(x: torch.Tensor) -> torch.Tensor:
        return (x * keep).sum() / (n * x.shape[-1])

    losses = {
        "q": masked_mean((out.q - batch["q"]) ** 2),
        "contact": masked_mean(
            F.binary_cross_entropy_with_logits(out.contact_logits, batch["contact"], reduction="none")
        ),
        "activations": masked_mean((out.activations - batch["activations"]) ** 2),
        "shape": F.mse_loss(out.shape, batch["shape"]),
        "exercise": F.cross_entropy(out.exercise_logits, batch["exercise"]),
    }
    # Faults: only those the clip's exercise can show count (the exercise is known when coaching);
    # positives weighted up, since most (clip, fault) pairs are negatives.
    possible = batch["possible"]
    weight = torch.tensor(FAULT_POS_WEIGHT, device=possible.device)
    bce = F.binary_cross_entropy_with_logits(out.fault_logits, batch["fault"], reduction="none", pos_weight=weight)
    losses["fault"] = (bce * possible).sum() / possible.sum().clamp(min=1.0)
    present = batch["fault"]
    denom = present.sum().clamp(min=1.0)
    losses["severity"] = (((out.fault_severity - batch["severity"]) ** 2) * present).sum() / denom
    sided = present * torch.tensor([float(n in SIDED_FAULTS) for n in FAULT_NAMES], device=present.device)
    side_bce = F.binary_cross_entropy_with_logits(out.fault_side_logits, batch["side"], reduction="none")
    losses["side"] = (side_bce * sided).sum() / sided.sum().clamp(min=1.0)
    # Physics: torque generators at the predicted state against the clip's inverse dynamics.
    qd, _ = derivatives(out.q, ENCODER_FPS)
    mtg, lim = [], []
    for b, ex in enumerate(examples):
        t = ex.q.shape[0]
        body, params, lo, hi = bodies.get(ex.body)
        q_b, qd_b = out.q[b, :t].double(), qd[b, :t].double()
        tau_mtg = muscle_torque(params, q_b, qd_b, out.activations[b, :t].double()).float()
        teacher = batch["tau"][b, :t, 6:].detach()
        mtg.append(F.smooth_l1_loss(_signed_log(tau_mtg), _signed_log(teacher)))
        rot = out.q[b, :t, 6:]
        lo, hi = lo.to(rot.device), hi.to(rot.device)
        lim.append((F.relu(rot - hi) + F.relu(lo - rot)).pow(2).mean())
    losses["mtg"] = torch.stack(mtg).mean()
    if all(ex.grf is not None for ex in examples):
        grf = [grf_loss(out.grf_delta[b, : ex.q.shape[0]], ex) for b, ex in enumerate(examples)]
        losses["grf"] = torch.stack(grf).mean()
    losses["limits"] = torch.stack(lim).mean()
    jerk = torch.diff(out.q[..., 6:], n=3, dim=1) * ENCODER_FPS**3 / 1000.0
    jkeep = keep[:, 3:]
    losses["jerk"] = (jerk.pow(2) * jkeep).sum() / (jkeep.sum().clamp(min=1.0) * jerk.shape[-1])
    losses["sparsity"] = masked_mean(out.activations**2)
    return losses, out


def _total(losses: dict[str, torch.Tensor]) -> torch.Tensor:
    return sum(LOSS_WEIGHTS[k] * v for k, v in losses.items())


# ---------------------------------------------------------------------------------- the stage
def val_metrics(encoder, examples: list[CoachExample], batch_size: int, bodies: BodyCache, device=None):
    """Mean loss terms over ``examples`` and the fault heads' recall and precision."""
    labels = LabelMap.current()
    encoder.eval()
    tot: dict[str, float] = {}
    tp = fp = fn = 0
    with torch.no_grad():
        for i in range(0, len(examples), batch_size):
            chunk = examples[i : i + batch_size]
            batch = {k: v.to(device or "cpu") for k, v in encoder_batch(chunk).items()}
            losses, out = encoder_losses(encoder, batch, chunk, bodies)
            for k, v in losses.items():
                tot[k] = tot.get(k, 0.0) + float(v) * len(chunk)
            for b, ex in enumerate(chunk):
                found = {f.name for f in detect_faults(out, b, ex.exercise, labels)}
                true = set(ex.faults)
                tp, fp, fn = tp + len(found & true), fp + len(found - true), fn + len(true - found)
    encoder.train()
    m = {k: v / max(1, len(examples)) for k, v in tot.items()}
    m["fault_recall"] = tp / max(1, tp + fn)
    m["fault_precision"] = tp / max(1, tp + fp)
    return m


def train_encoder_stage(
    config: Any, encoder: MotionEncoder, opt: torch.optim.Optimizer, state: dict[str, Any],
    train: list[CoachExample], val: list[CoachExample], extra: dict[str, Any], bodies: BodyCache,
    gen: torch.Generator, log,
) -> None:  # fmt: skip
    """Run the encoder epochs of ``config`` (a ``CoachTrainConfig``) not yet in ``state``, from its
    step on; rank 0 checkpoints every ``config.checkpoint_every`` steps and after each epoch, with
    the RNG states (``gen`` draws the keypoint dropout), so that a resumed run continues exactly."""
    out = Path(config.out)
    device = torch.device(config.device)
    rank, size = dist_world()
    main = rank == 0
    per_step = config.batch_size * size  # clips per optimiser step over all ranks
    steps_per_epoch = math.ceil(len(train) / per_step)
    total = steps_per_epoch * config.encoder_epochs
    encoder.train()
    while state["epoch"] < config.encoder_epochs:
        epoch = state["epoch"]
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(config.seed + epoch)).tolist()
        done_in_epoch = state["step"] - epoch * steps_per_epoch
        t0 = time.time()
        with progress_bar(f"encoder epoch {epoch + 1}/{config.encoder_epochs}", steps_per_epoch, main) as advance:
            advance(done_in_epoch)
            for s in range(done_in_epoch, steps_per_epoch):
                share = order[s * per_step : (s + 1) * per_step][rank * config.batch_size :][: config.batch_size]
                chunk = [train[i] for i in (share or order[: config.batch_size])]  # a short last step: reuse clips
                batch = {k: v.to(device) for k, v in encoder_batch(chunk, config.keypoint_dropout, gen).items()}
                losses, _ = encoder_losses(encoder, batch, chunk, bodies)
                loss = _total(losses)
                for g in opt.param_groups:
                    g["lr"] = cosine_lr(state["step"], total, config.lr_physics, warmup=min(50, total // 10))
                opt.zero_grad(set_to_none=True)
                if all_finite(loss):
                    loss.backward()
                    average_gradients(encoder.parameters())
                    torch.nn.utils.clip_grad_norm_(encoder.parameters(), 1.0)
                    opt.step()
                else:
                    state["skipped_steps"] += 1
                state["step"] += 1
                advance(1, info=f"loss {loss.item():.3f} fault {losses['fault'].item():.3f}")
                every = config.checkpoint_every
                if every and state["step"] % every == 0 and s + 1 < steps_per_epoch:  # mid-epoch
                    if main:
                        save_coach(out, encoder, None, None, extra | {"history": state["history"]},
                                   {**state, "rng": rng_state(gen), "optimizers": {"physics": opt}},
                                   overwrite=config.overwrite)  # fmt: skip
                    barrier()
        val_m = val_metrics(encoder, val, config.batch_size, bodies, device)
        state["epoch"] += 1
        state["history"].append({"stage": "encoder", "epoch": epoch + 1, "seconds": time.time() - t0, **val_m})
        if main:
            log(f"encoder epoch {epoch + 1}: " + ", ".join(f"{k} {v:.4f}" for k, v in val_m.items()))
            save_coach(out, encoder, None, None, extra | {"history": state["history"]},
                       {**state, "rng": rng_state(gen), "optimizers": {"physics": opt}},
                       overwrite=config.overwrite)  # fmt: skip
        barrier()
