"""Training the MusclePose coach: the physics-informed encoder, then PhysicsBridge + LoRA on the LLM.

:func:`train_coach` runs two stages over the same prepared clips
(:mod:`musclepose.pipelines.coach_examples`), each with its own AdamW optimiser and cosine
schedule (the seed's settings: physics 3e-4 / wd 1e-4; bridge + LoRA 2e-4 / wd 0.01), gradients
clipped to norm 1, non-finite steps skipped and counted: the encoder (:mod:`.coach_encoder`),
the measured form screen fitted on the training clips (:mod:`.form_screen`), then the bridge and
LoRA (:mod:`.coach_lm`). The checkpoint (:mod:`.coach_state`) records the label lists the heads
were trained with and resumes after a kill; data-parallel under ``torchrun`` (:mod:`.distributed`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..atomic import add_to_manifest
from ..catalogue import FAULT_NAMES
from ..models.encoder import EncoderConfig, MotionEncoder
from ..pipelines.checkpoint import checkpoint_labels, load_checkpoint
from ..pipelines.coach_examples import CoachExample
from ..pipelines.coach_inputs import ENCODER_FPS
from ..pipelines.coach_physics import BodyCache
from ..pipelines.form_screen import FormScreen
from ..pipelines.labels import EXERCISE_NAMES, LabelMap
from .coach_encoder import train_encoder_stage
from .coach_lm import train_lm_stage
from .coach_state import load_optimizer, restore_rng
from .distributed import barrier, broadcast_parameters
from .distributed import world as dist_world
from .form_screen import fit_form_screen

__all__ = ["CoachTrainConfig", "train_coach"]


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
    # Checkpoints every this many optimiser steps within an epoch (0: at epoch ends only) and LM
    # steps: what a kill can lose. A resumed run continues exactly (data position, RNG states).
    checkpoint_every: int = 100
    lm_checkpoint_every: int = 25
    overwrite: bool = False  # replace an --out folder that holds files MusclePose did not write


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
        labels = checkpoint_labels(out)
        if labels != LabelMap.current():  # its heads' rows mean other labels: resuming would mislabel them
            raise ValueError(f"{out}: trained with other label lists ({labels}) than this code's; train anew")
        parts, _ = load_checkpoint(out)
        encoder.load_state_dict(parts["encoder"].float().state_dict())
        state = json.loads((out / "train_state" / "state.json").read_text())
        if (out / "train_state" / "physics.json").is_file():
            load_optimizer(opt_phys, out / "train_state", "physics")
        restore_rng(state.get("rng"), gen)  # as it was when the checkpoint was written
        log(f"resuming {out} at epoch {state['epoch']}, step {state['step']} ({state['stage']})")
    rank, _ = dist_world()
    broadcast_parameters(encoder.parameters())
    main = rank == 0
    train_encoder_stage(config, encoder, opt_phys, state, train, val, extra, bodies, gen, log)
    screen_path = out / "form_screen.json"
    if main and not screen_path.is_file():
        screen = fit_form_screen([(e.exercise, e.measures, e.faults) for e in train])
        out.mkdir(parents=True, exist_ok=True)
        add_to_manifest(out, screen_path.name)  # listed first: the folder stays "written by MusclePose"
        screen.save(screen_path)
        log(f"form screen: thresholds for {sum(len(r) for r in screen.rules.values())} (exercise, fault) pairs")
    barrier()
    if config.lm_epochs > 0:
        train_lm_stage(config, encoder, train, state, extra, bodies, log, llm, FormScreen.load(screen_path))
    return out
