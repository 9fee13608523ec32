"""The self-contained HTML coaching report written by ``musclepose demo`` and ``musclepose coach FILE``.

One file that opens anywhere: CSS inline, no JavaScript, no external URLs, every figure an
inline base64 PNG (matplotlib's Agg canvas, in memory). All text from the caller is
HTML-escaped. It reads a :class:`~musclepose.pipelines.results.ClipResult`: header (grade,
quality, key facts), the coach's and the rule-based coach's text, the form screen's findings,
repetitions, the prompt facts, the seven channels and (with a motion) the joint angles over time
with repetitions shaded, (with kinetics) the moments, ground reaction and activations over the
repetition cycle, and a run table. Time in s, heights in m, angles in degrees; right side red,
left blue (dashed), as in :mod:`.kinetics_plots`.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Mapping, Sequence
from html import escape
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..atomic import atomic_write
from ..signals.channels import CHANNEL_NAMES, CHANNEL_UNITS, compute_channels
from ..signals.rep_kinetics import cycle_curves
from .chat import chat_section, events_section
from .kinetics_plots import plot_cycle_curves
from .video_overlay import overlay_png

if TYPE_CHECKING:
    from ..pipelines.results import ClipResult
    from ..signals.analysis import Analysis

__all__ = ["write_coach_report", "write_imitation_report"]

_CHANNEL_LABELS = {
    "trajectory": "hand height",
    "legs_trajectory": "hip height",
    "shoulder_trajectory": "shoulder elevation",
    "back_trajectory": "trunk inclination",
    "knee_angle_trajectory": "knee flexion",
    "arm_Trajectory": "elbow flexion",
    "core_": "core angle",
}
_JOINTS = (
    ("hip flexion", "hip_flexion"),
    ("knee flexion", "knee_flexion"),
    ("ankle dorsiflexion", "ankle_dorsiflexion"),
    ("lumbar flexion", "lumbar_flexion"),
)
# Left dashed so that it stays visible where the two sides coincide (a symmetric movement).
_SIDES = (("r", "tab:red", "right", "-"), ("l", "tab:blue", "left", "--"))
_GRADE_COLOURS = {"A": "#1b7f3b", "B": "#4f8a10", "C": "#b8860b", "D": "#c05a00", "F": "#b00020"}
_KINETICS_CAPTIONS = {
    "moments": "Net internal joint moments over the repetition cycle (N·m/kg; + = flexor or dorsiflexor "
    "moment), mean ± sd over repetitions.",
    "grf": "Vertical ground reaction on each foot over the repetition cycle (body weights).",
    "activations": "Minimal muscle activations that produce the joint moments (static optimisation of the "
    "torque generators) over the repetition cycle.",
}

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: #1d2330; background: #f4f5f7; margin: 0; line-height: 1.5; }
main { max-width: 980px; margin: 0 auto; padding: 24px 20px 48px; }
header { display: flex; align-items: center; gap: 20px; border-bottom: 2px solid #d8dbe2;
         padding-bottom: 14px; margin-bottom: 18px; }
h1 { font-size: 1.5em; margin: 0 0 4px; }
h2 { font-size: 1.15em; margin: 28px 0 10px; color: #2c3e66; }
.grade { min-width: 64px; height: 64px; border-radius: 12px; color: #fff; font-size: 2.2em;
         font-weight: 700; display: flex; align-items: center; justify-content: center; }
.facts { color: #4a5161; font-size: 0.92em; margin: 0; }
.scores span { display: inline-block; margin-right: 14px; }
.card { background: #fff; border: 1px solid #d8dbe2; border-radius: 8px; padding: 14px 18px; }
#mp-chat button { margin: 2px 0; cursor: pointer; } #mp-chat ul { list-style: none; padding-left: 0; }
#mp-chat-answer .q { font-weight: bold; margin-bottom: 0; } #mp-chat-answer .a { margin-top: 2px; }
.coaching { font-size: 1.12em; border-left: 6px solid #2c6bd6; white-space: pre-wrap; }
.reference { white-space: pre-wrap; color: #3a4150; border-left: 6px solid #9aa3b5; }
.told ul { margin: 0; padding-left: 20px; font-family: ui-monospace, Menlo, Consolas, monospace;
           font-size: 0.88em; }
table { border-collapse: collapse; background: #fff; width: 100%; font-size: 0.93em; }
th, td { border: 1px solid #d8dbe2; padding: 5px 9px; text-align: left; }
th { background: #e9ecf2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #f8f9fb; }
.bar { display: inline-block; height: 9px; background: #c0392b; border-radius: 2px;
       vertical-align: middle; margin-right: 6px; }
figure { margin: 14px 0; background: #fff; border: 1px solid #d8dbe2; border-radius: 8px; padding: 10px; }
figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { font-size: 0.88em; color: #4a5161; margin-top: 6px; }
.muted { color: #6b7280; }
"""


# ----------------------------------------------------------------------------- formatting
def _num(v: Any, fmt: str = ".2f", unit: str = "") -> str:
    """``v`` formatted, or an em dash for ``None``/NaN (escaped, ready for HTML)."""
    if v is None:
        return "—"
    try:
        x = float(v)
    except (TypeError, ValueError):
        return escape(str(v))
    if not np.isfinite(x):
        return "—"
    return escape(f"{x:{fmt}}" + (f" {unit}" if unit else ""))


def _tempo(t: Mapping[str, Any] | None) -> str:
    """Tempo dict (``Tempo.to_dict``) as eccentric-bottom-concentric-lockout in tenths of a second."""
    if not t:
        return "—"
    keys = ("eccentric_s", "bottom_s", "concentric_s", "lockout_s")
    return "-".join("x" if t.get(k) is None else f"{float(t[k]):.1f}" for k in keys)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int] = frozenset()) -> str:
    """An HTML table; ``header`` is escaped here, ``rows`` cells must already be HTML."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


# ----------------------------------------------------------------------------- figures
def _png(fig) -> bytes:
    buf = BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _shade_reps(ax, reps: list[dict[str, Any]]) -> None:
    for r in reps:
        ax.axvspan(r["start_s"], r["end_s"], color="tab:green", alpha=0.10, lw=0)
        if r.get("extreme_s") is not None:
            ax.axvline(r["extreme_s"], color="tab:green", lw=0.7, ls=":", alpha=0.8)


def _channels_png(motion: Any, primary: str, reps: list[dict[str, Any]], channels=None, fps=None) -> bytes:
    """``channels`` (name -> ``(T,)`` at ``fps``), else those of ``motion`` (a Motion)."""
    # A bare Figure (no pyplot): rendered by the Agg canvas, no global backend state touched.
    from matplotlib.figure import Figure

    if motion is not None:
        ch, t = compute_channels(motion), motion.times
    else:  # a clip of channels only
        ch = {k: np.asarray(v, dtype=np.float64) for k, v in channels.items()}
        t = np.arange(len(next(iter(ch.values())))) / float(fps)
    fig = Figure(figsize=(10, 1.35 * len(CHANNEL_NAMES) + 0.6))
    axes = fig.subplots(len(CHANNEL_NAMES), 1, sharex=True)
    for ax, name in zip(axes, CHANNEL_NAMES, strict=True):
        _shade_reps(ax, reps)
        is_primary = name == primary
        y = ch[name]
        ax.plot(t, y, color="tab:purple" if is_primary else "0.25", lw=1.6 if is_primary else 1.1)
        # A channel that hardly moves (elbow in a squat) gets a readable range, not a 1e-11 offset axis.
        ax.ticklabel_format(axis="y", useOffset=False)
        least = 0.02 if CHANNEL_UNITS.get(name) == "m" else 2.0
        if np.ptp(y) < least:
            mid = 0.5 * (float(np.max(y)) + float(np.min(y)))
            ax.set_ylim(mid - least, mid + least)
        label = f"{_CHANNEL_LABELS.get(name, name)} ({CHANNEL_UNITS.get(name, '')})"
        ax.set_ylabel(label, fontsize=7.5, rotation=0, ha="right", va="center")
        ax.tick_params(labelsize=7)
        if is_primary:
            ax.set_title(f"{name}: primary channel (repetitions found on it)", fontsize=8, loc="left")
    axes[-1].set_xlabel("time (s)", fontsize=8)
    fig.suptitle("The seven channels (shaded: repetitions; dotted: turning point)", fontsize=10)
    return _png(fig)


def _angles_png(motion: Any, reps: list[dict[str, Any]]) -> bytes:
    from matplotlib.figure import Figure

    t = motion.times
    fig = Figure(figsize=(10, 5.4))
    axes = fig.subplots(2, 2, sharex=True).ravel()
    for ax, (label, dof) in zip(axes, _JOINTS, strict=True):
        _shade_reps(ax, reps)
        if dof == "lumbar_flexion":
            ax.plot(t, np.degrees(motion.dof(dof).detach().cpu().numpy()), color="0.3", lw=1.3, label="trunk")
        else:
            for s, colour, side, style in _SIDES:
                angle = np.degrees(motion.dof(f"{dof}_{s}").detach().cpu().numpy())
                ax.plot(t, angle, color=colour, lw=1.3, ls=style, label=side)
                band = motion.metadata.get("imu_sigma_deg", {}).get(f"{dof}_{s}")
                if band is not None and len(band) == len(t):  # pose from IMUs: the model's 95 % (2-sigma) band
                    sd = float(motion.metadata.get("imu_two_sigma", 2.0)) * np.asarray(band)
                    ax.fill_between(t, angle - sd, angle + sd, color=colour, alpha=0.12, lw=0)
        ax.axhline(0, color="0.75", lw=0.7)
        ax.set_title(label, fontsize=9)
        ax.set_ylabel("deg", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, loc="upper right")
    for ax in axes[2:]:
        ax.set_xlabel("time (s)", fontsize=8)
    fig.suptitle("Joint angles (shaded: repetitions)", fontsize=10)
    return _png(fig)


def _kinetics_pngs(kinetics: Any, analysis: Analysis, title: str) -> list[tuple[str, bytes]]:
    # plot_cycle_curves writes files; draw them into a private temporary folder and read them back.
    with tempfile.TemporaryDirectory(prefix="musclepose-report-") as folder:
        paths = plot_cycle_curves(cycle_curves(kinetics, analysis), folder, title=title)
        return [(p.stem, p.read_bytes()) for p in paths]


# ----------------------------------------------------------------------------- sections
def _header(title: str, a: dict[str, Any], analysis: Analysis) -> str:
    grade = str(a.get("grade") or "?")
    colour = _GRADE_COLOURS.get(grade, "#555")
    q = a.get("wave_features", {}).get("quality", {}) or {}
    scores = "".join(
        f"<span>{escape(k)} {_num(q.get(k))}</span>"
        for k in ("overall", "smoothness", "control", "efficiency", "consistency")
        if k in q
    )
    tempo = a.get("tempo")
    facts = [
        f"exercise: {escape(str(a.get('exercise') or 'automatic'))}",
        f"repetitions: {a.get('n_reps', 0)}",
        f"duration: {_num(a.get('duration_s'), '.1f', 's')}",
        f"primary channel: {escape(str(a.get('primary')))}",
    ]
    if tempo:
        facts.append(f"median tempo: {escape(_tempo(tempo))} s")
    if analysis.kinetics_source:
        facts.append(f"kinetics: {escape(str(analysis.kinetics_source))}")
    return (
        f'<header><div class="grade" style="background:{colour}" title="quality grade">{escape(grade)}</div>'
        f'<div><h1>{escape(title)}</h1><p class="facts">{" · ".join(facts)}</p>'
        f'<p class="facts scores">{scores}</p></div></header>'
    )


def _faults_section(faults: Sequence[Any] | None) -> str:
    """The form screen's findings (``DetectedFault`` s); None leaves the section out."""
    if faults is None:
        return ""
    if not faults:
        return '<h2>Detected faults</h2><p class="muted">No faults detected.</p>'
    side = {"r": " (right)", "l": " (left)"}
    rows = []
    for f in faults:
        p = f.probability
        pf = float(p) if p is not None and np.isfinite(float(p)) else None
        bar = f'<span class="bar" style="width:{60 * min(max(pf, 0.0), 1.0):.0f}px"></span>' if pf is not None else ""
        prob = bar + (escape(f"{pf:.0%}") if pf is not None else "—")
        label = f"{f.name.replace('_', ' ')}{side.get(f.side or '', '')}, severity {f.severity:.2f}"
        name = escape((label + (f" ({f.what})" if f.what else "")).replace("_", " "))
        rows.append([name, prob, _num(f.value, ".3g", str(f.unit or ""))])
    return "<h2>Detected faults</h2>" + _table(["fault", "probability", "measured"], rows, numeric={2})


def _reps_section(a: dict[str, Any]) -> str:
    reps = a.get("reps") or []
    if not reps:
        return '<h2>Repetitions</h2><p class="muted">No repetitions were found.</p>'
    rows = [
        [
            str(r["index"] + 1),
            _num(r.get("start_s")),
            _num(r.get("end_s")),
            _num(r.get("duration_s")),
            _num(r.get("depth_knee_flexion_deg"), ".0f"),
            _num(r.get("min_hip_height_m"), ".3f"),
            escape(_tempo(r.get("tempo"))),
        ]
        for r in reps
    ]
    header = ["rep", "start (s)", "end (s)", "duration (s)", "depth: knee flexion (deg)", "lowest hip (m)", "tempo (s)"]
    note = '<p class="facts">Tempo: eccentric-bottom-concentric-lockout, seconds (x = unknown).</p>'
    return "<h2>Repetitions</h2>" + _table(header, rows, numeric={0, 1, 2, 3, 4, 5}) + note


def _sides_section(a: dict[str, Any]) -> str:
    """Depth, peak extensor moments and load share per side and repetition, and the asymmetry line."""
    sides, asym = a.get("sides") or [], a.get("asymmetry")
    if not sides or asym is None:
        return ""
    joints = list(sides[0]["peak_extensor_moment_nm_per_kg"])
    header = ["rep", "depth R (deg)", "depth L (deg)"] + [f"{j} extensor {s} (N·m/kg)" for j in joints for s in "RL"]
    leg = asym["limb"] == "leg"
    if leg:
        header.append("load on the right (%)")
    rows = []
    for r in sides:
        m = r["peak_extensor_moment_nm_per_kg"]
        row = [str(r["index"] + 1), _num(r["depth_deg"]["r"], ".1f"), _num(r["depth_deg"]["l"], ".1f")]
        row += [_num(m[j][s]) for j in joints for s in "rl"]
        if leg:
            row.append(_num(r["load_share_right_pct"], ".0f"))
        rows.append(row)
    line = f'<p class="facts">{escape(asym["text"])}</p>'
    return "<h2>Left and right</h2>" + _table(header, rows, numeric=set(range(1, len(header)))) + line


def _trust_section(a: dict[str, Any]) -> str:
    """What could not be trusted, and whether the recording showed the exercise."""
    items = []
    mv = a.get("movement") or {}
    if mv.get("matches") is False:
        items.append(f"Not a {mv['exercise']}: {'; '.join(mv['reasons'])}. Analysed as an unknown movement, "
                     "not screened for its faults.")  # fmt: skip
    if a.get("grade_note"):
        items.append(f"Grade {a['grade_note']}.")
    if a.get("grade_cap"):
        items.append(f"Grade {a['grade_cap']}.")
    rel = a.get("reliability") or {}
    items += [f"Flagged: {i}." for i in rel.get("issues") or []]
    items += [f"Unreliable (left out of the peaks and the coaching): {u['text']}." for u in rel.get("unreliable") or []]
    if not items:
        return ""
    listed = "".join(f"<li>{escape(i)}</li>" for i in items)
    return f'<h2>Data quality</h2><div class="card"><ul>{listed}</ul></div>'


def _check_matches(what: str, duration_s: float, analysis: Analysis) -> None:
    if abs(duration_s - analysis.duration_s) > 1.5 / analysis.fps:
        raise ValueError(
            f"{what} lasts {duration_s:.3f} s but the analysis covers {analysis.duration_s:.3f} s: "
            "pass the motion (and kinetics) the analysis was computed from"
        )


def write_coach_report(
    path: str | Path,
    clip: ClipResult,
    *,
    title: str,
    coaching: str,
    summary_lines: list[str],
    reference_coaching: str | None = None,
    extra: dict[str, str] | None = None,
    events: dict[str, Any] | None = None,
    chat: Sequence[Mapping[str, Any]] | None = None,
    chat_answerer: str = "",
) -> Path:
    """Write the HTML coaching report of one clip (see the module docstring).

    Parameters
    ----------
    path
        The ``.html`` file to write (atomically). Its folder must exist.
    clip
        What the pipelines found: its ``analysis`` (grade, repetitions, tempo), ``faults`` (the
        form screen's findings; None leaves the section out, an empty list says none were found),
        ``channels`` (default those the analysis kept, else recomputed from ``motion``),
        ``motion`` (adds the joint angles) and ``kinetics`` (adds the moments, ground reaction
        and activations over the repetition cycle).
    title
        Shown as the heading, e.g. ``"squat: squat_valgus.json"``.
    coaching
        The coach's text, shown prominently (line breaks kept).
    summary_lines
        The facts the coach was given (``PhysicsSummary.lines()``).
    reference_coaching
        The rule-based coach's text, shown for comparison.
    extra
        Rows of a small "Run" table (model, checkpoint, latency, ...).
    events, chat, chat_answerer
        The per-repetition, per-side table (``MotionEvents.to_dict()``) and the "Ask the coach" panel's
        precomputed ``{"question", "answer", "kind"}`` items with who answered them (:mod:`.chat`).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    FileNotFoundError
        The folder of ``path`` does not exist (nothing is written).
    IsADirectoryError
        ``path`` is a folder.
    ValueError
        ``clip.motion`` or ``clip.kinetics`` is not the recording the analysis covers.
    """
    path = Path(path)
    analysis, motion, kinetics = clip.analysis, clip.motion, clip.kinetics
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write the report {path}: its folder {path.parent} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"cannot write the report {path}: it is a folder")
    if motion is not None:
        _check_matches("the motion", float(motion.duration), analysis)
    if kinetics is not None:
        _check_matches("the kinetics' motion", float(kinetics.motion.duration), analysis)

    a = analysis.to_dict()
    reps = a.get("reps") or []
    parts = [_header(title, a, analysis), "<h2>Coaching</h2>", f'<div class="card coaching">{escape(coaching)}</div>']
    if reference_coaching is not None:
        parts += [
            "<h2>Rule-based coach, for comparison</h2>",
            f'<div class="card reference">{escape(reference_coaching)}</div>',
        ]
    parts += [chat_section(chat or [], chat_answerer), _faults_section(clip.faults), _reps_section(a),
              events_section(events), _sides_section(a), _trust_section(a)]  # fmt: skip
    told = "".join(f"<li>{escape(str(line))}</li>" for line in summary_lines)
    parts += ["<h2>What the coach was told</h2>", f'<div class="card told"><ul>{told}</ul></div>']

    video = getattr(clip, "video", None)
    if video is not None and video.key_frames:
        reps_frames = [f for f in video.key_frames if f.label.startswith("rep ")]
        fault_frames = [f for f in video.key_frames if not f.label.startswith("rep ")]
        parts.append("<h2>Video</h2>")
        if reps_frames:
            parts.append(_img(overlay_png(reps_frames), "skeleton over the key frames of each repetition",
                              "The fitted landmarks over the video: start, turning point and end of each "
                              "repetition (right red, left blue)."))  # fmt: skip
        if fault_frames:
            parts.append(_img(overlay_png(fault_frames), "skeleton over the frame of each fault",
                              "Each fault the form screen found, at the turning point of the deepest "
                              "repetition."))  # fmt: skip
    channels = clip.channels if clip.channels is not None else analysis.channels  # what the analysis ran on
    if motion is not None or channels is not None:
        parts.append("<h2>Movement</h2>")
        parts.append(
            _img(
                _channels_png(
                    None if channels is not None else motion, str(a.get("primary")), reps, channels, analysis.fps
                ),  # fmt: skip
                "the seven channels over time",
                "The seven trajectory channels over time: heights in m above the floor, angles in degrees; "
                "repetitions shaded.",
            )
        )
    if motion is not None:
        parts.append(
            _img(
                _angles_png(motion, reps),
                "joint angles over time",
                "Hip, knee and ankle flexion (right red, left blue dashed) and lumbar flexion, degrees; "
                "repetitions shaded."
                + (
                    " From IMUs: the light bands are the pose model's 95 % interval (its calibrated +-2 sigma)."
                    if "imu_sigma_deg" in motion.metadata
                    else ""
                ),  # fmt: skip
            )
        )
    if kinetics is not None:
        parts.append("<h2>Kinetics</h2>")
        source = f" Ground reactions: {kinetics.source}." if getattr(kinetics, "source", None) else ""
        for stem, png in _kinetics_pngs(kinetics, analysis, title):
            caption = _KINETICS_CAPTIONS.get(stem, stem) + (source if stem != "activations" else "")
            parts.append(_img(png, stem, caption))
    if extra:
        rows = [[escape(str(k)), escape(str(v))] for k, v in extra.items()]
        parts += ["<h2>Run</h2>", _table(["item", "value"], rows)]

    doc = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} — MusclePose</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(p for p in parts if p)
        + '\n<p class="facts">Generated by MusclePose.</p>\n</main>\n</body>\n</html>\n'
    )
    with atomic_write(path) as fh:
        fh.write(doc)
    return path


_IMITATION_CAPTIONS = {
    "tracking": "Reference (grey, dashed) and simulated joint angles over time (right red, left blue); a "
    "dotted line marks a fall.",
    "residual": "The residual force and moment on the root that held the pelvis on its recorded path.",
    "muscles": "Activations of the torque generators behind the applied joint torques, and the largest "
    "torque per joint the muscles could not supply.",
}


def write_imitation_report(path: str | Path, result: Any) -> Path:
    """Write the self-contained HTML report of a simulated imitation (``musclepose imitate --report``):
    the headline numbers of ``result`` (a :class:`musclepose.pipelines.imitate.ImitationResult`), its
    worst-tracked joints and the figures of :func:`.imitation_plots.plot_imitation`, inline.

    Raises ``FileNotFoundError`` when the folder of ``path`` does not exist (nothing is written).
    """
    from .imitation_plots import plot_imitation

    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write the report {path}: its folder {path.parent} does not exist")
    s, t = result.summary(), result.tracking
    name = Path(result.source).name or "recording"
    fell = f"fell at {t.fall_time_s:.2f} s" if t.fell else "did not fall"
    rows = [
        ["controller", escape(f"{t.controller.upper()}" + (" + residual root forces" if t.residual else ""))],
        ["joint-angle RMSE", _num(t.joint_rmse_deg, ".2f", "°")],
        ["simulated / recorded", escape(f"{t.simulated_s:.2f} of {t.duration_s:.2f} s, {fell}")],
    ]
    if t.residual:
        rows.append(["residual root force, max / rms",
                     escape(f"{t.max_residual_force_n:.0f} / {t.rms_residual_force_n:.0f} N "
                            f"({t.max_residual_force_pct_bw:.0f} % body weight at most)")])  # fmt: skip
    if "mean_activation" in s:
        rows.append(["mean activation", _num(s["mean_activation"], ".3f")])
        rows.append(["torque beyond the muscles, max", _num(s["max_unsupplied_torque_nm"], ".0f", "N·m")])
    worst = [[escape(k), _num(v, ".2f")] for k, v in s.get("worst_dof_rmse_deg", {}).items()]
    far = [[escape(k), _num(v, ".0f")] for k, v in s.get("reference_beyond_limits_deg", {}).items() if v > 0]
    parts = [
        f"<header><div><h1>{escape(name)}: simulated under physics</h1>"
        f'<p class="facts">MuJoCo, {escape(t.controller.upper())} tracking of the recorded joint angles.</p>'
        "</div></header>",
        "<h2>Result</h2>", _table(["item", "value"], rows),
        "<h2>Worst-tracked joints</h2>", _table(["DoF", "RMSE (°)"], worst, numeric={1}),
    ]  # fmt: skip
    if far:
        parts += ["<h2>Where the recording leaves the joints' range</h2>",
                  _table(["DoF", "beyond the limit (°)"], far, numeric={1})]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for fig in plot_imitation(result, tmp):
            parts.append(_img(fig.read_bytes(), fig.stem, _IMITATION_CAPTIONS.get(fig.stem, fig.stem)))
    doc = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(name)} simulated — MusclePose</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(parts)
        + '\n<p class="facts">Generated by MusclePose.</p>\n</main>\n</body>\n</html>\n'
    )
    with atomic_write(path) as fh:
        fh.write(doc)
    return path
