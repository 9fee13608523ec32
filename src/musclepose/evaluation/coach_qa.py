"""Scoring the coach's answers to questions about a set, against the ground truth of synthetic clips.

:func:`score_answer` decides one answer: its key (:func:`musclepose.language.answers.answer_key`) is
in the item's accepted keys, or for a peak moment the stated number is within
:data:`~musclepose.pipelines.qa_examples.MOMENT_TOLERANCE` of the true one. :func:`evaluate_qa`
asks every item of held-out clips with each answerer (:data:`musclepose.pipelines.ask.ANSWERERS`,
LLM answers unchecked: what the LLM wrote is scored), and reports per question kind the share
answered right, the agreement of the LLM answers with the measured table (the rule-based answer's
key: what an LLM that reads its input perfectly would say), the prompt tokens and the seconds per
answer. Items are drawn per kind (at most ``per_kind``), phrased with the ``held_out`` templates,
so that no LLM has seen the words it is asked in.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..language.answers import answer_key, fatigue_trend
from ..pipelines.ask import Asker, qa_adapter
from ..pipelines.qa_examples import QAClip, QAItem, make_items, moment_ok
from ..signals.rep_events import MotionEvents

__all__ = ["QAReport", "evaluate_qa", "generate_batch", "reference_accepts", "score_answer", "select_items"]


def score_answer(item: QAItem, text: str) -> tuple[bool, str | None]:
    """``(right, key)`` of an answer ``text`` to ``item`` (module docstring)."""
    key = answer_key(item.kind if item.kind != "decline" else "decline", text)
    if item.kind == "rep_moment":
        if key is None or key == "declined" or item.value is None:
            return False, key
        return moment_ok(float(key), item.value), key
    return key is not None and key in item.accept, key


def select_items(clips: Sequence[QAClip], per_kind: int, seed: int = 0, phrasing: str = "held_out") -> list[QAItem]:
    """At most ``per_kind`` items of each kind from ``clips`` (each clip's items drawn once, then a
    random subset per kind, balanced over the accepted answers where a kind has several)."""
    rng = np.random.default_rng(seed)
    pool: dict[str, list[QAItem]] = defaultdict(list)
    for clip in clips:
        for item in make_items(clip, rng, phrasing, list(clips)):
            pool[item.kind].append(item)
    out = []
    for kind in sorted(pool):
        items = pool[kind]
        by_answer: dict[str, list[QAItem]] = defaultdict(list)
        ranked = kind in ("deepest", "slowest", "worst", "rep_moment")  # many possible answers: no balancing
        for it in items:
            by_answer["-" if ranked else ",".join(it.accept)].append(it)
        chosen: list[QAItem] = []
        groups = [g for _, g in sorted(by_answer.items())]
        for g in groups:
            rng.shuffle(g)
        while len(chosen) < per_kind and any(groups):  # round robin over the answers: balanced classes
            for g in groups:
                if g and len(chosen) < per_kind:
                    chosen.append(g.pop())
        out += chosen
    return out


@dataclass
class QAReport:
    """Per answerer and kind: ``right`` / ``n``, agreement with the table, prompt tokens, seconds."""

    rows: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    answers: list[dict[str, Any]] = field(default_factory=list)

    def accuracy(self, answerer: str, kind: str | None = None) -> float:
        r = self.rows[answerer]
        kinds = [kind] if kind else [k for k in r if k != "all"]
        n = sum(r[k]["n"] for k in kinds)
        return sum(r[k]["right"] for k in kinds) / n if n else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "answers": self.answers}


def evaluate_qa(
    clips: Sequence[QAClip], asker: Asker, answerers: Sequence[str], items: Sequence[QAItem], *, batch: int = 8,
    max_new_tokens: int = 40, progress: Callable[[int], None] | None = None,
) -> QAReport:  # fmt: skip
    """Ask each of ``items`` (about ``clips``) with each answerer and score the answers (module
    docstring). LLM answerers answer ``batch`` questions at a time (greedy, ``max_new_tokens``:
    the answer's key comes in its first sentence); their ``seconds`` are per answer in a batch."""
    by_index = {c.index: c for c in clips}
    report = QAReport()
    rule_keys: dict[int, str | None] = {}
    done = 0
    for name in answerers:
        texts: list[str] = []
        tokens: list[int] = []
        seconds: list[float] = []
        if name == "rule":
            for item in items:
                clip = by_index[item.clip]
                previous = by_index[item.previous].events if item.previous is not None else None
                t0 = time.perf_counter()
                res = asker.ask(item.question, clip.events, previous=previous, answerer="rule")
                seconds.append(time.perf_counter() - t0)
                texts.append(res.answer)
                tokens.append(0)
        else:
            for a in range(0, len(items), batch):
                chunk = items[a : a + batch]
                prepared = []
                for item in chunk:
                    clip = by_index[item.clip]
                    previous = by_index[item.previous].events if item.previous is not None else None
                    prepared.append(asker.prepare(item.question, clip.events, clip.rep_states, previous, None, name))
                t0 = time.perf_counter()
                texts += generate_batch(asker.llm, [p[0] for p in prepared], [p[1] for p in prepared], max_new_tokens)
                dt = (time.perf_counter() - t0) / len(chunk)
                seconds += [dt] * len(chunk)
                tokens += [p[2] for p in prepared]
                done += len(chunk)
                if progress is not None:
                    progress(done)
        rows: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for k, item in enumerate(items):
            right, key = score_answer(item, texts[k])
            if name == "rule":
                rule_keys[k] = key
            row = rows[item.kind]
            row["n"] += 1
            row["right"] += float(right)
            row["agree"] += float(key == rule_keys.get(k))
            row["prompt_tokens"] += tokens[k]
            row["seconds"] += seconds[k]
            report.answers.append({"answerer": name, "clip": item.clip, "kind": item.kind, "question": item.question,
                                   "accept": list(item.accept), "value": item.value, "answer": texts[k], "key": key,
                                   "right": right, "seconds": round(seconds[k], 3)})  # fmt: skip
        report.rows[name] = {
            kind: {"n": r["n"], "right": r["right"], "accuracy": r["right"] / r["n"], "agree": r["agree"] / r["n"],
                   "prompt_tokens": r["prompt_tokens"] / r["n"], "seconds": r["seconds"] / r["n"]}
            for kind, r in rows.items()
        }  # fmt: skip
    return report


@torch.no_grad()
def generate_batch(
    llm: Any, prompts: Sequence[str], prefixes: Sequence[torch.Tensor | None], max_new_tokens: int = 48
) -> list[str]:
    """Greedy answers to several prompts at once (each after its optional soft prefix ``(1, n, h)``),
    left-padded into one batch: the benchmark's many questions at a fraction of one-by-one cost.
    Equal to :meth:`musclepose.language.backend.LLM.generate` per prompt up to padding's float noise."""
    tok, emb = llm.tokenizer, llm.model.get_input_embeddings()
    rows = []
    for prompt, prefix in zip(prompts, prefixes, strict=True):
        ids = tok(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"][0].to(llm.device)
        e = emb(ids)
        if prefix is not None:
            e = torch.cat([prefix[0].to(e.dtype), e], 0)
        rows.append(e)
    t = max(r.shape[0] for r in rows)
    embeds = rows[0].new_zeros(len(rows), t, rows[0].shape[1])
    mask = torch.zeros(len(rows), t, dtype=torch.long, device=llm.device)
    for i, r in enumerate(rows):
        embeds[i, t - r.shape[0] :] = r
        mask[i, t - r.shape[0] :] = 1
    model = llm.model
    with qa_adapter(model):
        out = model.generate(inputs_embeds=embeds, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
                             temperature=None, top_p=None, top_k=None, pad_token_id=tok.pad_token_id,
                             eos_token_id=tok.eos_token_id)  # fmt: skip
    return [tok.decode(o, skip_special_tokens=True).strip() for o in out]


# ----------------------------------------------------------------------------- real recordings
def _ties_of(values: Sequence[float | None], tol: float) -> tuple[str, ...]:
    ok = [(k, v) for k, v in enumerate(values) if v is not None]
    if not ok:
        return ()
    top = max(v for _, v in ok)
    return tuple(str(k + 1) for k, v in ok if v >= top - tol)


def reference_accepts(kind: str, reference: MotionEvents, rule_key: str | None = None) -> tuple[str, ...]:
    """The keys a per-repetition question about a real recording may be answered with, from the
    event table of a *reference* of the same movement (OpenSim's own inverse kinematics for a marker
    trial, the recording's labels): ties within 1 deg of depth and 0.05 s of duration, a fitted
    rise of the rising time over 13 % is slowing and under 7 % is not (either in between), and for
    the side, worst-repetition and fault-phase questions the reference's own answer (``rule_key``)."""
    if kind == "deepest":
        return _ties_of([r.depth for r in reference.reps], 1.0)
    if kind == "slowest":
        return _ties_of([r.duration_s for r in reference.reps], 0.05)
    if kind == "fatigue":
        trend = fatigue_trend([r.phases_s.get("rising") for r in reference.reps])
        if trend is None:
            return ("declined",)
        return ("yes",) if trend >= 0.13 else ("no",) if trend <= 0.07 else ("yes", "no")
    return (rule_key,) if rule_key is not None else ()
