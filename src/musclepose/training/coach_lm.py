"""Stage 2 of coach training: PhysicsBridge + LoRA on the LLM, the encoder frozen.

Gradient isolation: no LM gradient reaches the encoder. For each clip its physics is computed
once from the encoder's predictions (:func:`musclepose.pipelines.coach_physics.bridge_inputs`);
PhysicsBridge turns it into soft tokens and the LLM, with LoRA on every linear layer of its
decoder blocks, learns ``[soft tokens | prompt | target]`` with the loss on the target only
(padding masked, log-softmax in float32). The prompt is the coach summary
(:func:`musclepose.language.coach.coach_summary`, with the measured form screen); the target is
:func:`musclepose.language.coach.target_text` of the same facts, faults included.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..language.backend import LLMConfig, load_llm
from ..language.coach import coach_summary, target_text
from ..language.prompts import SYSTEM_PROMPT, build_prompt
from ..models.bridge import BridgeConfig, PhysicsBridge
from ..pipelines.checkpoint import load_checkpoint
from ..pipelines.coach_examples import CoachExample
from ..pipelines.coach_inputs import ENCODER_FPS
from ..pipelines.coach_physics import BodyCache, bridge_inputs
from ..pipelines.form_screen import FormScreen
from ..pipelines.labels import LabelMap, detect_faults
from ..progress import progress_bar
from .coach_state import cosine_lr, load_optimizer, restore_rng, rng_state, save_coach
from .distributed import all_finite, average_gradients, barrier, broadcast_parameters
from .distributed import world as dist_world

__all__ = ["lm_batch", "lm_loss", "lm_pool", "train_lm_stage"]


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


def lm_pool(train: list[CoachExample], screen: FormScreen | None, multi_fault_repeat: int) -> list[CoachExample]:
    """The LM stage's clips: ``train``, with each clip whose form screen finds two or more faults
    ``multi_fault_repeat`` times in all (``screen`` None: ``train`` as it is)."""
    if screen is None or multi_fault_repeat <= 1:
        return list(train)
    multi = [ex for ex in train if len(screen.screen(ex.exercise, ex.measures)) >= 2]
    return list(train) + multi * (multi_fault_repeat - 1)


def train_lm_stage(
    config: Any, encoder, train: list[CoachExample], state: dict[str, Any], extra: dict[str, Any],
    bodies: BodyCache, log, llm=None, screen: FormScreen | None = None,
) -> None:  # fmt: skip
    """Run the LM steps of ``config`` (a ``CoachTrainConfig``) not yet in ``state``; rank 0
    checkpoints every ``config.lm_checkpoint_every`` steps and at the end, with the RNG states, so
    that a resumed run continues exactly. ``llm`` None: load ``config.llm``."""
    out = Path(config.out)
    device = torch.device(config.device)
    labels = LabelMap.current()
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
        from peft import PeftModel  # heavy, optional until a run resumes its adapter

        llm.model = PeftModel.from_pretrained(llm.model, out / "adapter", is_trainable=True)
    else:
        llm.add_lora(r=config.lora_r, alpha=config.lora_alpha)
    llm.model.train()
    params = [p for p in bridge.parameters()] + [p for p in llm.model.parameters() if p.requires_grad]
    broadcast_parameters(params)
    opt = torch.optim.AdamW(params, lr=config.lr_lm, weight_decay=config.wd_lm)
    if (out / "train_state" / "lm.json").is_file():
        load_optimizer(opt, out / "train_state", "lm")
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
    # Resuming mid-stage: the RNG states as they were when the checkpoint was written (after the
    # bridge and LoRA were built above, which drew from them in the first run too).
    resumed = state.get("rng") if state["lm_step"] > 0 else None
    if resumed:
        restore_rng(resumed)

    def prepared(ex: CoachExample):
        if ex.index not in cache:
            with torch.no_grad():
                o = encoder(ex.inputs[None].to(device), ENCODER_FPS)
                o = type(o)(**{k: v.cpu() if torch.is_tensor(v) else v for k, v in vars(o).items()})
                phys, states, _, _ = bridge_inputs(o, 0, ex.inputs.shape[0], ex.body, bodies)
                faults = (
                    screen.screen(ex.exercise, ex.measures) if screen is not None
                    else detect_faults(o, 0, ex.exercise, labels)
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
        if start > 0 and resumed and "numpy" in resumed:  # the target texts' phrasing, mid-epoch
            rng.bit_generator.state = resumed["numpy"]
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
                    g["lr"] = cosine_lr(state["lm_step"], total, config.lr_lm, warmup=min(10, total // 10))
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
                every = config.lm_checkpoint_every
                if (every and state["lm_step"] % every == 0) or state["lm_step"] == total:
                    if main:
                        save_coach(out, encoder, bridge, llm, extra | {"history": state["history"]},
                                   {**state, "stage": "lm", "rng": rng_state(None, rng), "optimizers": {"lm": opt}},
                                   overwrite=config.overwrite)  # fmt: skip
                    barrier()
        if main:
            log(f"LM epoch {epoch + 1}: last loss {state['history'][-1]['loss']:.3f}")
