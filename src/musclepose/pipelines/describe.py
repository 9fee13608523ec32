"""Motion to text without learning: a sentence or two composed from the analysis of a recording.

:func:`describe_file` runs the same pipeline as ``musclepose analyze`` (:func:`.analysis.analyze_file`
then :func:`.form_analysis.add_form`: the exercise recognised, repetitions, tempo, depth, each
repetition's form verdict) and :func:`compose` words its result: the exercise and repetition
count, the tempo (seconds down and up), the depth in the exercise's own measure (the catalogue's
``Exercise.depth``), and each fault found with its side and repetitions. A recording the
recogniser does not place is "not an exercise in the catalogue", with why (walking or running
when the body travels or the legs alternate). The baseline a motion-to-text model must beat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalogue import FAULTS, exercise
from .analysis import analyze_file
from .form_analysis import add_form
from .results import ClipResult

__all__ = ["Description", "compose", "describe_file", "plural_name"]

_WORDS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
         "seventeen eighteen nineteen twenty".split()  # fmt: skip
_PLURALS = {"push_up": "push-ups", "sit_to_stand": "sit-to-stands", "bent_over_row": "bent-over rows",
            "pull_up": "pull-ups", "sit_up": "sit-ups", "running": "running strides"}  # fmt: skip
SLOW_S = 3.0  # seconds down + up at or above which a repetition is slow
FAST_S = 1.5  # at or below which it is fast


def plural_name(name: str) -> str:
    """``"squat"`` -> ``"squats"``, ``"push_up"`` -> ``"push-ups"``."""
    if name in _PLURALS:
        return _PLURALS[name]
    words = name.replace("_", " ")
    return words + ("es" if words.endswith(("sh", "ch", "s", "x")) else "s")


def _count(n: int, capital: bool = False) -> str:
    w = _WORDS[n] if 0 <= n < len(_WORDS) else str(n)
    return w.capitalize() if capital else w


def _reps_list(idx: list[int], total: int) -> str:
    if len(idx) == total and total > 1:
        return f"all {_count(total)} repetitions"
    one = [str(i + 1) for i in idx]
    if len(one) == 1:
        return f"repetition {one[0]}"
    return f"repetitions {', '.join(one[:-1])} and {one[-1]}"


@dataclass
class Description:
    """The text and the facts it was composed from (``to_dict`` is ``describe --json``)."""

    file: str
    text: str
    exercise: str | None
    probability: float
    reason: str = ""
    n_reps: int = 0
    tempo: dict[str, Any] = field(default_factory=dict)
    depth: dict[str, Any] | None = None
    faults: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    kind: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "text": self.text,
            "exercise": self.exercise or "unknown",
            "probability": round(self.probability, 3),
            **({"reason": self.reason} if self.reason else {}),
            "n_reps": self.n_reps,
            "tempo": self.tempo,
            "depth": self.depth,
            "faults": self.faults,
            **({"note": self.note} if self.note else {}),
            "input": self.kind,
        }


def _depth(doc: dict[str, Any], name: str) -> dict[str, Any] | None:
    ex = exercise(name)
    what = ex.depth if ex is not None else ""
    per_side = [v for s in doc.get("sides") or [] for v in (s.get("depth_deg") or {}).values() if v is not None]
    if per_side:
        values = per_side
    elif "knee" in what or not what:
        values = [r["depth_knee_flexion_deg"] for r in doc.get("reps") or [] if r.get("depth_knee_flexion_deg")]
        what = what or "peak knee flexion (deg)"
    else:
        return None
    if not values:
        return None
    return {"deg": round(sum(values) / len(values), 1), "measure": what}


def _faults(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for k, rep in enumerate(doc.get("reps") or []):
        for f in rep.get("faults") or []:
            entry = found.setdefault(f["name"], {"name": f["name"], "label": FAULTS[f["name"]].label
                                                 if f["name"] in FAULTS else f["name"].replace("_", " "),
                                                 "reps": [], "sides": [], "severity": 0.0})  # fmt: skip
            entry["reps"].append(k)
            if f.get("side") and f["side"] not in entry["sides"]:
                entry["sides"].append(f["side"])
            entry["severity"] = max(entry["severity"], float(f.get("severity") or 0.0))
    return sorted(found.values(), key=lambda e: (-len(e["reps"]), e["name"]))


def compose(result: ClipResult) -> Description:
    """The description of an analysed recording whose form has been judged (:func:`add_form`)."""
    doc = result.analysis.to_dict()
    if result.form is not None:
        result.form.annotate(doc)
    rec = result.form.recognition if result.form is not None else None
    name = (rec.exercise if rec is not None else None) or result.analysis.exercise
    labelled = rec is not None and rec.exercise is None and bool(name)  # a clip JSON's own label
    file = str(result.path) if result.path is not None else ""
    duration = float(doc.get("duration_s") or 0.0)
    n = int(doc.get("n_reps") or 0)
    if not name:
        reason = rec.reason if rec is not None else "no recogniser for this input"
        nearest = next(iter(rec.scores), None) if rec is not None and rec.scores else None
        text = f"Not an exercise in the catalogue: {reason}." if reason else "Not an exercise in the catalogue."
        if nearest and "alternate" not in reason and "travels" not in reason:
            text += f" The nearest it knows is {nearest.replace('_', ' ')}, which it does not match."
        text += f" {duration:.1f} s of motion."
        return Description(file, text, None, rec.probability if rec else 0.0, reason, n, kind=result.kind)
    t = doc.get("tempo") or {}
    down, up = t.get("eccentric_s"), t.get("concentric_s")
    tempo: dict[str, Any] = {"notation": t.get("notation")}
    one = _PLURALS[name][:-1] if name in _PLURALS else name.replace("_", " ")
    parts = [f"{_count(n, True)} {plural_name(name) if n != 1 else one}"]
    if n and down is not None and up is not None:
        pace = "slow" if down + up >= SLOW_S else "fast" if down + up <= FAST_S else "moderate"
        tempo.update(eccentric_s=round(down, 2), concentric_s=round(up, 2), pace=pace)
        parts.append(f"at a {pace} tempo ({down:.1f} s down, {up:.1f} s up)")
    depth = _depth(doc, name) if n else None
    if depth is not None:
        measure = depth["measure"].replace(" (deg)", "")
        parts.append(f"to {depth['deg']:.0f} deg {measure}")
    text = ", ".join(parts) + "."
    if n == 0:
        text = f"{name.replace('_', ' ').capitalize()}, but no repetition was found in {duration:.1f} s."
    faults = _faults(doc)
    note = result.form.note if result.form is not None else ""
    if labelled:
        note = f"the exercise is the file's own label, not recognised ({rec.reason})"
    for f in faults:
        side = {"r": "right", "l": "left", "both": "both sides"}
        sides = " and ".join(side.get(s, s) for s in f["sides"])
        where = f" ({sides})" if sides else ""
        text += f" {f['label'][0].upper()}{f['label'][1:]}{where} in {_reps_list(f['reps'], n)}."
    if n and not faults:
        text += " No form fault found." if not note else f" Form not screened ({note})."
    prob = rec.probability if rec is not None else 1.0
    return Description(file, text, name, prob, "", n, tempo, depth, faults, note, result.kind)


def describe_file(
    path: Path,
    exercise_name: str | None = None,
    *,
    kinetics: bool = False,
    progress: Callable[[str], None] | None = None,
    **load: Any,
) -> Description:
    """Analyse ``path`` as ``analyze`` does and :func:`compose` its description. ``exercise_name``
    skips recognition; ``kinetics`` adds inverse dynamics (not needed for the words); ``load``
    goes to :func:`.analysis.analyze_file` (``mass_kg``, ``sex``, ``fps``, ``height_m``, ``osim``, ...)."""
    kw = {"progress": progress} if progress is not None else {}
    result = analyze_file(Path(path), exercise_name, kinetics=kinetics, **kw, **load)
    add_form(result, exercise_name, load.get("fps"))
    return compose(result)
