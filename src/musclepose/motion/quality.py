"""Per-frame trust in a motion: fit error, flagged frames and why, and the checks that flag them.

:class:`FrameQuality` rides on a :class:`~musclepose.motion.core.Motion` (``motion.quality``): the
fit residual per frame (marker or keypoint RMS, m; NaN where the motion was not fitted), which
frames must not become findings, and the :class:`Issue` behind each flag (cause, frames,
detail). :func:`check_motion` is run on every loaded recording: it unwraps angles that wrap at
+-180 deg, replaces isolated spikes (a value that leaves and returns within a few frames faster
than a joint can move) by interpolation, and flags frames whose joint speed exceeds
:data:`MAX_JOINT_SPEED_DEG_S`. Frames are 0-based and ``end`` is inclusive; ``q`` as in
:mod:`musclepose.body.skeleton` (radians after the root translation).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

__all__ = [
    "MAX_JOINT_SPEED_DEG_S",
    "FrameQuality",
    "Issue",
    "check_motion",
    "find_spikes",
    "intervals",
    "unwrap_angles",
]

#: A joint faster than this in any recording is an artefact, whatever the movement: the fastest
#: human joint motions outside throwing (knee extension in kicking and sprinting) stay below
#: ~1,500-2,000 deg/s (Nunome et al. 2002, Med Sci Sports Exerc 34:2028; Kivi et al. 2002). The
#: per-exercise limits of the catalogue are lower (a squat's joints stay below ~300 deg/s).
MAX_JOINT_SPEED_DEG_S = 2500.0
#: Longest run (s) that counts as a spike: a value that jumps away and back within it.
SPIKE_MAX_S = 0.06
#: Smallest jump (deg) that can start a spike, whatever the frame rate.
SPIKE_MIN_DEG = 8.0


def intervals(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, end)`` inclusive frame ranges where ``mask (T,)`` is True."""
    m = np.asarray(mask, dtype=bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], m.astype(np.int8), [0]])))
    return [(int(a), int(b) - 1) for a, b in zip(edges[0::2], edges[1::2], strict=True)]


@dataclass(frozen=True)
class Issue:
    """Why frames ``start..end`` (inclusive) are not trusted: ``cause`` (a short phrase such as
    ``"poor marker fit"``, ``"spike"``, ``"joint speed"``), ``detail`` (which DoF or markers, how
    large) and whether the values there were ``repaired`` (replaced by interpolation)."""

    cause: str
    start: int
    end: int
    detail: str = ""
    repaired: bool = False

    def describe(self, fps: float) -> str:
        """E.g. ``"poor marker fit in frames 310-330 (3.10-3.30 s): 52 mm RMS"``."""
        frames = f"frame {self.start}" if self.start == self.end else f"frames {self.start}-{self.end}"
        secs = (
            f"{self.start / fps:.2f} s" if self.start == self.end else f"{self.start / fps:.2f}-{self.end / fps:.2f} s"
        )
        extra = f": {self.detail}" if self.detail else ""
        return f"{self.cause} in {frames} ({secs}){extra}{' (repaired)' if self.repaired else ''}"

    def to_dict(self, fps: float) -> dict[str, Any]:
        return {"cause": self.cause, "start_s": self.start / fps, "end_s": self.end / fps, "detail": self.detail,
                "repaired": self.repaired, "text": self.describe(fps)}  # fmt: skip


@dataclass(frozen=True)
class FrameQuality:
    """Per-frame trust in a motion (module docstring).

    Attributes
    ----------
    flagged : np.ndarray (T,) bool
        Frames whose values must not become findings (peaks, faults, coaching).
    error_m : np.ndarray (T,) or None
        Fit residual per frame (m; marker or keypoint RMS); None or NaN where not fitted.
    issues : tuple of Issue
        What flagged (or repaired) which frames.
    """

    flagged: np.ndarray
    error_m: np.ndarray | None = None
    issues: tuple[Issue, ...] = field(default=())

    @classmethod
    def clean(cls, n_frames: int) -> FrameQuality:
        return cls(np.zeros(n_frames, dtype=bool))

    @property
    def n_frames(self) -> int:
        return int(len(self.flagged))

    @property
    def fraction_flagged(self) -> float:
        return float(np.mean(self.flagged)) if len(self.flagged) else 0.0

    def with_issues(self, issues: Iterable[Issue], flag: bool = True) -> FrameQuality:
        """These issues added; their frames flagged unless ``flag`` is False (or the issue was repaired)."""
        issues = tuple(issues)
        flagged = self.flagged.copy()
        if flag:
            for i in issues:
                if not i.repaired:
                    flagged[i.start : i.end + 1] = True
        return replace(self, flagged=flagged, issues=self.issues + issues)

    def sliced(self, index: slice) -> FrameQuality:
        """The quality of ``motion[index]`` (issues clipped and shifted to the slice)."""
        start, stop, _ = index.indices(self.n_frames)
        out = []
        for i in self.issues:
            a, b = max(i.start, start), min(i.end, stop - 1)
            if a <= b:
                out.append(replace(i, start=a - start, end=b - start))
        err = None if self.error_m is None else self.error_m[index]
        return FrameQuality(self.flagged[index].copy(), err, tuple(out))

    def resampled(self, old_fps: float, new_fps: float, n_new: int) -> FrameQuality:
        """The quality on ``n_new`` frames at ``new_fps`` over the same time span: each new frame takes
        the nearest old frame's flag and error; issues keep their times."""
        near = np.clip(np.round(np.arange(n_new) * old_fps / new_fps).astype(int), 0, self.n_frames - 1)

        def frame(k: int) -> int:
            return int(np.clip(round(k * new_fps / old_fps), 0, n_new - 1))

        issues = tuple(replace(i, start=frame(i.start), end=max(frame(i.start), frame(i.end))) for i in self.issues)
        err = None if self.error_m is None else self.error_m[near]
        return FrameQuality(self.flagged[near].copy(), err, issues)

    def looped(self, cycles: int) -> FrameQuality:
        """The quality of :meth:`Motion.repeated` (``cycles`` plays, each last frame the next one's first):
        every frame and issue repeated per cycle."""
        period = self.n_frames - 1
        src = np.arange(cycles * period + 1)
        src = np.where(src == cycles * period, period, src % period)
        issues = tuple(replace(i, start=i.start + c * period, end=i.end + c * period)
                       for c in range(cycles) for i in self.issues)  # fmt: skip
        err = None if self.error_m is None else self.error_m[src]
        return FrameQuality(self.flagged[src].copy(), err, issues)

    def causes(self, frames: np.ndarray | slice | None = None, fps: float = 1.0, limit: int = 3) -> list[str]:
        """Descriptions of the issues that flag any of ``frames`` (a mask, index array or slice; None: all)."""
        sel = np.zeros(self.n_frames, dtype=bool)
        if frames is None:
            sel[:] = True
        else:
            sel[frames] = True
        found = [i for i in self.issues if not i.repaired and sel[i.start : i.end + 1].any()]
        found.sort(key=lambda i: -(i.end - i.start))
        return [i.describe(fps) for i in found[:limit]]

    def to_dict(self, fps: float) -> dict[str, Any]:
        err = None if self.error_m is None else self.error_m
        med = float(np.nanmedian(err)) if err is not None and np.isfinite(err).any() else None
        return {
            "frames_flagged": int(self.flagged.sum()),
            "fraction_flagged": self.fraction_flagged,
            "median_fit_error_m": med,
            "issues": [i.to_dict(fps) for i in self.issues],
        }


def unwrap_angles(q: torch.Tensor) -> tuple[torch.Tensor, list[str]]:
    """``q (T, 47)`` with every rotational coordinate unwrapped over time (jumps of ~2 pi removed),
    and the indices (as strings) of the columns that changed. A rotation that crosses +-180 deg is the
    same pose; left wrapped, differentiation turns it into a spin of 36,000 deg/s."""
    x = q.detach().cpu().numpy()
    un = x.copy()
    changed = []
    # Keep the first frame's branch (np.unwrap does). Column by column: an hour at 100 Hz is 360,000
    # frames, and whole-array temporaries would cost several copies of the motion.
    for j in range(3, x.shape[1]):
        un[:, j] = np.unwrap(x[:, j])
        if np.abs(un[:, j] - x[:, j]).max(initial=0.0) > 1e-9:
            changed.append(str(j))
    return torch.as_tensor(un, dtype=q.dtype, device=q.device), changed


def find_spikes(
    q: np.ndarray, fps: float, names: list[str] | tuple[str, ...], min_deg: float = SPIKE_MIN_DEG,
    max_s: float = SPIKE_MAX_S,
) -> tuple[np.ndarray, list[Issue]]:  # fmt: skip
    """Isolated spikes in the rotational coordinates of ``q (T, 47)`` (radians), replaced by
    linear interpolation.

    A spike in one coordinate is a run of at most ``max_s`` seconds that starts with a jump away
    and ends with a jump back: both jumps faster than :data:`MAX_JOINT_SPEED_DEG_S` (and larger
    than ``min_deg``), of opposite sign, and the value after the run within half the smaller jump
    of the value before it. Nothing a joint can do looks like that; a marker swap, a tracking
    glitch or a flip of the inverse kinematics to another solution and back does.
    Returns the repaired copy and one :class:`Issue` per spike (``repaired=True``).
    """
    q = np.array(q, dtype=np.float64, copy=True)
    t = q.shape[0]
    if t < 3:
        return q, []
    thr = max(np.radians(min_deg), np.radians(MAX_JOINT_SPEED_DEG_S) / fps)
    longest = max(1, int(round(max_s * fps)))
    issues = []
    for j in range(3, q.shape[1]):
        x = q[:, j]
        step = np.diff(x)
        big = np.flatnonzero(np.abs(step) > thr)
        used = np.zeros(len(step), dtype=bool)
        for k in big:
            if used[k]:
                continue
            # frames k+1 .. e are the run; step[e] is the jump back
            for e in range(k + 1, min(k + 1 + longest, len(step))):
                if abs(step[e]) <= thr or np.sign(step[e]) == np.sign(step[k]):
                    continue
                if abs(x[e + 1] - x[k]) <= 0.5 * min(abs(step[k]), abs(step[e])):
                    a, b = k + 1, e  # inclusive run
                    size = np.degrees(np.max(np.abs(x[a : b + 1] - x[k])))
                    x[a : b + 1] = np.interp(np.arange(a, b + 1), [k, e + 1], [x[k], x[e + 1]])
                    used[k : e + 1] = True
                    issues.append(Issue("spike", a, b, f"{names[j]} jumped {size:.0f} deg and back", repaired=True))
                break
        q[:, j] = x
    return q, issues


def speed_issues(
    q: np.ndarray, fps: float, names: list[str] | tuple[str, ...], limit_deg_s: float = MAX_JOINT_SPEED_DEG_S
) -> list[Issue]:
    """Runs of frames where a rotational coordinate turns faster than ``limit_deg_s`` (central differences)."""
    if q.shape[0] < 3:
        return []
    dt, limit = 1.0 / fps, np.radians(limit_deg_s)
    over = np.zeros(q.shape[0], dtype=bool)
    for j in range(3, q.shape[1]):  # column by column (see unwrap_angles)
        over |= np.abs(np.gradient(q[:, j], dt)) > limit
    issues = []
    for a, b in intervals(over):
        lo, hi = max(0, a - 1), min(q.shape[0], b + 2)  # one frame either side: the same central differences
        v = np.degrees(np.abs(np.gradient(q[lo:hi, 3:], dt, axis=0)))[a - lo : b - lo + 1]
        j = int(np.argmax(v.max(0)))
        issues.append(Issue("joint speed", a, b, f"{names[j + 3]} at {v[:, j].max():,.0f} deg/s"))
    return issues


def check_motion(motion: Any, limit_deg_s: float = MAX_JOINT_SPEED_DEG_S) -> Any:
    """A :class:`~musclepose.motion.core.Motion` with wrapped angles unwrapped, spikes repaired and
    over-fast frames flagged (module docstring); what was done is in ``motion.quality.issues`` and
    ``metadata["history"]``. (Typed ``Any``: ``core`` imports this module.)"""
    names = motion.body.dof_names
    q, changed = unwrap_angles(motion.q)
    quality = motion.quality if motion.quality is not None else FrameQuality.clean(motion.n_frames)
    issues: list[Issue] = []
    if changed:
        cols = ", ".join(names[int(c)] for c in changed)
        issues.append(Issue("angle wrap", 0, motion.n_frames - 1, f"unwrapped {cols}", repaired=True))
    fixed, spikes = find_spikes(q.detach().cpu().numpy(), motion.fps, names)
    issues += spikes
    issues += speed_issues(fixed, motion.fps, names, limit_deg_s)
    if not issues:
        return motion if motion.quality is not None else replace(motion, quality=quality)
    q = torch.as_tensor(fixed, dtype=motion.q.dtype, device=motion.q.device)
    meta = dict(motion.metadata)
    meta["history"] = [*motion.metadata.get("history", []), f"checked: {len(issues)} issue(s)"]
    return replace(motion, q=q, metadata=meta, quality=quality.with_issues(issues))
