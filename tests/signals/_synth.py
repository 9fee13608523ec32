"""Synthetic repetition signals with exactly known phase durations (minimum-jerk moves)."""

from __future__ import annotations

import numpy as np


def min_jerk(n: int) -> np.ndarray:
    """Minimum-jerk position profile from 0 to 1 over ``n`` samples (Flash & Hogan 1985)."""
    tau = np.linspace(0.0, 1.0, n)
    return 10 * tau**3 - 15 * tau**4 + 6 * tau**5


def reps_signal(
    fps: float,
    n_reps: int,
    down_s: float,
    bottom_s: float,
    up_s: float,
    top_s: float,
    depth: float = 1.0,
    setup_s: float = 1.0,
    end_s: float = 1.0,
    depths: list[float] | None = None,
) -> tuple[np.ndarray, list[dict[str, int]]]:
    """Signal resting at 0 that goes down by ``depth`` and back ``n_reps`` times.

    Returns the signal and, per repetition, the true first frame of each phase.
    """

    def frames(s: float) -> int:
        return int(round(s * fps))

    parts = [np.zeros(frames(setup_s))]
    truth = []
    pos = frames(setup_s)
    for k in range(n_reps):
        d = depths[k] if depths is not None else depth
        mark = {"eccentric": pos}
        parts.append(-d * min_jerk(frames(down_s)))
        pos += frames(down_s)
        mark["bottom"] = pos
        parts.append(np.full(frames(bottom_s), -d))
        pos += frames(bottom_s)
        mark["concentric"] = pos
        parts.append(-d + d * min_jerk(frames(up_s)))
        pos += frames(up_s)
        mark["lockout"] = pos
        if k < n_reps - 1:
            parts.append(np.zeros(frames(top_s)))
            pos += frames(top_s)
        truth.append(mark)
    parts.append(np.zeros(frames(end_s)))
    return np.concatenate(parts), truth


def threshold_fraction(threshold: float) -> float:
    """Fraction of a minimum-jerk move spent below ``threshold`` x its peak speed at each end.

    Speed is ``30 tau^2 (1 - tau)^2`` with peak 1.875 at tau = 1/2, so the crossing solves
    ``16 tau^2 (1 - tau)^2 = threshold``.
    """
    p = np.sqrt(threshold / 16.0)
    return float((1 - np.sqrt(1 - 4 * p)) / 2)
