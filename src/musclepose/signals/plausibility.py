"""Which frames of an analysis may become findings, and which values are unreliable and why.

:func:`check_plausibility` combines the motion's own flags (:class:`~musclepose.motion.quality.FrameQuality`:
a poor fit, a repaired spike, an impossible joint speed) with the exercise's physiological limits
(:class:`~musclepose.catalogue.Limits`: joint speed, peak net joint moments in N m/kg, vertical
ground reaction per foot in body weights). A value beyond a limit is reported as
:class:`Unreliable`, with its cause where the data show one (the flagged frames it falls in),
never as a finding; its frames, and the motion's flagged frames widened by the reach of the
kinetics' low-pass filter, are left out of peaks, faults and coaching (:attr:`Reliability.trusted`).
Frames are 0-based, ``end`` inclusive; moments per kg of body mass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..catalogue import Limits
from ..catalogue import exercise as catalogue_exercise
from ..motion.quality import intervals

__all__ = ["KINETICS_REACH_S", "Reliability", "Unreliable", "check_plausibility"]

#: How far (s) an artefact in the coordinates spreads through the kinetics' 6-Hz low-pass filter
#: and second derivatives (about the filter's impulse response).
KINETICS_REACH_S = 0.1
#: Repetitions with less than this share of trusted frames report no values.
MIN_TRUSTED_SHARE = 0.5
G = 9.81


@dataclass(frozen=True)
class Unreliable:
    """A value beyond its physiological limit: ``quantity`` (e.g. ``"hip_flexion_r moment"``),
    the largest ``value`` and the ``limit`` in ``unit``, where (``start``..``end`` frames) and the
    ``cause``."""

    quantity: str
    value: float
    limit: float
    unit: str
    start: int
    end: int
    cause: str

    def text(self, fps: float) -> str:
        when = (
            f"{self.start / fps:.2f} s" if self.start == self.end else f"{self.start / fps:.2f}-{self.end / fps:.2f} s"
        )
        return f"{self.quantity} {self.value:.3g} {self.unit} (limit {self.limit:g}) at {when}: {self.cause}"

    def to_dict(self, fps: float) -> dict[str, Any]:
        return {"quantity": self.quantity, "value": self.value, "limit": self.limit, "unit": self.unit,
                "start_s": self.start / fps, "end_s": self.end / fps, "cause": self.cause,
                "text": self.text(fps)}  # fmt: skip


@dataclass(frozen=True)
class Reliability:
    """What of a recording may become findings.

    Attributes
    ----------
    trusted : np.ndarray (T,) bool
        Frames a kinematic finding (depth, a fault's observable) may come from.
    trusted_kinetics : np.ndarray (T,) bool
        Frames a kinetic finding (a peak moment or ground reaction) may come from: ``trusted``
        less the frames within :data:`KINETICS_REACH_S` of a flagged one and the frames whose
        kinetics are beyond the limits.
    unreliable : list of Unreliable
        Values beyond the exercise's limits, with their causes.
    issues : list of str
        The motion's own flags, described (poor fit, spikes, over-fast joints).
    limits : Limits
        The limits checked (the exercise's, else the catalogue's defaults).
    """

    trusted: np.ndarray
    trusted_kinetics: np.ndarray
    unreliable: list[Unreliable] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)

    @property
    def trusted_share(self) -> float:
        return float(np.mean(self.trusted_kinetics)) if len(self.trusted_kinetics) else 1.0

    def share(self, start: int, end: int, kinetics: bool = False) -> float:
        """Share of trusted frames in ``start..end`` (inclusive)."""
        m = (self.trusted_kinetics if kinetics else self.trusted)[start : end + 1]
        return float(np.mean(m)) if len(m) else 0.0

    def to_dict(self, fps: float) -> dict[str, Any]:
        return {
            "trusted_share": float(np.mean(self.trusted)) if len(self.trusted) else 1.0,
            "trusted_share_kinetics": self.trusted_share,
            "unreliable": [u.to_dict(fps) for u in self.unreliable],
            "issues": list(self.issues),
        }


def _dilate(mask: np.ndarray, k: int) -> np.ndarray:
    if k <= 0 or not mask.any():
        return mask.copy()
    return np.convolve(mask.astype(float), np.ones(2 * k + 1), mode="same") > 0


def _cause(quality: Any, a: int, b: int, fps: float, reach: int) -> str:
    if quality is not None:
        near = np.zeros(quality.n_frames, dtype=bool)
        near[max(0, a - reach) : b + reach + 1] = True
        found = quality.causes(near, fps, limit=2)
        if found:
            return "; ".join(found)
    return "no artefact found in the data: a support, load or movement the analysis does not model"


def _over(values: np.ndarray, limit: float) -> list[tuple[int, int]]:
    return intervals(np.abs(np.nan_to_num(values)) > limit)


def check_plausibility(motion: Any, kinetics: Any = None, exercise: str | None = None) -> Reliability:
    """The :class:`Reliability` of ``motion`` (and its ``kinetics``, if computed) for ``exercise``
    (module docstring); without an exercise the catalogue-wide limits apply."""
    fps = float(motion.fps)
    t = motion.n_frames
    ex = catalogue_exercise(exercise) if exercise else None
    limits = ex.limits if ex is not None else Limits()
    quality = getattr(motion, "quality", None)
    flagged = quality.flagged.copy() if quality is not None else np.zeros(t, dtype=bool)
    issues = quality.causes(None, fps, limit=10) if quality is not None else []
    reach = int(round(KINETICS_REACH_S * fps))
    trusted = ~_dilate(flagged, 1)
    trusted_k = ~_dilate(flagged, reach)
    unreliable: list[Unreliable] = []
    names = motion.body.dof_names
    # Joint speed on the coordinates the findings use.
    q = motion.q.detach().cpu().numpy()
    if t >= 3:
        # Column by column into one array: the same numbers as one np.gradient of the whole, without
        # its three full-size temporaries (a 1-hour recording's joint speeds are 120 MB each).
        speed = np.empty((t, q.shape[1] - 6))
        for j in range(speed.shape[1]):
            speed[:, j] = np.degrees(np.abs(np.gradient(q[:, 6 + j], 1.0 / fps)))
        for a, b in _over(speed.max(1), limits.joint_speed_deg_s):
            j = int(np.argmax(speed[a : b + 1].max(0)))
            top = float(speed[a : b + 1, j].max())
            cause = _cause(quality, a, b, fps, 1)
            unreliable.append(Unreliable(f"{names[j + 6]} speed", top, limits.joint_speed_deg_s, "deg/s", a, b, cause))
            trusted[a : b + 1] = False
            trusted_k[max(0, a - reach) : b + reach + 1] = False
    if kinetics is not None and kinetics.motion.n_frames == t:
        for k in range(6, len(names)):
            lim = limits.moment(names[k])
            per_kg = kinetics.moment(names[k])  # one column at a time (not the (T, 47) table)
            for a, b in _over(per_kg, lim):
                v = per_kg[a : b + 1]
                unreliable.append(Unreliable(f"{names[k]} moment", float(v[np.argmax(np.abs(v))]), lim, "N·m/kg",
                                             a, b, _cause(quality, a, b, fps, reach)))  # fmt: skip
                trusted_k[a : b + 1] = False
        weight = kinetics.mass_kg * G
        for foot, g in kinetics.grf.items():
            if not foot.startswith("foot_"):
                continue  # a seat or the hands: their own loads (a seat holds the body weight)
            bw = np.asarray(g)[:, 1] / weight
            for a, b in _over(bw, limits.grf_bw):
                unreliable.append(Unreliable(f"vertical GRF {foot}", float(bw[a : b + 1].max()), limits.grf_bw, "BW",
                                             a, b, _cause(quality, a, b, fps, reach)))  # fmt: skip
                trusted_k[a : b + 1] = False
    trusted_k &= trusted
    unreliable.sort(key=lambda u: -abs(u.value) / u.limit)
    return Reliability(trusted, trusted_k, unreliable, issues, limits)
