"""PhysicsSummary and the coaching prompt: what the LLM is told about a clip, and nothing else.

:class:`PhysicsSummary` collects the facts the coach may use: exercise, repetitions, quality
grade and scores, tempo, phases, wave features (peak power, damping, dominant frequency),
per-joint peak moments with left-right asymmetry, peak ground reaction, and temporal events
(phase boundaries with durations and velocities). It is built from an analysis
(:meth:`PhysicsSummary.from_analysis`, the ``Analysis.to_dict()`` of
:func:`musclepose.signals.analyze_motion`) and only ever reads the whitelisted fields it
names, so a label such as the target coaching text cannot leak into the prompt (the seed's
implementation put the target text into its training prompt; ``tests/language`` proves
this one does not).

:func:`build_prompt` renders the summary in the seed's prompt layout (a system line, then
Exercise, Reps, Quality, Peak power, Damping ratio, Dominant frequency, Phases, Temporal
Events, "Provide coaching feedback:"), extended with the joint moments and asymmetry.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..catalogue import strength_word
from ..signals.coaching import fmt_value

__all__ = ["SYSTEM_PROMPT", "DetectedFault", "PhysicsSummary", "build_prompt"]

SYSTEM_PROMPT = (
    "You are a biomechanics-aware fitness coach. Use only the measurements given. Address every fault the "
    "form screen lists, in its order (most severe first): name it, explain why it matters with the numbers, "
    "and give one clear cue."
)
_MOMENT_LABELS = {
    "hip_flexion": "hip",
    "knee_flexion": "knee",
    "ankle_dorsiflexion": "ankle",
    "lumbar_flexion": "lumbar",
}


_SIDES = {"r": " on the right", "l": " on the left"}


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and math.isfinite(float(v)) else None


@dataclass(frozen=True)
class DetectedFault:
    """A form fault found in the clip (by the encoder's fault heads): ``probability`` and
    ``severity`` in [0, 1], ``side`` ``"r"``/``"l"`` for one-sided faults."""

    name: str
    probability: float
    severity: float
    side: str | None = None
    value: float | None = None  # the measured observable (raw measure), if the screen measured one
    unit: str = ""
    what: str = ""  # e.g. "hip adduction at the bottom"

    def measured(self) -> str:
        """``"hip adduction at the bottom 12 deg"`` (as the expert coach prints it), or ``""``."""
        if self.value is None or not self.what:
            return ""
        return f"{self.what.partition(', ')[0]} {fmt_value(self.value, self.unit)} {self.unit}".replace(" %", "%")


@dataclass(frozen=True)
class PhysicsSummary:
    """The facts of one clip the coach may state (see the module docstring)."""

    exercise: str
    n_reps: int
    grade: str | None = None
    quality: dict[str, float] = field(default_factory=dict)
    tempo: str | None = None
    peak_power_w: float | None = None
    damping_ratio: float | None = None
    dominant_frequency_hz: float | None = None
    phases: tuple[tuple[str, float, float], ...] = ()  # (type, duration s, mean velocity)
    peak_moments: dict[str, float] = field(default_factory=dict)  # e.g. "knee R" -> N m/kg (signed)
    asymmetry_pct: dict[str, float] = field(default_factory=dict)  # joint -> |R - L| / mean, %
    peak_grf_bw: float | None = None
    depth_deg: float | None = None  # peak knee flexion over the repetitions
    eccentric_s: float | None = None  # median lowering time per repetition
    concentric_s: float | None = None  # median rising time
    faults: tuple[DetectedFault, ...] | None = None  # None: no form screen was run

    @classmethod
    def from_analysis(cls, analysis: dict[str, Any], exercise: str | None = None) -> PhysicsSummary:
        """From ``Analysis.to_dict()`` (reads only the fields this summary has)."""
        wf = analysis.get("wave_features") or {}
        q = wf.get("quality") or {}
        waves = wf.get("waves") or {}
        phases = tuple(
            (str(p["type"]), float(p["duration_s"]), float(p["mean_velocity"]))
            for p in waves.get("phases", [])
            if p.get("type") not in ("setup", "rest") and _num(p.get("duration_s")) is not None
        )
        peaks: dict[str, float] = {}
        asym: dict[str, float] = {}
        grf = None
        kin = analysis.get("kinetics") or {}
        reps = kin.get("reps") or []
        if reps:
            for dof, label in _MOMENT_LABELS.items():
                for side in ("r", "l", ""):
                    key = f"{dof}_{side}" if side else dof
                    values = [r["peak_moment_nm_per_kg"].get(key) for r in reps]
                    values = [v for v in values if _num(v) is not None]
                    if values:
                        peaks[f"{label} {side.upper()}".strip()] = max(values, key=abs)
                r_, l_ = peaks.get(f"{label} R"), peaks.get(f"{label} L")
                if r_ is not None and l_ is not None and abs(r_) + abs(l_) > 1e-9:
                    asym[label] = 200.0 * abs(abs(r_) - abs(l_)) / (abs(r_) + abs(l_))
            peaks_grf = [v for r in reps for v in r["peak_vertical_grf_bw"].values() if _num(v) is not None]
            grf = max(peaks_grf) if peaks_grf else None  # None: no trusted frame (signals.plausibility)
        return cls(
            exercise=str(exercise or analysis.get("exercise") or "exercise"),
            n_reps=int(analysis.get("n_reps") or 0),
            grade=analysis.get("grade") or q.get("grade"),
            quality={k: float(v) for k, v in q.items() if _num(v) is not None},
            tempo=(analysis.get("tempo") or {}).get("notation"),
            peak_power_w=_num((wf.get("energy") or {}).get("peak_power_W")),
            damping_ratio=_num((wf.get("damping") or {}).get("ratio")),
            dominant_frequency_hz=_num((wf.get("frequency") or {}).get("dominant")),
            phases=phases,
            peak_moments=peaks,
            asymmetry_pct=asym,
            peak_grf_bw=_num(grf),
        )

    def lines(self) -> list[str]:
        """The summary as prompt lines (numbers rounded as :meth:`numbers` lists them)."""
        out = [f"Exercise: {self.exercise.replace('_', ' ')}", f"Reps: {self.n_reps}"]
        if self.grade:
            scores = ", ".join(f"{k} {v:.2f}" for k, v in self.quality.items() if k != "overall")
            overall = self.quality.get("overall")
            out.append(f"Quality: grade {self.grade}" + (f" ({overall:.2f}; {scores})" if overall is not None else ""))
        if self.tempo:
            out.append(f"Tempo: {self.tempo} (eccentric-bottom-concentric-top, s)")
        if self.depth_deg is not None:
            out.append(f"Depth: peak knee flexion {self.depth_deg:.0f} deg")
        if self.eccentric_s is not None and self.concentric_s is not None:
            out.append(f"Lowering {self.eccentric_s:.1f} s, rising {self.concentric_s:.1f} s per repetition")
        if self.peak_power_w is not None:
            out.append(f"Peak power: {self.peak_power_w:.0f} W")
        if self.damping_ratio is not None:
            out.append(f"Damping ratio: {self.damping_ratio:.2f}")
        if self.dominant_frequency_hz is not None:
            out.append(f"Dominant frequency: {self.dominant_frequency_hz:.2f} Hz")
        if self.peak_moments:
            # Largest first, as each fault below carries its severity's word: the facts the text
            # restates are stated, not left to a comparison the LLM gets wrong (measured: 26 %
            # of such facts misstated with an unordered list and bare severities).
            ranked = sorted(self.peak_moments.items(), key=lambda kv: -abs(kv[1]))
            out.append("Peak joint moments (N·m/kg), largest first: " + ", ".join(f"{k} {v:.2f}" for k, v in ranked))
        if self.asymmetry_pct:
            out.append("Left-right asymmetry: " + ", ".join(f"{k} {v:.0f}%" for k, v in self.asymmetry_pct.items()))
        if self.peak_grf_bw is not None:
            out.append(f"Peak ground reaction: {self.peak_grf_bw:.2f} body weights per foot")
        if self.faults is not None:
            # One fault per line, most severe first: the order the coaching text addresses them in
            # (a single "; "-joined line let the LLM stop after the first of two faults).
            found = [
                f"- {f.name.replace('_', ' ')}{_SIDES.get(f.side or '', '')} ("
                + (f"{f.measured()}; " if f.measured() else "")
                + f"probability {f.probability:.2f}, severity {f.severity:.2f}, {strength_word(f.severity)})"
                for f in sorted(self.faults, key=lambda f: -f.severity)
            ]
            out += ["Form screen, most severe first:", *found] if found else ["Form screen: no fault detected"]
        if self.phases:
            out.append("Phases: " + ", ".join(dict.fromkeys(p[0] for p in self.phases)))
            out.append("Temporal Events:")
            out += [f"Event {i + 1}: {t} ({d:.2f}s, {v:.2f}/s)" for i, (t, d, v) in enumerate(self.phases[:12])]
        return out

    def numbers(self) -> set[str]:
        """Every number the summary states, as written in the prompt (for grounding checks)."""
        return set(re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?", "\n".join(self.lines())))


def build_prompt(summary: PhysicsSummary, system: str = SYSTEM_PROMPT) -> tuple[str, str]:
    """``(system, user)`` messages for a chat template; the user message ends with the instruction."""
    return system, "\n".join([*summary.lines(), "Provide coaching feedback:"])
