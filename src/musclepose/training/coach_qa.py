"""Training the coach to answer questions: the EventBridge and a LoRA adapter on the LLM, one adapter for two inputs.

Each training pair is a question about a synthetic clip (:func:`musclepose.pipelines.qa_examples.make_items`,
phrased from the ``train`` share of the templates) and the rule-based answer from the clip's measured
event table, phrased at random with its facts shuffled (:func:`musclepose.language.answers.answer_question`
with a random generator), kept only where the ground truth accepts its key (the answers are the truth's,
the numbers the table's). Each pair is shown in one of two forms, drawn per pair: ``tokens`` (the prompt
carries the question, the user's context and a short summary, and the EventBridge's soft tokens carry
the per-repetition table) or ``table`` (the same prompt with the table written in it, no soft tokens).
One LoRA adapter learns both, so that the benchmark compares the two ways of giving the LLM the time
series with the same weights and the same number of steps. The loss is on the answer only
(:func:`.coach_lm.lm_loss`); the motion encoder is frozen (its pooled states are inputs). A random
quarter of the pairs carries a goal and a level, which change only the advice part of the target.

The checkpoint folder (:mod:`musclepose.pipelines.checkpoint`) holds ``event_bridge.safetensors``, the
adapter and ``train_state/`` (optimiser, step, RNG states): a killed run resumes where it stopped.
``musclepose train coach-qa`` runs it; :func:`export_qa` writes the shipped float16 copy.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ..atomic import check_no_overlap, check_replaceable_dir
from ..catalogue import FAULT_NAMES
from ..language.answers import LEVELS, UserContext, answer_key, answer_question, qa_prompt
from ..language.backend import EMBEDDED_NAME, LLMConfig, load_llm
from ..language.questions import parse_question
from ..models.event_bridge import EventBridge, EventBridgeConfig
from ..pipelines.checkpoint import check_adapter, is_checkpoint_folder, load_checkpoint
from ..pipelines.labels import LabelMap
from ..pipelines.qa_examples import QAClip, QAItem, make_items
from ..progress import progress_bar
from ..signals.rep_events import N_BASE_FEATURES
from .checkpoint import save_checkpoint
from .coach_lm import lm_batch, lm_loss
from .coach_state import cosine_lr, guarded_step, load_optimizer, restore_rng, rng_state, save_optimizer

__all__ = ["QATrainConfig", "anchor_embeddings", "bridge_inputs_of", "export_qa", "train_qa", "training_pairs"]

_GOALS = ("rehab after ACL reconstruction", "build strength for hiking", "get back to running after a knee injury",
          "lose weight", "improve my squat for powerlifting", "stay mobile in my sixties")  # fmt: skip


@dataclass
class QATrainConfig:
    """Settings of :func:`train_qa`. Cost on one CPU thread: a step of 8 pairs took 135-195 s on a shared
    machine (prompts with the table average 330 tokens, up to 1,300)."""

    out: str
    steps: int = 200
    batch_size: int = 8
    lr: float = 1e-3
    wd: float = 0.01
    lora_r: int = 8
    lora_alpha: int = 16
    llm: str = EMBEDDED_NAME
    seed: int = 0
    table_share: float = 0.5  # share of pairs shown with the table in the prompt (the rest: soft tokens)
    context_share: float = 0.25
    checkpoint_every: int = 25
    bridge: dict[str, Any] = field(default_factory=dict)  # EventBridgeConfig overrides
    coach_checkpoint: str = ""  # the coach whose encoder and screen measured the clips (recorded)
    data: list[str] = field(default_factory=list)
    data_sha256: dict[str, str] = field(default_factory=dict)  # the data set file's and the prepared clips'
    command: str = ""
    overwrite: bool = False


def anchor_embeddings(llm: Any, max_reps: int) -> torch.Tensor:
    """The LLM's input embeddings of " 1" ... " max_reps", " right", " left" (mean over a word's
    tokens): the EventBridge's anchors (:meth:`musclepose.models.event_bridge.EventBridge.set_anchors`)."""
    emb = llm.model.get_input_embeddings()
    rows = []
    for word in [*(f" {k}" for k in range(1, max_reps + 1)), " right", " left"]:
        ids = llm.tokenizer(word, return_tensors="pt", add_special_tokens=False)["input_ids"][0].to(llm.device)
        rows.append(emb(ids).detach().float().mean(0))
    return torch.stack(rows)


def bridge_inputs_of(clip_events: Any, rep_states: np.ndarray) -> dict[str, torch.Tensor]:
    """The EventBridge's inputs for one clip (batch of one): features, repetition and side ids, and
    the encoder's states pooled per repetition, repeated for each side's token."""
    feats, rep, side = clip_events.token_features(FAULT_NAMES)
    states = np.asarray(rep_states, dtype=np.float32)
    per_token = states[rep] if len(states) else np.zeros((len(rep), 256), dtype=np.float32)
    return {"features": torch.from_numpy(feats)[None], "rep": torch.from_numpy(rep)[None],
            "side": torch.from_numpy(side)[None], "states": torch.from_numpy(per_token)[None]}  # fmt: skip


def _key_ok(item: QAItem, key: str | None) -> bool:
    return key is not None and (item.kind == "rep_moment" or key in item.accept)


def training_pairs(
    clips: list[QAClip], seed: int, context_share: float = 0.25, per_clip: int | None = None
) -> list[tuple[QAClip, QAClip | None, str, str, UserContext | None]]:
    """``(clip, previous clip, question, target answer, context)`` pairs (module docstring): every
    question kind per clip, ``train`` phrasings, answers the truth accepts."""
    rng = np.random.default_rng(seed)
    by_index = {c.index: c for c in clips}
    out = []
    for clip in clips:
        items = make_items(clip, rng, "train", clips)
        if per_clip:
            items = [items[i] for i in rng.permutation(len(items))[:per_clip]]
        for item in items:
            previous = by_index.get(item.previous) if item.previous is not None else None
            context = None
            if rng.random() < context_share:
                context = UserContext(str(rng.choice(_GOALS)) if rng.random() < 0.6 else None, str(rng.choice(LEVELS)))
            a = answer_question(parse_question(item.question), clip.events, previous.events if previous else None,
                                context, rng)  # fmt: skip
            if _key_ok(item, answer_key(item.kind, a.text) or a.key):
                out.append((clip, previous, item.question, a.text, context))
    return out


def train_qa(
    config: QATrainConfig, clips: list[QAClip], log=print, llm=None, *,
    evaluate: Callable[[EventBridge, Any], dict[str, Any]] | None = None, progress: bool = True,
) -> Path:  # fmt: skip
    """Train (or resume) the EventBridge + LoRA adapter on ``clips`` (the training split); returns
    the checkpoint folder ``config.out``. ``llm``: an already loaded LLM (tests pass a tiny one).
    ``evaluate(bridge, llm)``: metrics of the trained pair (on the validation split), called after
    the last step (models in eval mode) and recorded as ``metrics`` in the checkpoint's config."""
    out = Path(config.out)
    torch.manual_seed(config.seed)
    llm = llm or load_llm(LLMConfig(name_or_path=config.llm, device="cpu"))
    n_features = N_BASE_FEATURES + 6 * len(FAULT_NAMES)
    bcfg = EventBridgeConfig(n_features=n_features, llm_hidden=llm.hidden_size, embedding_scale=llm.embedding_scale,
                             **config.bridge)  # fmt: skip
    bridge = EventBridge(bcfg)
    bridge.set_anchors(anchor_embeddings(llm, bcfg.max_reps))
    state = {"step": 0, "history": [], "skipped_steps": 0}
    resuming = (out / "train_state" / "state.json").is_file()
    if resuming:
        parts, _ = load_checkpoint(out)
        bridge.load_state_dict(parts["event_bridge"].float().state_dict())
        from peft import PeftModel  # heavy, optional until a run resumes its adapter

        llm.model = PeftModel.from_pretrained(llm.model, out / "adapter", is_trainable=True)
        state = json.loads((out / "train_state" / "state.json").read_text())
    else:
        llm.add_lora(r=config.lora_r, alpha=config.lora_alpha)
    llm.model.train()
    params = [p for p in bridge.parameters() if p.requires_grad] + [
        p for p in llm.model.parameters() if p.requires_grad
    ]
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.wd)
    if resuming and (out / "train_state" / "qa.json").is_file():
        load_optimizer(opt, out / "train_state", "qa")
    pairs = training_pairs(clips, config.seed, config.context_share)
    if not pairs:
        raise ValueError("no training pairs: the clips' truth accepts none of the rule-based answers")
    log(f"{len(pairs)} question-answer pairs from {len(clips)} clips")
    order_rng = np.random.default_rng(config.seed + 1)
    order = order_rng.permutation(len(pairs) * (1 + config.steps * config.batch_size // len(pairs)))
    mode_rng = np.random.default_rng(config.seed + 2)
    modes = mode_rng.random(len(order)) < config.table_share  # True: the table in the prompt
    if resuming:
        restore_rng(state.get("rng"))
    extra = {"train_config": asdict(config), "fault_names": list(FAULT_NAMES), "n_pairs": len(pairs),
             "n_clips": len(clips)}  # fmt: skip
    with progress_bar("question answering", config.steps, enabled=progress) as advance:
        advance(state["step"])
        while state["step"] < config.steps:
            s = state["step"]
            batch = []
            for j in range(s * config.batch_size, (s + 1) * config.batch_size):
                clip, prev, question, target, context = pairs[order[j] % len(pairs)]
                table = bool(modes[j])
                system, user = qa_prompt(question, clip.events, context, table=table,
                                         previous=prev.events if prev is not None else None)  # fmt: skip
                soft = None if table else bridge(**bridge_inputs_of(clip.events, clip.rep_states))
                batch.append((soft, llm.chat_prompt(system, user), target))
            loss = lm_loss(llm, lm_batch(llm, batch))
            for g in opt.param_groups:
                g["lr"] = cosine_lr(s, config.steps, config.lr, warmup=min(10, config.steps // 10))
            if not guarded_step(loss, params, opt):
                state["skipped_steps"] += 1
            state["step"] += 1
            state["history"].append({"step": state["step"], "loss": float(loss.item())})
            advance(1, info=f"loss {loss.item():.3f}")
            if state["step"] % config.checkpoint_every == 0 and state["step"] < config.steps:
                _save(out, bridge, llm, opt, extra | {"history": state["history"]}, state, config.overwrite)
    log(f"question answering: {state['step']} steps, last loss {state['history'][-1]['loss']:.3f}")
    if evaluate is not None:
        bridge.eval()
        llm.model.eval()
        extra["metrics"] = evaluate(bridge, llm)
    _save(out, bridge, llm, opt, extra | {"history": state["history"]}, state, config.overwrite)
    return out


def _save(out: Path, bridge, llm, opt, extra: dict[str, Any], state: dict[str, Any], overwrite: bool) -> None:
    train_state = {**state, "rng": rng_state()}

    def rest(tmp: Path) -> None:
        llm.model.save_pretrained(tmp / "adapter", safe_serialization=True)
        (tmp / "train_state").mkdir()
        save_optimizer(opt, tmp / "train_state", "qa")
        (tmp / "train_state" / "state.json").write_text(json.dumps(train_state))

    save_checkpoint(out, {"event_bridge": bridge}, extra, LabelMap.current(), overwrite=overwrite, also=rest)


def export_qa(src: str | Path, dst: str | Path, overwrite: bool = False) -> Path:
    """Copy a trained question-answering checkpoint for shipping: the EventBridge and the LoRA adapter
    in float16, the config (training config, command, data hashes, metrics) and ``history.json``,
    without the train state. ``dst`` is replaced only if MusclePose wrote it, unless ``overwrite``."""
    from peft import PeftConfig  # heavy, optional until a checkpoint is exported

    src, dst = Path(src), Path(dst)
    check_no_overlap(src, dst)
    check_replaceable_dir(dst, overwrite, legacy=is_checkpoint_folder)
    parts, extra = load_checkpoint(src)
    if "event_bridge" not in parts:
        raise ValueError(f"{src}: not a question-answering checkpoint (no 'event_bridge' part)")
    check_adapter(src)
    PeftConfig.from_pretrained(src / "adapter")  # validates the adapter config

    def rest(tmp: Path) -> None:
        (tmp / "adapter").mkdir()
        weights = load_file(src / "adapter" / "adapter_model.safetensors")
        save_file({k: v.half() for k, v in weights.items()}, tmp / "adapter" / "adapter_model.safetensors")
        shutil.copy(src / "adapter" / "adapter_config.json", tmp / "adapter" / "adapter_config.json")
        (tmp / "history.json").write_text(json.dumps(extra.get("history", []), indent=1) + "\n")
        for p in [tmp, *tmp.rglob("*")]:  # readable by every user of an installed package
            p.chmod(0o755 if p.is_dir() else 0o644)

    halves = {k: m.half() for k, m in parts.items()}
    return save_checkpoint(dst, halves, extra | {"history": []}, LabelMap.current(), overwrite=overwrite, also=rest)
