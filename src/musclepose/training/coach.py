"""Training the MusclePose coach: the physics-informed encoder, then PhysicsBridge + LoRA on the LLM.

Two stages over the same prepared clips (:mod:`.coach_data`), each with its own AdamW
optimiser and cosine schedule (the seed's settings: physics 3e-4 / wd 1e-4; bridge + LoRA
2e-4 / wd 0.01), gradients clipped to norm 1, non-finite steps skipped and counted:

1. **Encoder** (``encoder_epochs``; the LM loss is off, the seed's "LM warm-up"). Supervised
   terms where the synthetic clip has ground truth: ``q`` (rad, m), foot contact, the
   static-optimisation activations, anthropometrics, exercise and faults (presence, severity,
   side). Physics terms of the seed: ``tau_mtg`` (the torque generators driven by the
   predicted activations at the predicted ``q``, ``qd``) against the clip's inverse dynamics
   ``tau_q[6:]`` (a detached teacher) as Smooth-L1 of ``sign * log1p(|tau|)``; jerk of the
   predicted ``q``; joint-limit violation; activation sparsity (mean a^2).
2. **Language** (``lm_epochs``). The encoder is frozen (gradient isolation: no LM gradient
   reaches it). For each clip its physics is computed once from the encoder's predictions
   (``q``, ``qd`` by differentiation at the encoder's frame rate, ``tau_q`` by inverse dynamics
   with ground reactions estimated from the predicted motion, ``tau_mtg``, activations,
   contact); PhysicsBridge turns it into soft tokens and the LLM, with LoRA on every linear
   layer of its decoder blocks, learns ``[soft tokens | prompt | target]`` with the loss on the
   target only (padding masked, log-softmax in float32). The prompt is the coach summary
   (:func:`musclepose.language.coach.coach_summary`, with the measured form screen,
   :mod:`.form_screen`); the target is :func:`musclepose.language.coach.target_text` of the
   same facts, faults included.

Checkpoints are folders (:mod:`.checkpoint`): ``encoder`` and ``bridge`` safetensors, the
LoRA adapter (``adapter/``, peft's safetensors), and ``train_state/`` (optimiser and schedule
state, safetensors + JSON) so that ``musclepose train coach`` resumes after being killed.
"""

from __future__ import annotations

import functools
import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..language.coach import FAULT_NAMES, SIDED_FAULTS, coach_summary, target_text
from ..language.prompts import SYSTEM_PROMPT, DetectedFault, build_prompt
from ..models.bridge import BridgeConfig, PhysicsBridge, physics_features
from ..models.encoder import EncoderConfig, MotionEncoder
from .checkpoint import load_checkpoint, save_checkpoint
from .coach_data import ENCODER_FPS, EXERCISE_NAMES, CoachExample
from .distributed import all_finite, average_gradients, barrier, broadcast_parameters
from .distributed import world as dist_world
from .form_screen import FormScreen
from .progress import progress_bar

__all__ = [
    "BodyCache",
    "CoachTrainConfig",
    "bridge_inputs",
    "detect_faults",
    "exercise_faults",
    "lm_batch",
    "lm_pool",
    "train_coach",
]

LOSS_WEIGHTS = {
    "q": 1.0, "contact": 0.2, "activations": 1.0, "shape": 0.1, "fault": 1.0, "severity": 0.5, "side": 0.2,
    "exercise": 0.2, "mtg": 1.0, "jerk": 0.1, "limits": 0.05, "sparsity": 0.01, "grf": 1.0,
}  # fmt: skip
FAULT_POS_WEIGHT = 3.0


@dataclass
class CoachTrainConfig:
    """Settings of :func:`train_coach` (the defaults fit a few minutes per stage on 2 CPU cores)."""

    out: str
    encoder_epochs: int = 4
    lm_epochs: int = 1
    batch_size: int = 8
    lm_batch_size: int = 4
    lr_physics: float = 3e-4
    wd_physics: float = 1e-4
    lr_lm: float = 2e-4
    wd_lm: float = 0.01
    lora_r: int = 8
    lora_alpha: int = 16
    llm: str = "smollm2-135m-instruct"
    device: str = "cpu"
    seed: int = 0
    keypoint_dropout: float = 0.25
    lm_max_examples: int | None = None  # per LM epoch (None: all training clips)
    # Clips whose form screen finds two or more faults appear this many times in the LM pool: they
    # are the only ones that teach the LLM to go on to a second fault (at 1, it learned to stop).
    lm_multi_fault_repeat: int = 3
    # EncoderConfig overrides. No dropout: with a padding mask, attention dropout takes PyTorch's
    # unfused attention path on the CPU (3.5x slower per step, measured); the data are randomised.
    encoder: dict[str, Any] = field(default_factory=lambda: {"dropout": 0.0})
    bridge: dict[str, Any] = field(default_factory=dict)  # BridgeConfig overrides
    data: list[str] = field(default_factory=list)  # recorded in the checkpoint
    command: str = ""


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


def _batch(examples: list[CoachExample], keypoint_dropout: float = 0.0, gen: torch.Generator | None = None):
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


def _possible(exercise: str) -> torch.Tensor:
    allowed = exercise_faults().get(exercise, FAULT_NAMES)
    return torch.tensor([float(n in allowed) for n in FAULT_NAMES])


# ---------------------------------------------------------------------------------- physics
class BodyCache:
    """Bodies, muscle parameters and joint limits per anthropometry (shared across clips)."""

    def __init__(self) -> None:
        self._cache: dict[tuple, tuple] = {}

    def get(self, b: dict[str, Any]):
        from ..body import Body, mtg_parameters

        key = (round(b["height_m"], 6), round(b["mass_kg"], 6), b["sex"])
        if key not in self._cache:
            body = Body.standard(b["height_m"], b["mass_kg"], b["sex"])
            lo = torch.as_tensor(body.dof_lower[6:], dtype=torch.float32)
            hi = torch.as_tensor(body.dof_upper[6:], dtype=torch.float32)
            self._cache[key] = (body, mtg_parameters(body), lo, hi)
        return self._cache[key]


def _signed_log(x: torch.Tensor) -> torch.Tensor:
    return torch.sign(x) * torch.log1p(x.abs())


def encoder_losses(encoder: MotionEncoder, batch: dict, examples: list[CoachExample], bodies: BodyCache):
    """``(losses, out)``: the stage-1 loss terms (module docstring) as a dict of scalars, and the
    encoder's output."""
    from ..body import muscle_torque
    from ..motion.differentiate import derivatives

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


@functools.cache
def _grf_model():
    from ..models.grf import GRFModel

    return GRFModel()


def encoder_grf(delta: torch.Tensor, psi: torch.Tensor, feet: torch.Tensor, contact: torch.Tensor):
    """Ground reactions (body weights, ``(T, 2, 3)``) of the seed's GRF model (:mod:`musclepose.models.grf`)
    on the motion's features ``psi``/``feet`` with the encoder's residuals ``delta (T, 2, 5)``."""
    from ..models.grf import GRFInputs

    inputs = GRFInputs(psi=psi.to(delta), heel=feet[..., 0, :].to(delta), toe=feet[..., 1, :].to(delta))
    return _grf_model().to(delta.device)(inputs, contact.to(delta), 1.0, delta=delta).force


def grf_loss(delta: torch.Tensor, ex: CoachExample) -> torch.Tensor:
    """Smooth-L1 (body weights) between the GRF model with the encoder's residuals, on the clip's
    true motion and contacts, and the clip's ground-truth ground reactions: the residual head
    learns what the linear seed model misses."""
    force = encoder_grf(delta, ex.grf_psi, ex.grf_feet, ex.contact)
    return F.smooth_l1_loss(force, ex.grf.to(force), beta=0.1)


def _total(losses: dict[str, torch.Tensor]) -> torch.Tensor:
    return sum(LOSS_WEIGHTS[k] * v for k, v in losses.items())


# ---------------------------------------------------------------------------------- inference pieces
def detect_faults(out, b: int, exercise: str, threshold: float = 0.5):
    """The encoder's form screen of clip ``b``: faults of ``exercise`` whose probability passes ``threshold``."""
    allowed = exercise_faults().get(exercise, FAULT_NAMES)
    prob = torch.sigmoid(out.fault_logits[b]).tolist()
    sev = out.fault_severity[b].tolist()
    side = torch.sigmoid(out.fault_side_logits[b]).tolist()
    found = []
    for k, name in enumerate(FAULT_NAMES):
        if name in allowed and prob[k] >= threshold:
            s = ("r" if side[k] >= 0.5 else "l") if name in SIDED_FAULTS else None
            found.append(DetectedFault(name, round(prob[k], 2), round(sev[k], 2), s))
    return sorted(found, key=lambda f: -f.severity)


def bridge_inputs(out, b: int, t: int, body_info: dict[str, Any], bodies: BodyCache):
    """``(physics (1, t, 266), states (1, t, d), tau_q (t, 47), tau_mtg (t, 41))`` of clip ``b``
    from the encoder's predictions (``tau_q``: inverse dynamics with estimated ground reactions)."""
    from ..body import muscle_torque
    from ..motion import Motion
    from ..motion.kinetics import compute_kinetics

    body, params, _, _ = bodies.get(body_info)
    q = out.q[b, :t].detach().double()
    motion = Motion(q, ENCODER_FPS, body)
    kin = compute_kinetics(motion, cutoff_hz=None, muscles=False)
    qd = kin.qd
    act = out.activations[b, :t].detach().double()
    tau_mtg = muscle_torque(params, q, qd, act)
    contact = torch.sigmoid(out.contact_logits[b, :t].detach()).double()
    phys = physics_features(torch.tensor([body.mass_kg]), q[None], qd[None], kin.tau[None], tau_mtg[None],
                            act[None], contact[None])  # fmt: skip
    return phys.float(), out.states[b : b + 1, :t].detach(), kin.tau, tau_mtg


def lm_batch(llm, items: list[tuple[torch.Tensor, str, str | None]]) -> dict[str, torch.Tensor]:
    """Right-padded ``inputs_embeds``, ``attention_mask`` and ``labels`` (-100 off the target) for
    ``[soft tokens | prompt | target]``; each item is ``(soft (1, n, h) or None, prompt, target)``."""
    tok = llm.tokenizer
    emb = llm.model.get_input_embeddings()
    rows, labels = [], []
    for soft, prompt, target in items:
        p_ids = tok(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"][0]
        t_ids = tok(target + (tok.eos_token or ""), return_tensors="pt", add_special_tokens=False)["input_ids"][0] \
            if target is not None else torch.zeros(0, dtype=torch.long)  # fmt: skip
        ids = torch.cat([p_ids, t_ids]).to(llm.device)
        e = emb(ids)
        n_soft = 0
        if soft is not None:
            e = torch.cat([soft[0].to(e.dtype), e], 0)
            n_soft = soft.shape[1]
        rows.append(e)
        labels.append(torch.cat([torch.full((n_soft + len(p_ids),), -100), t_ids]))
    t = max(r.shape[0] for r in rows)
    h = rows[0].shape[1]
    embeds = rows[0].new_zeros(len(rows), t, h)
    mask = torch.zeros(len(rows), t, dtype=torch.long)
    lab = torch.full((len(rows), t), -100, dtype=torch.long)
    for i, (r, lb) in enumerate(zip(rows, labels, strict=True)):
        embeds[i, : r.shape[0]] = r
        mask[i, : r.shape[0]] = 1
        lab[i, : r.shape[0]] = lb
    return {"inputs_embeds": embeds, "attention_mask": mask.to(llm.device), "labels": lab.to(llm.device)}


def lm_loss(llm, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Next-token cross-entropy on the target tokens, computed in float32."""
    logits = llm.model(inputs_embeds=batch["inputs_embeds"], attention_mask=batch["attention_mask"]).logits
    logits = logits[:, :-1].float()
    labels = batch["labels"][:, 1:]
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)


# ---------------------------------------------------------------------------------- state
def _cosine(step: int, total: int, lr: float, floor: float = 1e-6, warmup: int = 0) -> float:
    if warmup and step < warmup:
        return lr * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return floor + 0.5 * (lr - floor) * (1.0 + math.cos(math.pi * p))


def _save_optimizer(opt: torch.optim.Optimizer, folder: Path, name: str) -> None:
    from safetensors.torch import save_file

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


def _load_optimizer(opt: torch.optim.Optimizer, folder: Path, name: str) -> None:
    from safetensors.torch import load_file

    meta = json.loads((folder / f"{name}.json").read_text())
    tensors = load_file(folder / f"{name}.safetensors")
    state: dict[int, dict[str, Any]] = {int(p): dict(v) for p, v in meta["state"].items()}
    for key, v in tensors.items():
        pid, _, k = key.partition(".")
        state.setdefault(int(pid), {})[k] = v
    opt.load_state_dict({"param_groups": meta["param_groups"], "state": state})


def save_coach(folder: Path, encoder, bridge, llm, extra: dict[str, Any], train_state: dict | None = None) -> None:
    """Write the coach checkpoint folder atomically (encoder, bridge, LoRA adapter, train state)."""
    parts = {"encoder": encoder}
    if bridge is not None:
        parts["bridge"] = bridge
    screen = folder / "form_screen.json"
    kept = screen.read_text() if screen.is_file() else None
    save_checkpoint(folder, parts, extra)
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
            _save_optimizer(opt, tmp, name)
        (tmp / "state.json").write_text(json.dumps(train_state))
        os.replace(tmp, folder / "train_state")


# ---------------------------------------------------------------------------------- training
@functools.cache
def exercise_faults() -> dict[str, tuple[str, ...]]:
    """Exercise -> the faults its generator can inject (the form screen reports only these)."""
    from ..sim.exercises import EXERCISES

    return {name: tuple(spec.faults) for name, spec in EXERCISES.items()}


def _val_metrics(encoder, examples: list[CoachExample], batch_size: int, bodies: BodyCache, device=None):
    encoder.eval()
    tot: dict[str, float] = {}
    tp = fp = fn = 0
    with torch.no_grad():
        for i in range(0, len(examples), batch_size):
            chunk = examples[i : i + batch_size]
            batch = {k: v.to(device or "cpu") for k, v in _batch(chunk).items()}
            losses, out = encoder_losses(encoder, batch, chunk, bodies)
            for k, v in losses.items():
                tot[k] = tot.get(k, 0.0) + float(v) * len(chunk)
            for b, ex in enumerate(chunk):
                found = {f.name for f in detect_faults(out, b, ex.exercise)}
                true = set(ex.faults)
                tp, fp, fn = tp + len(found & true), fp + len(found - true), fn + len(true - found)
    encoder.train()
    m = {k: v / max(1, len(examples)) for k, v in tot.items()}
    m["fault_recall"] = tp / max(1, tp + fn)
    m["fault_precision"] = tp / max(1, tp + fp)
    return m


def train_coach(
    config: CoachTrainConfig, train: list[CoachExample], val: list[CoachExample], log=print, llm=None
) -> Path:
    """Run (or resume) both stages; returns the checkpoint folder ``config.out``.

    ``llm``: an already loaded :class:`~musclepose.language.backend.LLM` (tests pass a tiny one);
    default: load ``config.llm``."""
    out = Path(config.out)
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    bodies = BodyCache()
    enc_cfg = EncoderConfig(keypoint_dim=17 * 3, n_faults=len(FAULT_NAMES), n_exercises=len(EXERCISE_NAMES),
                            **config.encoder)  # fmt: skip
    device = torch.device(config.device)
    encoder = MotionEncoder(enc_cfg).to(device)
    opt_phys = torch.optim.AdamW(list(encoder.parameters()), lr=config.lr_physics, weight_decay=config.wd_physics)
    state = {"epoch": 0, "step": 0, "lm_step": 0, "stage": "encoder", "history": [], "skipped_steps": 0}
    extra = {"train_config": asdict(config), "fault_names": list(FAULT_NAMES), "exercise_names": list(EXERCISE_NAMES),
             "encoder_fps": ENCODER_FPS, "n_train": len(train), "n_val": len(val)}  # fmt: skip
    if (out / "train_state" / "state.json").is_file():
        parts, _ = load_checkpoint(out)
        encoder.load_state_dict(parts["encoder"].float().state_dict())
        state = json.loads((out / "train_state" / "state.json").read_text())
        if (out / "train_state" / "physics.json").is_file():
            _load_optimizer(opt_phys, out / "train_state", "physics")
        log(f"resuming {out} at epoch {state['epoch']} ({state['stage']})")
    rank, size = dist_world()
    broadcast_parameters(encoder.parameters())
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
                batch = {k: v.to(device) for k, v in _batch(chunk, config.keypoint_dropout, gen).items()}
                losses, _ = encoder_losses(encoder, batch, chunk, bodies)
                loss = _total(losses)
                for g in opt_phys.param_groups:
                    g["lr"] = _cosine(state["step"], total, config.lr_physics, warmup=min(50, total // 10))
                opt_phys.zero_grad(set_to_none=True)
                if all_finite(loss):
                    loss.backward()
                    average_gradients(encoder.parameters())
                    torch.nn.utils.clip_grad_norm_(encoder.parameters(), 1.0)
                    opt_phys.step()
                else:
                    state["skipped_steps"] += 1
                state["step"] += 1
                advance(1, info=f"loss {loss.item():.3f} fault {losses['fault'].item():.3f}")
        val_m = _val_metrics(encoder, val, config.batch_size, bodies, device)
        state["epoch"] += 1
        state["history"].append({"stage": "encoder", "epoch": epoch + 1, "seconds": time.time() - t0, **val_m})
        if main:
            log(f"encoder epoch {epoch + 1}: " + ", ".join(f"{k} {v:.4f}" for k, v in val_m.items()))
            save_coach(out, encoder, None, None, extra | {"history": state["history"]},
                       {**state, "optimizers": {"physics": opt_phys}})  # fmt: skip
        barrier()
    screen_path = out / "form_screen.json"
    if main and not screen_path.is_file():
        screen = FormScreen.fit([(e.exercise, e.measures, e.faults) for e in train])
        screen.save(screen_path)
        log(f"form screen: thresholds for {sum(len(r) for r in screen.rules.values())} (exercise, fault) pairs")
    barrier()
    if config.lm_epochs > 0:
        _train_lm(config, encoder, train, state, extra, bodies, log, llm, FormScreen.load(screen_path))
    return out


def lm_pool(train: list[CoachExample], screen: FormScreen | None, multi_fault_repeat: int) -> list[CoachExample]:
    """The LM stage's clips: ``train``, with each clip whose form screen finds two or more faults
    ``multi_fault_repeat`` times in all (``screen`` None: ``train`` as it is)."""
    if screen is None or multi_fault_repeat <= 1:
        return list(train)
    multi = [ex for ex in train if len(screen.screen(ex.exercise, ex.measures)) >= 2]
    return list(train) + multi * (multi_fault_repeat - 1)


def _train_lm(config, encoder, train, state, extra, bodies, log, llm=None, screen=None) -> None:
    from ..language.backend import LLMConfig, load_llm

    out = Path(config.out)
    device = torch.device(config.device)
    encoder.eval()
    for p in encoder.parameters():
        p.requires_grad_(False)
    llm = llm or load_llm(LLMConfig(name_or_path=config.llm, device=config.device))
    br_cfg = BridgeConfig(llm_hidden=llm.hidden_size, embedding_scale=llm.embedding_scale, **config.bridge)
    bridge = PhysicsBridge(br_cfg).to(device)
    if (out / "bridge.safetensors").is_file():
        parts, _ = load_checkpoint(out)
        bridge.load_state_dict(parts["bridge"].float().state_dict())
    if (out / "adapter").is_dir():
        from peft import PeftModel

        llm.model = PeftModel.from_pretrained(llm.model, out / "adapter", is_trainable=True)
    else:
        llm.add_lora(r=config.lora_r, alpha=config.lora_alpha)
    llm.model.train()
    params = [p for p in bridge.parameters()] + [p for p in llm.model.parameters() if p.requires_grad]
    broadcast_parameters(params)
    opt = torch.optim.AdamW(params, lr=config.lr_lm, weight_decay=config.wd_lm)
    if (out / "train_state" / "lm.json").is_file():
        _load_optimizer(opt, out / "train_state", "lm")
    rank, size = dist_world()
    main = rank == 0
    pool = lm_pool(train, screen, config.lm_multi_fault_repeat)
    if main and len(pool) > len(train):
        log(f"LM pool: {len(train)} clips + {len(pool) - len(train)} repeats of clips with 2+ screened faults")
    n_ex = min(len(pool), config.lm_max_examples or len(pool))
    per_step = config.lm_batch_size * size
    steps_per_epoch = math.ceil(n_ex / per_step)
    total = steps_per_epoch * config.lm_epochs
    cache: dict[int, tuple] = {}

    def prepared(ex: CoachExample):
        if ex.index not in cache:
            with torch.no_grad():
                o = encoder(ex.inputs[None].to(device), ENCODER_FPS)
                o = type(o)(**{k: v.cpu() if torch.is_tensor(v) else v for k, v in vars(o).items()})
                phys, states, _, _ = bridge_inputs(o, 0, ex.inputs.shape[0], ex.body, bodies)
                faults = (
                    screen.screen(ex.exercise, ex.measures) if screen is not None
                    else detect_faults(o, 0, ex.exercise)
                )  # fmt: skip
            summary = coach_summary(ex.exercise, ex.analysis, ex.peak_moments, faults)
            cache[ex.index] = (phys, states, summary)
        return cache[ex.index]

    while state["lm_step"] < total:
        epoch = state["lm_step"] // steps_per_epoch
        order = torch.randperm(len(pool), generator=torch.Generator().manual_seed(config.seed + 100 + epoch)).tolist()
        order = order[:n_ex]
        start = state["lm_step"] - epoch * steps_per_epoch
        rng = np.random.default_rng(config.seed + epoch)
        with progress_bar(f"LM epoch {epoch + 1}/{config.lm_epochs}", steps_per_epoch, main) as advance:
            advance(start)
            for s in range(start, steps_per_epoch):
                items = []
                share = order[s * per_step : (s + 1) * per_step][rank * config.lm_batch_size :][: config.lm_batch_size]
                for i in share or order[: config.lm_batch_size]:  # a short last step: reuse clips
                    ex = pool[i]
                    phys, states, summary = prepared(ex)
                    soft = bridge(phys.to(device), states.to(device), fps=ENCODER_FPS)
                    system, user = build_prompt(summary, SYSTEM_PROMPT)
                    items.append((soft, llm.chat_prompt(system, user), target_text(summary, None, rng)))
                loss = lm_loss(llm, lm_batch(llm, items))
                for g in opt.param_groups:
                    g["lr"] = _cosine(state["lm_step"], total, config.lr_lm, warmup=min(10, total // 10))
                opt.zero_grad(set_to_none=True)
                if all_finite(loss):
                    loss.backward()
                    average_gradients(params)
                    torch.nn.utils.clip_grad_norm_(params, 1.0)
                    opt.step()
                else:
                    state["skipped_steps"] += 1
                state["lm_step"] += 1
                state["history"].append({"stage": "lm", "step": state["lm_step"], "loss": loss.item()})
                advance(1, info=f"loss {loss.item():.3f}")
                if state["lm_step"] % 25 == 0 or state["lm_step"] == total:
                    if main:
                        save_coach(out, encoder, bridge, llm, extra | {"history": state["history"]},
                                   {**state, "stage": "lm", "optimizers": {"lm": opt}})  # fmt: skip
                    barrier()
        if main:
            log(f"LM epoch {epoch + 1}: last loss {state['history'][-1]['loss']:.3f}")


def export_coach(src: str | Path, dst: str | Path) -> Path:
    """Copy a trained coach checkpoint for shipping: encoder, bridge and LoRA adapter in float16,
    without the train state (about half the size; the loader casts back to float32)."""
    import tempfile

    from peft import PeftConfig
    from safetensors.torch import load_file, save_file

    src, dst = Path(src), Path(dst)
    parts, extra = load_checkpoint(src)
    if "bridge" not in parts or not (src / "adapter" / "adapter_model.safetensors").is_file():
        raise ValueError(f"{src}: not a complete coach checkpoint (needs encoder, bridge and adapter)")
    PeftConfig.from_pretrained(src / "adapter")  # validates the adapter config
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.", dir=dst.parent))
    try:
        save_checkpoint(tmp / "ckpt", {k: m.half() for k, m in parts.items()}, extra | {"history": []})
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
