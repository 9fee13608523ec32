"""Time profiles for synthetic exercises: repetition timelines, breathing sway, smooth noise.

Every profile here is C2 (continuous position, velocity and acceleration) so that joint
accelerations, and therefore inverse-dynamics torques, have no jumps:

- moves between two postures follow the minimum-jerk polynomial
  ``10 u^3 - 15 u^4 + 6 u^5`` (Flash & Hogan 1985, *J Neurosci* 5:1688-1703), whose velocity
  and acceleration vanish at both ends, so a move, a hold and the next move join in C2;
- a repetition is ``first move -> hold at the far posture -> return move -> hold at rest``;
  ``s(t)`` is 0 at rest and 1 at the far posture, and the exercise maps ``s`` onto joint
  angles with smooth functions;
- breathing sway is a sum of two sinusoids at a breathing rate of 0.2-0.3 Hz (12-18 breaths
  per minute, the adult resting range, e.g. Tobin et al. 1983, *Chest* 84:202-205) and its
  first harmonic; smooth noise is a sum of random sinusoids below 2 Hz.

Times are in seconds, ``fps`` in Hz; arrays are numpy float64 (time profiles are the edge of
the generator, the kinematics that use them are torch).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Phase",
    "RepTimeline",
    "breathing",
    "min_jerk",
    "min_jerk_move",
    "rep_timeline",
    "smooth_bump",
    "smooth_noise",
]


def min_jerk(u: np.ndarray) -> np.ndarray:
    """Minimum-jerk rise from 0 (``u <= 0``) to 1 (``u >= 1``), C2 everywhere."""
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    return u**3 * (10.0 + u * (-15.0 + 6.0 * u))


def min_jerk_move(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """0 before ``t0``, 1 after ``t1``, a minimum-jerk rise in between (a step if ``t1 <= t0``)."""
    if t1 <= t0:
        return (np.asarray(t) >= t0).astype(np.float64)
    return min_jerk((np.asarray(t) - t0) / (t1 - t0))


def smooth_bump(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """``64 u^3 (1 - u)^3`` on ``[t0, t1]`` (peak 1 at the middle), 0 outside; C2."""
    u = np.clip((np.asarray(t, dtype=np.float64) - t0) / max(t1 - t0, 1e-12), 0.0, 1.0)
    return 64.0 * u**3 * (1.0 - u) ** 3


@dataclass(frozen=True)
class Phase:
    """One labelled interval of a repetition (seconds from the start of the clip)."""

    name: str
    start: float
    end: float

    def to_dict(self) -> dict[str, float | str]:
        return {"name": self.name, "start_s": self.start, "end_s": self.end}


@dataclass
class RepTimeline:
    """The schedule of a set: per-frame progress ``s`` and per-repetition phases.

    Attributes
    ----------
    t : (T,) frame times (s).
    s : (T,) progress, 0 at rest, 1 at the far posture of each repetition (C2).
    amplitude : (T,) the repetition's relative depth (1 nominal), constant over each
        repetition and changing only while ``s`` is identically 0, so ``s * amplitude`` is C2.
    rep_index : (T,) index of the repetition a frame belongs to (-1 before the first).
    reps : list of dicts with ``start_s``, ``extreme_s``, ``end_s`` and ``phases``.
    """

    t: np.ndarray
    s: np.ndarray
    amplitude: np.ndarray
    rep_index: np.ndarray
    reps: list[dict] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return int(self.t.size)

    @property
    def eccentric_first(self) -> bool | None:
        """Whether the first movement away from rest is the eccentric one (from the first phase)."""
        phases = self.reps[0].get("phases") if self.reps else None
        return phases[0]["name"] in ("eccentric", "bottom") if phases else None


def rep_timeline(
    n_reps: int,
    first_s: float,
    far_hold_s: float,
    second_s: float,
    rest_hold_s: float,
    fps: float,
    lead_s: float = 1.0,
    tail_s: float = 1.0,
    names: tuple[str, str, str, str] = ("eccentric", "bottom", "concentric", "lockout"),
    jitter: float = 0.0,
    rng: np.random.Generator | None = None,
    fatigue: float = 0.0,
) -> RepTimeline:
    """A set of ``n_reps`` repetitions: ``first`` move, hold, ``second`` move, hold at rest.

    ``names`` label the four intervals (eccentric-first lifts: eccentric, bottom, concentric,
    lockout; concentric-first: concentric, lockout, eccentric, bottom). The hold at rest
    after the last repetition is not a phase of it (the clip ends with ``tail_s`` of rest).
    ``jitter`` (fraction) varies each repetition's durations and amplitude independently
    (uniform within +-jitter) with ``rng``; 0 makes every repetition identical. ``fatigue``
    (fraction): the concentric move slows steadily over the set, the last repetition's taking
    ``1 + fatigue`` times the first's (a set done to fatigue; 0: no trend).
    """
    if n_reps < 1:
        raise ValueError(f"n_reps must be >= 1; got {n_reps}")
    for name, v in (("first_s", first_s), ("second_s", second_s)):
        if not v > 0:
            raise ValueError(f"{name} must be positive; got {v}")
    for name, v in (("far_hold_s", far_hold_s), ("rest_hold_s", rest_hold_s), ("lead_s", lead_s), ("tail_s", tail_s)):
        if not v >= 0:
            raise ValueError(f"{name} must be >= 0; got {v}")
    if jitter and rng is None:
        rng = np.random.default_rng(0)

    def vary(x: float) -> float:
        return x * (1.0 + rng.uniform(-jitter, jitter)) if jitter else x

    plan = []
    t0 = lead_s
    for k in range(n_reps):
        d = [vary(first_s), vary(far_hold_s), vary(second_s), vary(rest_hold_s)]
        if fatigue:  # no random draw: a set without fatigue is the same as before it existed
            d[0 if names[0] == "concentric" else 2] *= 1.0 + fatigue * k / max(n_reps - 1, 1)
        amp = vary(1.0)
        plan.append((t0, d, amp))
        t0 += d[0] + d[1] + d[2] + (d[3] if k < n_reps - 1 else 0.0)
    total = t0 + tail_s
    t = np.arange(int(np.floor(total * fps + 1e-9)) + 1) / fps
    s = np.zeros_like(t)
    amplitude = np.ones_like(t)
    rep_index = -np.ones(t.size, dtype=np.int64)
    reps = []
    for k, (a, d, amp) in enumerate(plan):
        b = a + d[0]
        c = b + d[1]
        e = c + d[2]
        s += min_jerk_move(t, a, b) - min_jerk_move(t, c, e)
        # The amplitude switches half-way through the rest before this rep (where s == 0).
        switch = a - 0.5 * (plan[k - 1][1][3] if k else lead_s)
        amplitude[t >= switch] = amp
        rep_index[t >= switch] = k
        phases = [Phase(names[0], a, b), Phase(names[1], b, c), Phase(names[2], c, e)]
        if k < n_reps - 1:
            phases.append(Phase(names[3], e, e + d[3]))
        reps.append(
            {
                "index": k,
                "start_s": a,
                "extreme_s": 0.5 * (b + c),
                "end_s": e,
                "amplitude": amp,
                "phases": [p.to_dict() for p in phases],
            }
        )
    return RepTimeline(t=t, s=np.clip(s, 0.0, 1.0), amplitude=amplitude, rep_index=rep_index, reps=reps)


def breathing(t: np.ndarray, rate_hz: float = 0.25, phase: float = 0.0) -> np.ndarray:
    """Unit-amplitude breathing-like oscillation (a sinusoid with a little first harmonic)."""
    w = 2.0 * np.pi * rate_hz * np.asarray(t)
    return (np.sin(w + phase) + 0.25 * np.sin(2.0 * w + 2.0 * phase + 0.7)) / 1.25


def smooth_noise(
    t: np.ndarray, n_channels: int, rng: np.random.Generator, max_hz: float = 2.0, n_terms: int = 6
) -> np.ndarray:
    """``(T, n_channels)`` band-limited noise with unit RMS per channel: random sinusoids in 0.1-``max_hz``.

    Analytic (sums of sines), so it is smooth at any frame rate; amplitudes fall as 1/f so
    that slow drift dominates, as in postural sway.
    """
    t = np.asarray(t, dtype=np.float64)
    f = rng.uniform(0.1, max_hz, size=(n_terms, n_channels))
    ph = rng.uniform(0.0, 2.0 * np.pi, size=(n_terms, n_channels))
    amp = 1.0 / f
    x = np.einsum("kc,tkc->tc", amp, np.sin(2.0 * np.pi * f[None] * t[:, None, None] + ph[None]))
    rms = np.sqrt(0.5 * np.sum(amp**2, axis=0))
    return x / rms
