"""``musclepose coach FILE --ask "..."``: questions about a set, answered from its event table.

The helpers the ``coach`` command calls when ``--ask`` is given: option checks (``--level``,
``--answerer``, the questions), the per-repetition and per-side table on the console, and the
answers on stdout (one line each; ``--json``: ``{"question", "answer", ...}`` for one question,
``{"answers": [...]}`` for several). The answering itself is :class:`musclepose.pipelines.ask.Asker`.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from ..language.answers import LEVELS
from ..pipelines.ask import ANSWERERS, default_qa_checkpoint
from ..signals.rep_events import MotionEvents
from ._common import console, echo

__all__ = [
    "DEFAULT_ANSWERER",
    "check_answerer",
    "check_level",
    "check_qa_checkpoint",
    "check_questions",
    "events_table",
    "print_answers",
]

#: The answerer ``--ask`` uses unless told: the most accurate of the four on held-out subjects
#: (docs/evaluation_coach_qa.md, where the LLM answerers of the shipped QA checkpoint lose to it).
DEFAULT_ANSWERER = "rule"
MAX_QUESTION = 500  # characters


def check_level(value: str | None) -> str | None:
    """``--level``: beginner, intermediate or advanced (any case)."""
    if value is None:
        return None
    v = value.strip().lower()
    if v not in LEVELS:
        raise typer.BadParameter(f"level must be one of {', '.join(LEVELS)}, not {value!r}", param_hint="--level")
    return v


def check_answerer(value: str) -> str:
    """``--answerer``: one of :data:`musclepose.pipelines.ask.ANSWERERS`."""
    if value not in ANSWERERS:
        raise typer.BadParameter(f"answerer must be one of {', '.join(ANSWERERS)}, not {value!r}",
                                 param_hint="--answerer")  # fmt: skip
    return value


def check_qa_checkpoint(answerer: str) -> None:
    """An LLM answerer needs the question-answering checkpoint (EventBridge + LoRA adapter): refuse
    before the LLM loads when there is none (``FileNotFoundError`` naming the folder)."""
    if answerer == "rule":
        return
    folder = default_qa_checkpoint()
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"{folder}: no question-answering checkpoint for --answerer {answerer} (train one with "
            "`musclepose train coach-qa` and set MUSCLEPOSE_COACH_QA to it, or use --answerer rule)"
        )


def check_questions(values: list[str] | None) -> list[str] | None:
    """``--ask``: non-empty questions of at most :data:`MAX_QUESTION` characters."""
    if not values:
        return values
    for v in values:
        if not v.strip():
            raise typer.BadParameter("a question may not be empty", param_hint="--ask")
        if len(v) > MAX_QUESTION:
            raise typer.BadParameter(f"a question of {len(v)} characters (at most {MAX_QUESTION})", param_hint="--ask")
    return values


def _f(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def events_table(events: MotionEvents, title: str = "Per repetition and side") -> Table:
    """The event table on the console: depth, tempo, peak moment per side, and the faults each
    repetition shows with the side that shows them more."""
    joint = "elbow" if events.limb == "arm" else "knee"
    t = Table(title=title)
    for col in ("#", "depth R/L deg", "down/up s", f"{joint} moment R/L N·m/kg", "faults (side)"):
        t.add_column(col, justify="left" if col.startswith("faults") else "right")
    side_word = {"r": "right", "l": "left", "both": "both"}
    for r in events.reps:
        d, m = r.depth_deg, r.moments.get(joint) or {}
        flags = []
        for f in r.flagged:
            e = r.faults.get(f)
            s = e.side() if e is not None else None
            flags.append(
                f.replace("_", " ") + (f" ({side_word[s]})" if s in side_word and "sides" not in events.missing else "")
            )
        t.add_row(str(r.index + 1), f"{_f(d.get('r'), '.0f')}/{_f(d.get('l'), '.0f')}",
                  f"{_f(r.phases_s.get('lowering'), '.1f')}/{_f(r.phases_s.get('rising'), '.1f')}",
                  f"{_f(m.get('r'), '.2f')}/{_f(m.get('l'), '.2f')}" if events.has_kinetics else "-",
                  ", ".join(flags) or "-")  # fmt: skip
    return t


def print_answers(answers: list[Any], json_out: bool, extra: dict[str, Any]) -> dict[str, Any] | None:
    """The answers on stdout (plain: one answer per line, prefixed by its question when there are
    several); with ``json_out`` the JSON document is returned for the caller to print."""
    if json_out:
        docs = [a.to_dict() for a in answers]
        return {**docs[0], **extra} if len(docs) == 1 else {"answers": docs, **extra}
    for a in answers:
        if len(answers) > 1:
            console.print(f"Q: {a.question}", markup=False, highlight=False)
        echo(a.answer)
    return None
