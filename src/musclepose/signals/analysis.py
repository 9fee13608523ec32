"""Exercise analysis of a Motion: repetitions with depth, tempo and phases, wave features, grade.

:func:`analyze_motion` is what ``musclepose analyze`` prints: it computes the seven channels
(:mod:`.channels`), segments repetitions on the exercise's primary channel
(:mod:`.reps`, :mod:`.exercises`), splits them into phases (:mod:`.phases`) and adds the
wave features (:mod:`.waves`). Per repetition it reports depth as the peak knee flexion
(deg, mean of left and right) and the lowest hip height (m above the floor) between the
repetition's start and end, and each side's depth, moments and load share (:mod:`.sides`). On a
motion it checks what may become a finding (:mod:`.plausibility`: flagged frames and values
beyond the exercise's limits are left out of depths and peaks, and a grade is withheld when too
little of the repetitions is trusted) and whether the recording shows the exercise
(:mod:`.movement`). :meth:`Analysis.to_dict` is JSON-ready (times in s).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .exercises import normalise_exercise
from .movement import MovementCheck, check_movement
from .phases import PhaseSpan, Tempo
from .plausibility import Reliability, check_plausibility
from .rep_kinetics import rep_kinetics
from .sides import Asymmetry, RepSides, side_reports
from .waves import WaveFeatures, jsonable, run_analysis

if TYPE_CHECKING:
    from ..motion.core import Motion

__all__ = ["Analysis", "RepSummary", "analyze_motion"]


@dataclass(frozen=True)
class RepSummary:
    """One repetition.

    Attributes
    ----------
    index : int
        0-based.
    start, extreme, end : int
        Frames (the extreme is the bottom of a squat).
    depth_knee_flexion_deg : float
        Peak knee flexion (mean of left and right) within the repetition.
    min_hip_height_m : float
        Lowest hip-midpoint height within the repetition.
    tempo : Tempo
    phases : list of PhaseSpan
    """

    index: int
    start: int
    extreme: int
    end: int
    depth_knee_flexion_deg: float
    min_hip_height_m: float
    tempo: Tempo
    phases: list[PhaseSpan]

    def to_dict(self, fps: float) -> dict[str, Any]:
        return {
            "index": self.index,
            "start_s": self.start / fps,
            "extreme_s": self.extreme / fps,
            "end_s": self.end / fps,
            "duration_s": (self.end - self.start) / fps,
            "depth_knee_flexion_deg": self.depth_knee_flexion_deg,
            "min_hip_height_m": self.min_hip_height_m,
            "tempo": self.tempo.to_dict(),
            "phases": [{"type": p.name, "start_s": p.start / fps, "duration_s": p.duration(fps)} for p in self.phases],
        }


@dataclass(frozen=True)
class Analysis:
    """The analysis of one exercise recording (see :func:`analyze_motion`)."""

    exercise: str | None
    fps: float
    duration_s: float
    primary: str
    reps: list[RepSummary]
    tempo: Tempo | None
    wave_features: WaveFeatures
    kinetics: list | None = None  # RepKinetics per repetition (see .rep_kinetics)
    kinetics_source: str | None = None
    # The seven channels the analysis ran on (name -> (T,)), for plots and models; not in to_dict().
    channels: dict[str, np.ndarray] | None = field(default=None, repr=False, compare=False)
    reliability: Reliability | None = field(default=None, repr=False, compare=False)
    sides: list[RepSides] | None = None
    asymmetry: Asymmetry | None = None
    movement: MovementCheck | None = None
    grade_note: str | None = None  # why the grade is withheld (None: it is not)
    grade_cap: tuple[str, str] | None = None  # (grade, why): lowered to agree with the faults found

    @property
    def n_reps(self) -> int:
        return len(self.reps)

    @property
    def grade(self) -> str | None:
        """The wave features' letter grade, lowered to agree with the faults a form screen found
        (``grade_cap``); None when too little of the repetitions is trusted."""
        if self.grade_note:
            return None
        return self.grade_cap[0] if self.grade_cap else self.wave_features.grade

    @property
    def screenable(self) -> bool:
        """Whether the recording may be screened for its exercise's faults (it shows the exercise)."""
        return self.movement is None or self.movement.matches is not False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN as ``None``)."""
        return jsonable(
            {
                "exercise": self.exercise,
                "fps": self.fps,
                "duration_s": self.duration_s,
                "primary": self.primary,
                "n_reps": self.n_reps,
                "grade": self.grade,
                "tempo": self.tempo.to_dict() if self.tempo else None,
                "reps": [r.to_dict(self.fps) for r in self.reps],
                "wave_features": self.wave_features.to_dict(),
                "kinetics": None
                if self.kinetics is None
                else {"source": self.kinetics_source, "reps": [k.to_dict() for k in self.kinetics]},
                "grade_note": self.grade_note,
                "grade_cap": None if self.grade_cap is None else self.grade_cap[1],
                "sides": None if self.sides is None else [r.to_dict() for r in self.sides],
                "asymmetry": None if self.asymmetry is None else self.asymmetry.to_dict(),
                "reliability": None if self.reliability is None else self.reliability.to_dict(self.fps),
                "movement": None if self.movement is None else self.movement.to_dict(self.fps),
            }
        )


def analyze_motion(
    motion: Motion | Any,
    exercise: str | None = None,
    primary: str | None = None,
    kinetics: Any = None,
    fps: float | None = None,
    body: Any = None,
) -> Analysis:
    """Analyse an exercise recording.

    Parameters
    ----------
    motion
        The recording on the standard body, or its seven channels (a ``(T, 7)`` array in
        :data:`~.channels.CHANNEL_NAMES` order, a channel dict or a clip mapping) with ``fps``
        (and optionally the ``body`` for energies in J).
    exercise
        Exercise name (``"squat"``, ``"overhead_press"``, ... see :mod:`.exercises`); ``None``
        chooses the primary channel automatically and infers the eccentric direction from
        the hip and hand heights.
    primary
        Force the primary channel by name.
    kinetics
        A :class:`~musclepose.motion.kinetics.Kinetics` of the same motion: adds the peak
        joint moments, ground reactions and muscle activations per repetition
        (:func:`.rep_kinetics.rep_kinetics`).

    Returns
    -------
    Analysis
    """
    run = run_analysis(motion, fps=fps, body=body, exercise=exercise, primary=primary)
    is_motion = hasattr(motion, "q") and hasattr(motion, "fps")
    fps = float(motion.fps) if is_motion else float(fps if fps is not None else motion["fps"])
    knee = run.channels["knee_angle_trajectory"]
    hip = run.channels["legs_trajectory"]
    reliability = check_plausibility(motion, kinetics, exercise) if is_motion else None
    trusted = reliability.trusted if reliability is not None else np.ones(len(knee), dtype=bool)
    reps = []
    for k, (s, p, e) in enumerate(run.segmenter.reps_):
        window = slice(s, e + 1)
        ok = trusted[window] if trusted[window].any() else np.zeros(e + 1 - s, dtype=bool)
        reps.append(
            RepSummary(
                index=k,
                start=s,
                extreme=p,
                end=e,
                depth_knee_flexion_deg=float(np.max(knee[window][ok])) if ok.any() else float("nan"),
                min_hip_height_m=float(np.min(hip[window][ok])) if ok.any() else float("nan"),
                tempo=run.phases.tempo_[k],
                phases=run.phases.rep_spans_[k],
            )
        )
    result = Analysis(
        exercise=normalise_exercise(exercise) if exercise else None,
        fps=fps,
        duration_s=float(motion.duration) if is_motion else len(knee) / fps,
        primary=run.features.channel,
        reps=reps,
        tempo=Tempo.median(run.phases.tempo_),
        wave_features=run.features,
        channels=run.channels,
    )
    if not is_motion:
        return result
    windows = [(r.start, r.end) for r in reps] or [(0, motion.n_frames - 1)]
    sides, asym = side_reports(motion, windows, kinetics, reliability, exercise)
    extra: dict[str, Any] = dict(reliability=reliability, sides=sides, asymmetry=asym,
                                 movement=check_movement(motion, exercise) if exercise else None,
                                 grade_note=_grade_note(reliability, windows, fps))  # fmt: skip
    if kinetics is not None:
        extra.update(kinetics=rep_kinetics(kinetics, result, trusted=reliability.trusted_kinetics),
                     kinetics_source=kinetics.source)  # fmt: skip
    return replace(result, **extra)


#: A grade needs this share of the repetitions' frames trusted.
MIN_GRADED_SHARE = 0.8


def _grade_note(reliability: Reliability, windows: list[tuple[int, int]], fps: float) -> str | None:
    """Why no grade (too little of the repetitions trusted, with the causes), or None."""
    inside = np.zeros(len(reliability.trusted), dtype=bool)
    for a, b in windows:
        inside[a : b + 1] = True
    share = float(np.mean(reliability.trusted[inside])) if inside.any() else 1.0
    if share >= MIN_GRADED_SHARE:
        return None
    causes = reliability.issues[:2] or [u.text(fps) for u in reliability.unreliable[:2]]
    return f"withheld: {100 * (1 - share):.0f} % of the repetitions' frames are unreliable ({'; '.join(causes)})"
