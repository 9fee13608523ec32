"""Observables of flights, landings and stance phases: what a physiotherapist screens in a drop jump
and measures in a run.

Frames come from the feet's contact with the floor (:attr:`~.types.Observation.contact`); ground
reactions, where a measure needs them, from ``Observation.grf_bw`` (body weights). Units as in
:mod:`.observables`: degrees, seconds, body weights, per cent.
"""

from __future__ import annotations

import numpy as np

from ..motion.quality import intervals
from .observables import _nanmax, _rep_mean, _trusted, dof_deg, knee_fppa_deg, mean_sides
from .types import Observation

__all__ = [
    "cadence_spm",
    "contact_time_s",
    "flights",
    "landing_asymmetry_pct",
    "landing_fppa_deg",
    "landing_grf_bw",
    "landing_knee_flexion_deg",
    "landings",
    "stance_asymmetry_pct",
    "stance_fppa_deg",
    "stance_grf_bw",
    "stance_knee_flexion_deg",
    "stances",
]


def flights(o: Observation, min_s: float = 0.04) -> list[tuple[int, int]]:
    """``(start, end)`` frames (inclusive) where neither foot touches the floor for at least ``min_s``."""
    off = (o.contact < 0.5).all(1)
    return [(a, b) for a, b in intervals(off) if (b - a + 1) / o.fps >= min_s]


def landings(o: Observation) -> list[tuple[int, int]]:
    """After each flight: from the first frame of contact to the deepest knee flexion within 0.5 s
    (the landing's absorption phase), inclusive frames."""
    knee = mean_sides(o, "knee_flexion")
    out = []
    n = len(knee)
    for _, end in flights(o):
        a = end + 1
        if a >= n:
            continue
        b = min(n, a + int(round(0.5 * o.fps)))
        out.append((a, a + int(np.argmax(knee[a:b]))))
    return out


def _first_landing(o: Observation) -> tuple[int, int]:
    found = landings(o)
    if not found:
        raise ValueError("no landing (no flight phase)")
    return found[0]


def landing_fppa_deg(o: Observation) -> float:
    """Peak knee valgus (frontal-plane projection angle, deg) during the first landing's absorption."""
    a, b = _first_landing(o)
    return _nanmax(_trusted(o, knee_fppa_deg(o))[a : b + 1])


def landing_knee_flexion_deg(o: Observation) -> float:
    """Peak knee flexion (deg, mean of the sides) of the first landing."""
    a, b = _first_landing(o)
    return _nanmax(_trusted(o, mean_sides(o, "knee_flexion"))[a : b + 1])


def _grf(o: Observation) -> tuple[np.ndarray, np.ndarray]:
    if o.grf_bw is None:
        raise ValueError("no ground reactions (kinetics were not computed)")
    return _trusted(o, o.grf_bw["foot_r"]), _trusted(o, o.grf_bw["foot_l"])


def landing_grf_bw(o: Observation) -> float:
    """Peak vertical ground reaction of both feet together (body weights) in the first landing,
    from its first contact to 0.1 s after the deepest knee flexion."""
    a, b = _first_landing(o)
    r, l = _grf(o)
    b = min(len(r), b + int(round(0.1 * o.fps)) + 1)
    return _nanmax((r + l)[a:b])


def landing_asymmetry_pct(o: Observation) -> float:
    """Difference between the feet's vertical impulse in the first landing, ``|R - L| / max(R, L)``
    in % (100 minus the limb symmetry index)."""
    a, b = _first_landing(o)
    r, l = _grf(o)
    b = min(len(r), b + int(round(0.1 * o.fps)) + 1)
    ir, il = np.nansum(r[a:b]), np.nansum(l[a:b])
    if max(ir, il) <= 0:
        raise ValueError("no load in the landing")
    return float(100.0 * abs(ir - il) / max(ir, il))


def stances(o: Observation, min_s: float = 0.08) -> dict[str, list[tuple[int, int]]]:
    """Per foot, its stance phases (contact intervals of at least ``min_s``) that start and end
    inside the recording (a stance cut by the recording's ends has no defined length)."""
    w = o.contact
    out = {}
    for k, s in enumerate(("r", "l")):
        spans = intervals(w[:, k] > 0.5)
        out[s] = [(a, b) for a, b in spans if a > 0 and b < len(w) - 1 and (b - a + 1) / o.fps >= min_s]
    return out


def _all_stances(o: Observation) -> list[tuple[str, int, int]]:
    found = [(s, a, b) for s, spans in stances(o).items() for a, b in spans]
    if not found:
        raise ValueError("no complete stance phase")
    return found


def contact_time_s(o: Observation) -> float:
    """Mean stance (ground contact) time per step (s)."""
    return float(np.mean([(b - a + 1) / o.fps for _, a, b in _all_stances(o)]))


def cadence_spm(o: Observation) -> float:
    """Steps per minute: foot contacts of either foot per minute between the first and the last."""
    starts = sorted(a for _, a, _ in _all_stances(o))
    if len(starts) < 2:
        raise ValueError("fewer than two steps")
    return float(60.0 * (len(starts) - 1) / ((starts[-1] - starts[0]) / o.fps))


def stance_grf_bw(o: Observation) -> float:
    """Mean over stances of the stance foot's peak vertical ground reaction (body weights)."""
    grf = dict(zip(("r", "l"), _grf(o), strict=True))
    return _rep_mean([_nanmax(grf[s][a : b + 1]) for s, a, b in _all_stances(o)], "the stances")


def stance_knee_flexion_deg(o: Observation) -> float:
    """Mean over stances of the stance leg's peak knee flexion (deg; its loading response)."""
    return _rep_mean([_nanmax(_trusted(o, dof_deg(o, f"knee_flexion_{s}"))[a : b + 1]) for s, a, b in _all_stances(o)],
                     "the stances")  # fmt: skip


def stance_fppa_deg(o: Observation) -> float:
    """Mean over stances of the peak knee valgus (frontal-plane projection angle, deg) in stance."""
    fppa = _trusted(o, knee_fppa_deg(o))
    return _rep_mean([_nanmax(fppa[a : b + 1]) for _, a, b in _all_stances(o)], "the stances")


def stance_asymmetry_pct(o: Observation) -> float:
    """Difference between the sides' mean stance times, ``|R - L| / mean`` in %."""
    st = stances(o)
    if not st["r"] or not st["l"]:
        raise ValueError("stances of both feet are needed")
    t = {s: np.mean([(b - a + 1) / o.fps for a, b in spans]) for s, spans in st.items()}
    return float(200.0 * abs(t["r"] - t["l"]) / (t["r"] + t["l"]))
