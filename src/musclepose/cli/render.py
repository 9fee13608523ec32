"""Rich renderings of library results (tables), kept out of the library itself."""

from __future__ import annotations

import math
from typing import Any

from rich.markup import escape
from rich.table import Table

from ..body import Body
from ..catalogue import exercise as catalogue_exercise


def segment_table(body: Body) -> Table:
    t = Table(title=f"{body.sex} body, {body.height_m:.2f} m, {body.mass_kg:.1f} kg (Dumas 2007 BSIP)")
    for col in ("segment", "parent", "mass kg", "% body", "length m", "CoM x", "CoM y", "CoM z"):
        t.add_column(col, justify="left" if col in ("segment", "parent") else "right")
    for row in body.segment_table():
        cx, cy, cz = row["com_m"]
        t.add_row(
            row["segment"],
            row["parent"] or "-",
            f"{row['mass_kg']:.2f}",
            f"{100 * row['mass_kg'] / body.mass_kg:.1f}",
            f"{row['length_m']:.3f}",
            f"{cx:+.3f}",
            f"{cy:+.3f}",
            f"{cz:+.3f}",
        )
    return t


def _num(v: Any, fmt: str = ".2f") -> str:
    """A number for a table cell; ``-`` for None or NaN."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return format(v, fmt)


def _cell(v: Any, fmt: str = ".2f") -> str:
    return _num(v, fmt) if isinstance(v, float) or v is None else str(v)


def _tempo_seconds(t: dict[str, Any] | None) -> str:
    if not t:
        return "-"
    return " / ".join(_num(t.get(k), ".1f") for k in ("eccentric_s", "bottom_s", "concentric_s", "lockout_s"))


def analysis_tables(analysis: Any, title: str = "") -> list[Table]:
    """Summary, repetitions, phases and wave features of a :class:`~musclepose.signals.Analysis`."""
    d = analysis.to_dict()
    wf = d["wave_features"]
    q = wf["quality"]
    # The title holds a file name: escaped, so that "[bold]x.trc" prints as it is.
    summary = Table(title=f"Analysis: {escape(title)}" if title else "Analysis", show_header=False)
    summary.add_column("", style="bold")
    summary.add_column("")
    tempo = d.get("tempo") or {}
    for k, v in (
        ("exercise", d["exercise"] or "auto"),
        ("primary channel", d["primary"]),
        ("duration", f"{d['duration_s']:.2f} s at {d['fps']:g} Hz"),
        ("repetitions", str(d["n_reps"])),
        ("median tempo", f"{tempo.get('notation', '-')} ({_tempo_seconds(tempo)} s)" if tempo else "-"),
        ("overall quality", f"{_num(q.get('overall'))} ({_grade(d)})"),
    ):
        summary.add_row(k, v)
    for k, v in _trust_rows(d):
        summary.add_row(k, escape(v))

    reps = Table(title="Repetitions")
    for col in ("#", "start s", "end s", "depth deg", "min hip m", "tempo", "ecc/bottom/con/top s"):
        reps.add_column(col, justify="right")
    for r in d["reps"]:
        reps.add_row(
            str(r["index"] + 1),
            _num(r["start_s"]),
            _num(r["end_s"]),
            _num(r["depth_knee_flexion_deg"], ".1f"),
            _num(r["min_hip_height_m"], ".3f"),
            r["tempo"]["notation"],
            _tempo_seconds(r["tempo"]),
        )

    unit = wf["waves"].get("unit", "")
    phases = Table(title=f"Phases ({wf['channel']})")
    for col in ("phase", "rep", "start s", "duration s", f"mean velocity {unit}/s", f"peak velocity {unit}/s"):
        phases.add_column(col, justify="left" if col == "phase" else "right")
    for p in wf["waves"]["phases"]:
        phases.add_row(
            p["type"],
            "-" if p["rep"] is None else str(p["rep"] + 1),
            _num(p["start_s"]),
            _num(p["duration_s"]),
            _num(p["mean_velocity"], ".3f"),
            _num(p["peak_velocity"], ".3f"),
        )

    waves = Table(title="Wave features")
    waves.add_column("feature")
    waves.add_column("value", justify="right")
    energy, damping, freq = wf["energy"], wf["damping"], wf["frequency"]
    joules = energy.get("joules") or {}
    rows: list[tuple[str, str]] = [
        ("dominant frequency Hz", _num(freq.get("dominant"), ".3f")),
        ("spectral entropy", _num(freq.get("spectral_entropy"), ".3f")),
    ]
    rows += [(f"band power {band}", _num(v, ".3f")) for band, v in (freq.get("bands") or {}).items()]
    rows += [(f"energy {k}", _cell(v)) for k, v in joules.items()]
    rows.append(("path efficiency %", _num(energy.get("efficiency_pct"), ".1f")))
    rows += [(f"damping {k}", _cell(v, ".3f")) for k, v in damping.items()]
    rows += [(f"quality {k}", _cell(v)) for k, v in q.items()]
    for k, v in rows:
        waves.add_row(k, v)
    tables = [summary, reps, phases, waves]
    if d.get("kinetics"):
        tables += kinetics_tables(d["kinetics"])
    tables += side_tables(d)
    return tables


def _grade(d: dict[str, Any]) -> str:
    if d.get("grade") is None:
        return f"grade {d.get('grade_note') or 'withheld'}"
    return f"grade {d['grade']}" + (f", {d['grade_cap']}" if d.get("grade_cap") else "")


def _trust_rows(d: dict[str, Any]) -> list[tuple[str, str]]:
    """Summary rows: whether the recording shows the exercise, and what could not be trusted."""
    rows = []
    mv = d.get("movement") or {}
    if mv.get("matches") is False:
        rows.append(("movement", f"not a {mv['exercise']} ({'; '.join(mv['reasons'])}): analysed as an unknown "
                                 "movement, not screened for its faults"))  # fmt: skip
    rel = d.get("reliability") or {}
    if rel.get("issues"):
        rows.append(("flagged frames", "; ".join(rel["issues"][:3])))
    for u in (rel.get("unreliable") or [])[:3]:
        rows.append(("unreliable", u["text"]))
    return rows


def side_tables(d: dict[str, Any]) -> list[Table]:
    """Per repetition and side: depth, peak extensor moments and load share, then the asymmetry line."""
    sides = d.get("sides") or []
    asym = d.get("asymmetry")
    if not sides or asym is None:
        return []
    t = Table(title=f"Left and right per repetition ({asym['limb']}s); {asym['text']}")
    joints = list(sides[0]["peak_extensor_moment_nm_per_kg"])
    t.add_column("#", justify="right")
    t.add_column("depth R deg", justify="right")
    t.add_column("depth L deg", justify="right")
    for j in joints:
        t.add_column(f"{j} ext R N·m/kg", justify="right")
        t.add_column(f"{j} ext L", justify="right")
    if asym["limb"] == "leg":
        t.add_column("load R %", justify="right")
    for r in sides:
        m = r["peak_extensor_moment_nm_per_kg"]
        row = [str(r["index"] + 1), _num(r["depth_deg"]["r"], ".1f"), _num(r["depth_deg"]["l"], ".1f")]
        row += [_num(m[j][s]) for j in joints for s in "rl"]
        if asym["limb"] == "leg":
            row.append(_num(r["load_share_right_pct"], ".0f"))
        t.add_row(*row)
    return [t]


def measures_table(measures: dict[str, float] | None, exercise: str | None) -> list[Table]:
    """The exercise's catalogue measures (a drop jump's landing, a run's stances) with their normal ranges."""
    ex = catalogue_exercise(exercise) if exercise else None
    if not measures or ex is None:
        return []
    t = Table(title=f"{ex.name.replace('_', ' ')} measures")
    for col in ("measure", "value", "normal"):
        t.add_column(col, justify="left" if col == "measure" else "right")
    for name, v in measures.items():
        spec = ex.measures[name]
        normal = "-" if spec.normal is None else f"{spec.normal[0]:g}-{spec.normal[1]:g}"
        t.add_row(spec.shows, _num(v), normal)
    return [t]


_GROUPS = {
    ("hip_flexion", "+"): "hip flexors",
    ("hip_flexion", "-"): "hip extensors",
    ("knee_flexion", "+"): "knee flexors",
    ("knee_flexion", "-"): "knee extensors",
    ("ankle_dorsiflexion", "+"): "dorsiflexors",
    ("ankle_dorsiflexion", "-"): "plantarflexors",
}


def _generator_label(g: str) -> str:
    """``"knee_flexion_r-"`` -> ``"knee extensors R"``."""
    dof, sign = g[:-1], g[-1]
    side = dof[-1].upper() if dof[-2:] in ("_r", "_l") else ""
    base = dof[:-2] if side else dof
    return f"{_GROUPS.get((base, sign), base + ' ' + sign)} {side}".strip()


def kinetics_tables(kin: dict[str, Any]) -> list[Table]:
    """Per-repetition peak moments, ground reactions and muscle activations (``Analysis.to_dict()["kinetics"]``)."""
    reps = kin["reps"]
    if not reps:
        return []
    moments = Table(title=f"Peak joint moments per repetition, N·m/kg (+ flexor; GRF: {kin['source']})")
    names = list(reps[0]["peak_moment_nm_per_kg"])
    moments.add_column("#", justify="right")
    for n in names:
        moments.add_column(n.replace("_flexion", "").replace("_dorsiflexion", " DF"), justify="right")
    moments.add_column("GRF R BW", justify="right")
    moments.add_column("GRF L BW", justify="right")
    for r in reps:
        grf = r["peak_vertical_grf_bw"]
        moments.add_row(
            str(r["index"] + 1),
            *(_num(r["peak_moment_nm_per_kg"][n]) for n in names),
            _num(grf.get("foot_r")),
            _num(grf.get("foot_l")),
        )
    tables = [moments]
    if reps[0].get("peak_activation"):
        gens = list(reps[0]["peak_activation"])
        act = Table(title="Peak muscle activation per repetition (static optimisation, 0-1)")
        act.add_column("#", justify="right")
        for g in gens:
            act.add_column(_generator_label(g), justify="right")
        act.add_column("unexplained N·m", justify="right")
        for r in reps:
            act.add_row(
                str(r["index"] + 1),
                *(_num(r["peak_activation"][g]) for g in gens),
                _num(r["max_unexplained_moment_nm"], ".1f"),
            )
        tables.append(act)
    return tables


def form_tables(form: Any) -> list[Table]:
    """The recognised exercise and each repetition's faults (a ``form_analysis.FormReport``)."""
    if form is None:
        return []
    rec = form.recognition
    title = f"Form per repetition: {rec.exercise or 'unknown exercise'}"
    if rec.source:
        title += f" ({rec.source}{'' if rec.exercise is None else f', p {rec.probability:.2f}'})"
    t = Table(title=title)
    for col in ("#", "start s", "end s", "faults", "p wrong"):
        t.add_column(col, justify="left" if col == "faults" else "right")
    for r in form.reps:
        words = []
        for f in r.faults:
            side = f" ({f.side})" if f.side else ""
            val = f": {f.value:.3g} {f.unit}" if f.value is not None and math.isfinite(f.value) else ""
            words.append(f"{f.name.replace('_', ' ')}{side}{val}")
        t.add_row(str(r.index + 1), _num(r.start_s), _num(r.end_s), "; ".join(words) or "none", _num(r.p_wrong))
    tables = [t]
    if form.note or rec.reason:
        note = Table(show_header=False, box=None)
        note.add_column("")
        note.add_row(" ".join(x for x in (rec.reason, form.note) if x))
        tables.append(note)
    return tables
