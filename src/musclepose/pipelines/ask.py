"""Asking the coach about a coached clip: its event table, the answerers, the comparison with a previous file.

:func:`result_events` builds a coached clip's event table (:mod:`.motion_events`): from the motion for
a recording; for a clip of the seven channels from the encoder's predicted motion on a body built
from the encoder's body-size head (:func:`encoder_body`), with left and right marked unknowable (each
channel is a mean of both sides) and faults marked as not judged reliably (the encoder's fault heads:
:data:`CHANNEL_FAULTS_NOTE`). :class:`Asker` answers a question with one of :data:`ANSWERERS`:

- ``rule``: the rule-based answerer (:func:`musclepose.language.answers.answer_question`);
- ``llm-table``: the LLM with the QA adapter, the per-repetition table written in its prompt;
- ``llm-tokens``: the same LLM and adapter, the table given as the EventBridge's soft tokens;
- ``llm-zeroed``: ``llm-tokens`` with the soft tokens set to zero (the ablation).

An LLM answer whose key disagrees with the rule-based answer's (or that declines where the table
answers, or answers where it declines) is replaced by the rule-based answer, and ``fallback`` says
why (``check=False`` keeps the LLM's text, for the benchmark). The QA checkpoint (the EventBridge and
its LoRA adapter, :mod:`musclepose.training.coach_qa`) is loaded onto the coach's LLM as a second
adapter, so one base model serves the coaching text and the answers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..body import Body
from ..catalogue import FAULT_NAMES, FAULTS, SIDED_FAULTS
from ..io.clip import CLIP_CHANNELS
from ..language.answers import Answer, UserContext, answer_key, answer_question, qa_prompt
from ..language.prompts import DetectedFault
from ..language.questions import parse_question
from ..motion import Motion
from ..motion.kinetics import compute_kinetics
from ..signals import analyze_motion
from ..signals.rep_events import MotionEvents
from .checkpoint import check_adapter, load_checkpoint
from .coach_inputs import ENCODER_FPS, decimation, encoder_inputs, keypoints_from_motion
from .motion_events import CHANNELS_HAVE_NO_SIDES, motion_events
from .qa_examples import pooled_states

__all__ = [
    "ANSWERERS",
    "CHANNEL_FAULTS_NOTE",
    "ESTIMATED_MOMENT_CAVEAT",
    "AskResult",
    "Asker",
    "default_qa_checkpoint",
    "qa_adapter",
    "encoder_body",
    "moment_caveat",
    "rep_states_of",
    "report_chat",
    "result_events",
    "suggested_questions",
    "with_sides",
]

ANSWERERS = ("rule", "llm-table", "llm-tokens", "llm-zeroed")
#: Measured on held-out subjects (docs/evaluation_coach.md): the encoder's fault heads find the faults
#: of a channels-only clip at recall 0.30, precision 0.73.
CHANNEL_FAULTS_NOTE = (
    "form faults cannot be judged reliably from the seven channels alone (the encoder's fault heads find "
    "them at recall 0.30 and precision 0.73 on held-out subjects); record a motion (markers, video, "
    "keypoints) for a form screen"
)


def default_qa_checkpoint() -> Path:
    """The shipped question-answering checkpoint (``$MUSCLEPOSE_COACH_QA`` overrides)."""
    env = os.environ.get("MUSCLEPOSE_COACH_QA")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "assets" / "coach_qa"


#: Said after a peak-moment answer whose ground reactions were estimated from the motion: the
#: estimate's error against force plates on the same kinematics (our IK, OpenSim's gait trial:
#: RMSE 0.14-0.22 N·m/kg over hip, knee and ankle, docs/validation_kinetics.md).
ESTIMATED_MOMENT_CAVEAT = (
    "This moment comes from ground reactions estimated from the motion, not measured by force plates; "
    "against plates such moments were off by 0.14-0.22 N·m/kg (RMSE on a walk)."
)


def moment_caveat(kind: str, key: str | None, events: MotionEvents) -> str:
    """:data:`ESTIMATED_MOMENT_CAVEAT` for an answered peak-moment question whose ground reactions were
    estimated, else ``""``."""
    if kind == "rep_moment" and key not in (None, "declined") and events.ground_reactions == "estimated":
        return ESTIMATED_MOMENT_CAVEAT
    return ""


def encoder_body(shape: torch.Tensor) -> Body:
    """The body the encoder's body-size head predicts (``(3,)``: height m, mass / 100 kg, male
    probability), held within the adult ranges the training subjects span (1.45-2.05 m, 40-140 kg)."""
    h = float(np.clip(float(shape[0]), 1.45, 2.05))
    m = float(np.clip(100.0 * float(shape[1]), 40.0, 140.0))
    return Body.standard(h, m, "male" if float(shape[2]) >= 0.5 else "female")


def with_sides(faults: list[DetectedFault], events: MotionEvents) -> list[DetectedFault]:
    """``faults`` with the side the event table found for each sided fault (the screen gives none)."""
    out = []
    for f in faults:
        side = events.fault_sides.get(f.name) if f.name in SIDED_FAULTS else None
        out.append(DetectedFault(f.name, f.probability, f.severity, side if side in ("r", "l") else f.side,
                                 f.value, f.unit, f.what))  # fmt: skip
    return out


def result_events(result: Any, encoder: Any = None, screen: Any = None) -> MotionEvents:
    """The event table of a coached clip (``CoachResult``; module docstring). ``encoder``: the coach's
    motion encoder, needed for a channels-only clip."""
    clip = result.clip
    ex = result.summary.exercise if result.summary is not None else clip.analysis.exercise
    if clip.motion is not None:
        return motion_events(clip.motion, clip.analysis, ex, result.faults, clip.kinetics, screen)
    if encoder is None:
        raise ValueError("a channels-only clip needs the coach's encoder for its event table")
    return channel_events(encoder, np.stack([clip.channels[c] for c in CLIP_CHANNELS], 1), clip.analysis.fps, ex,
                          result.faults, clip.body)  # fmt: skip


@torch.no_grad()
def channel_events(encoder: Any, channels: np.ndarray, fps: float, exercise: str, faults: list[DetectedFault],
                   body: Body | None = None) -> MotionEvents:  # fmt: skip
    """The event table of a channels-only clip from the encoder's predicted motion (module docstring)."""
    step = decimation(fps)
    out = encoder(encoder_inputs(np.asarray(channels)[::step], None)[None], ENCODER_FPS)
    body = body or encoder_body(out.shape[0])
    motion = Motion(out.q[0].double(), ENCODER_FPS, body, {"source": "the encoder's motion from seven channels"})
    kin = compute_kinetics(motion)  # filtered: the predicted motion's frame-to-frame jitter would swamp the moments
    analysis = analyze_motion(motion, exercise=exercise, kinetics=kin)
    ev = motion_events(motion, analysis, exercise, faults, kin, None, source="encoder")
    missing = {**ev.missing, "sides": CHANNELS_HAVE_NO_SIDES, "faults": CHANNEL_FAULTS_NOTE}
    return MotionEvents(ev.exercise, ev.limb, ev.fps, ev.reps, "encoder", ev.has_kinetics, ev.screened,
                        {k: None for k in ev.fault_sides}, missing, ev.notes, ev.grade)  # fmt: skip


@contextmanager
def qa_adapter(model: Any) -> Iterator[None]:
    """The QA adapter active within the block, the one active before it after (a peft model with
    several adapters: the coaching text's and the answers'; anything else is left alone)."""
    names = getattr(model, "peft_config", None)
    before = getattr(model, "active_adapter", None)
    switch = isinstance(names, dict) and "qa" in names and hasattr(model, "set_adapter")
    if switch:
        model.set_adapter("qa")
    try:
        yield
    finally:
        if switch and isinstance(before, str) and before != "qa":
            model.set_adapter(before)


@dataclass
class AskResult:
    """An answer to one question: the ``answer`` shown, by ``answerer``; ``rule`` the rule-based answer;
    ``llm_text`` what the LLM wrote (if one answered) and ``fallback`` why it was not shown."""

    question: str
    answer: str
    kind: str
    key: str | None
    answerer: str
    rule: Answer
    llm_text: str | None = None
    fallback: str | None = None
    prompt_tokens: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.answer, "kind": self.kind, "key": self.key,
                "answerer": self.answerer, "declined": self.key == "declined", "llm_text": self.llm_text,
                "fallback": self.fallback, "rule_based_answer": self.rule.text, "advice": self.rule.advice or None,
                "facts": self.rule.facts, "prompt_tokens": self.prompt_tokens,
                "seconds": round(self.seconds, 3)}  # fmt: skip


class Asker:
    """Answers questions about clips (module docstring). ``llm`` is the coach's LLM (a peft model with the
    coaching adapter); the QA adapter and EventBridge are loaded from ``qa_folder`` on first use."""

    def __init__(self, llm: Any = None, qa_folder: str | Path | None = None, bridge: Any = None) -> None:
        self.llm, self.qa_folder, self.bridge = llm, qa_folder, bridge
        self.fault_names = list(FAULT_NAMES)
        self._loaded = bridge is not None

    def _load(self) -> None:
        if self._loaded:
            return
        if self.llm is None:
            raise ValueError("an LLM answerer needs the coach's LLM")
        folder = Path(self.qa_folder or default_qa_checkpoint())
        parts, extra = load_checkpoint(folder)
        # The token features' fault layout the bridge was trained with (the catalogue may have grown since).
        self.fault_names = list(extra.get("fault_names") or FAULT_NAMES)
        if "event_bridge" not in parts:
            raise ValueError(f"{folder}: not a question-answering checkpoint (no 'event_bridge' part)")
        adapter = check_adapter(folder)
        from peft import PeftModel  # heavy, optional until an LLM answers

        model = self.llm.model
        if isinstance(model, PeftModel):  # the coach's LLM with its coaching adapter: a second adapter
            model.load_adapter(str(adapter), adapter_name="qa", is_trainable=False)
        else:
            self.llm.model = PeftModel.from_pretrained(model, adapter, adapter_name="qa", is_trainable=False)
        self.llm.model.eval()
        self.bridge = parts["event_bridge"].float().eval()
        self._loaded = True

    def ask(
        self, question: str, events: MotionEvents, *, rep_states: np.ndarray | None = None,
        previous: MotionEvents | None = None, context: UserContext | None = None, answerer: str = "rule",
        check: bool = True, max_new_tokens: int = 80,
    ) -> AskResult:  # fmt: skip
        """Answer ``question`` about the clip whose table is ``events`` (``rep_states``: the encoder's
        states pooled per repetition, for the soft tokens; zeros if None)."""
        if answerer not in ANSWERERS:
            raise ValueError(f"answerer must be one of {', '.join(ANSWERERS)}; got {answerer!r}")
        t0 = time.perf_counter()
        q = parse_question(question)
        rule = answer_question(q, events, previous, context)
        caveat = moment_caveat(q.kind, rule.key, events)
        if answerer == "rule":
            return AskResult(question, f"{rule.text} {caveat}".strip(), q.kind, rule.key, "rule", rule,
                             seconds=time.perf_counter() - t0)  # fmt: skip
        self._load()
        text, n_prompt = self._generate(question, events, rep_states, previous, context, answerer, max_new_tokens)
        kind = q.kind if q.kind not in ("unknown",) else "decline"
        key = answer_key(kind, text)
        result = AskResult(question, text, q.kind, key, answerer, rule, llm_text=text, prompt_tokens=n_prompt)
        if check:
            problem = None
            if not text.strip():
                problem = "the LLM wrote nothing"
            elif key != rule.key and not (q.kind == "rep_moment" and key == rule.key):
                problem = f"its answer ({key}) is not the measured one ({rule.key})"
            if problem:
                result.answer, result.key, result.fallback = rule.text, rule.key, f"rule-based answer shown: {problem}"
            elif rule.advice and rule.advice not in result.answer:
                result.answer = f"{result.answer} {rule.advice}"
        result.answer = f"{result.answer} {caveat}".strip()
        result.seconds = time.perf_counter() - t0
        return result

    @torch.no_grad()
    def prepare(
        self, question: str, events: MotionEvents, rep_states: np.ndarray | None = None,
        previous: MotionEvents | None = None, context: UserContext | None = None, answerer: str = "llm-table",
    ) -> tuple[str, torch.Tensor | None, int]:  # fmt: skip
        """``(prompt, soft tokens or None, prompt tokens)`` of an LLM answerer for one question."""
        self._load()
        llm = self.llm
        table = answerer == "llm-table"
        system, user = qa_prompt(question, events, context, table=table, previous=previous)
        prompt = llm.chat_prompt(system, user)
        soft = None
        if not table:
            feats, rep, side = events.token_features(self.fault_names)
            if len(rep):
                states = np.zeros((len(rep), self.bridge.config.encoder_dim), dtype=np.float32)
                if rep_states is not None and len(rep_states):
                    states = np.asarray(rep_states, dtype=np.float32)[np.minimum(rep, len(rep_states) - 1)]
                soft = self.bridge(torch.from_numpy(feats)[None], torch.from_numpy(rep)[None],
                                   torch.from_numpy(side)[None], torch.from_numpy(states)[None])  # fmt: skip
                if answerer == "llm-zeroed":
                    soft = torch.zeros_like(soft)
        n_prompt = len(llm.tokenizer(prompt, add_special_tokens=False)["input_ids"])
        return prompt, soft, n_prompt + (0 if soft is None else soft.shape[1])

    @torch.no_grad()
    def _generate(self, question, events, rep_states, previous, context, answerer, max_new_tokens) -> tuple[str, int]:
        llm = self.llm
        prompt, soft, n_prompt = self.prepare(question, events, rep_states, previous, context, answerer)
        with qa_adapter(llm.model):
            text = llm.generate(prompt, max_new_tokens, inputs_embeds_prefix=soft, temperature=0.0,
                                repetition_penalty=1.0)  # fmt: skip
        return text, n_prompt


def rep_states_of(encoder: Any, result: Any, events: MotionEvents) -> np.ndarray:
    """The coach encoder's states pooled over each repetition of ``events`` (the EventBridge's input)."""
    clip = result.clip
    step = decimation(clip.fps)
    channels = np.stack([clip.channels[c] for c in CLIP_CHANNELS], 1)
    kp = keypoints_from_motion(clip.motion)[::step] if clip.motion is not None else None
    with torch.no_grad():
        states = encoder(encoder_inputs(channels[::step], kp)[None], ENCODER_FPS).states[0]
    return pooled_states(states, events)


def suggested_questions(events: MotionEvents) -> list[str]:
    """The questions the report's panel answers for a clip: which repetition was deepest, slowest and
    worst, the side question of the exercise's sided fault, when its first fault appears, the fatigue
    question, a repetition's peak moment, and one no recording answers."""
    out = ["Which repetition was the deepest?", "Which repetition was the slowest?", "Which repetition was the worst?"]
    topic = {"knee_valgus": "Did the knees cave in more on the left or the right?",
             "elbow_flare": "Did the elbows flare out more on the left or the right?",
             "asymmetric_drive": "Did the weight shift more to the left or the right?"}  # fmt: skip
    sided = [f for f in events.screened if f in topic] or [f for f in topic if any(f in r.faults for r in events.reps)]
    if sided:
        out.append(topic[sided[0]])
    if events.screened:
        label = FAULTS[events.screened[0]].label if events.screened[0] in FAULTS else events.screened[0]
        out.append(f"When in the repetition does {label} appear?")
    out.append("Is the rising phase slowing over the set?")
    if events.has_kinetics and events.reps:
        joint = "elbow" if events.limb == "arm" else "knee"
        out.append(f"What was the peak {joint} moment on repetition {min(3, events.n_reps)}?")
    out.append("What was my heart rate?")
    return out


def report_chat(asker: Asker, events: MotionEvents, asked: list[AskResult] | None = None,
                context: UserContext | None = None) -> list[dict[str, str]]:  # fmt: skip
    """The report panel's items: the rule-based answers to :func:`suggested_questions`, then the
    questions the user asked (with the answers they got)."""
    own = {a.question.strip().lower() for a in asked or []}  # a suggested question the user asked: theirs only
    items = [asker.ask(q, events, context=context, answerer="rule") for q in suggested_questions(events)
             if q.strip().lower() not in own]  # fmt: skip
    return [{"question": a.question, "answer": a.answer, "kind": a.kind} for a in [*items, *(asked or [])]]
