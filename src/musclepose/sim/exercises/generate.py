"""One set of an exercise as a labelled :class:`~musclepose.motion.Motion`: :func:`generate`,
and checks of the contacts it plants (:func:`foot_skating`, :func:`load_position`)::

    from musclepose.body import Body
    from musclepose.sim.exercises import generate
    m = generate("squat", Body.standard(1.80, 80.0), {"depth_deg": 110, "reps": 3},
                 faults={"knee_valgus": 0.6, "asymmetric_drive": {"severity": 0.4, "side": "l"}})
    m.metadata["reps"][0]["phases"]      # ground-truth phase boundaries (s)
    m.metadata["contact"]["planted"]     # (T, n_contacts) bool

Conventions: world Y-up, the subject faces +X, floor at y = 0, SI units; parameters in
degrees (``*_deg``), seconds (``*_s``), metres (``*_m``); ``q`` as :mod:`musclepose.body.skeleton`.
Every clip starts and ends at rest. Guaranteed and tested: every frame inside the body's
ROM limits; planted contacts do not move; joint accelerations are continuous; the
repetitions are the ones :func:`musclepose.signals.analyze_motion` counts; each fault moves
its catalogue observable in the stated direction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ...body import Body, forward_kinematics
from ...body.contact_points import contact_point_local
from ...catalogue import Observation, Rep
from ...motion import Motion
from .base import Fault, world_points
from .registry import GENERATORS, ISOLATION_GENERATORS, Generator

__all__ = ["foot_skating", "generate", "load_position", "observe"]

SIDE_NAMES = {"r": "r", "l": "l", "right": "r", "left": "l", "both": "both"}


# ----------------------------------------------------------------------------- generation
def _resolve_params(spec: Generator, body: Body, params: Mapping[str, Any] | None) -> dict[str, Any]:
    p = dict(spec.defaults)
    extra = {"step_fraction"}  # accepted by randomisation: the lunge step as a fraction of stature
    unknown = set(params or {}) - set(p) - extra
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)} for {spec.name!r}; known: {sorted(p)}")
    p.update(params or {})
    if spec.name == "lunge" and p.get("step_length_m") is None:
        p["step_length_m"] = float(p.pop("step_fraction", 0.52)) * body.height_m
    p.pop("step_fraction", None)
    if int(p["reps"]) < 1 or p["reps"] != int(p["reps"]):
        raise ValueError(f"reps must be a positive integer; got {p['reps']!r}")
    p["reps"] = int(p["reps"])
    for k, v in p.items():
        if k.endswith("_s") and not (isinstance(v, int | float) and v >= 0):
            raise ValueError(f"{k} must be a non-negative number of seconds; got {v!r}")
    for k in ("eccentric_s", "concentric_s", "fps"):
        if not float(p[k]) > 0:
            raise ValueError(f"{k} must be positive; got {p[k]!r}")
    for k, allowed in spec.choices.items():
        if p[k] not in allowed:
            raise ValueError(f"{k} for {spec.name!r} must be one of {allowed}; got {p[k]!r}")
    return p


# A fault begins where normal variation ends, so that a labelled fault is one a coach can see.
# Faults that scale a parameter (depth, tempo, stance) scale it from beyond the edge of the
# exercise's normal range (``ranges``: low edge x factor), whatever the clip's own value; a
# shallow squat is then shallower than every normal one. Faults that add a deviation (knee
# swivel, trunk lean, bar drift, elbow flare) inject ``v0 + (1 - v0) * severity`` of their
# full amplitude, so severity 0+ is already beyond the randomised normal variation (noise,
# stance, toe-out, depth); checked in tests/sim/test_exercises.py.
ANCHORED: dict[str, tuple[str, float]] = {
    "shallow_depth": ("depth_deg", 0.9),
    "narrow_stance": ("stance_width_m", 0.9),
}
# The fastest rushed lowering (s) per exercise: a minimum-jerk descent's peak downward
# acceleration (5.8 d / T^2) stays below ~0.8 g for the deepest normal descent d, so the
# floor never has to pull (checked in tests/sim/test_exercises.py).
# The squat's 0.74 s: its normal spine flexion (up to 50 deg) lowers the centre of mass ~2 cm more
# than the near-straight spine the engine had (0.72 s), and the deepest rushed descent needs it.
RUSHED_MIN_S: dict[str, float] = {
    "squat": 0.74, "deadlift": 0.72, "lunge": 0.55, "push_up": 0.4, "sit_to_stand": 0.7,
    "overhead_press": 0.55, "bent_over_row": 0.5,
}  # fmt: skip
RUSHED_EDGE = 0.75  # a rushed eccentric at severity 0 lasts 0.75 x the normal range's lower edge
VISIBLE_FROM: dict[str, float] = {"knee_valgus": 0.3, "forward_lean": 0.3, "bar_path_drift": 0.3, "elbow_flare": 0.3}


def _anchor_params(spec: Generator, body: Body, p: dict[str, Any], f: Mapping[str, Fault]) -> dict[str, Any]:
    p = dict(p)
    for name in f:
        key, factor = ANCHORED.get(name, (None, 1.0))
        if key is None or key not in spec.ranges:
            continue
        scale = body.height_m / 1.75 if key.endswith("_m") else 1.0  # the ranges are for a 1.75 m subject
        p[key] = min(float(p[key]), spec.ranges[key][0] * factor * scale)
    if "rushed_eccentric" in f:
        p["rushed_edge_s"] = RUSHED_EDGE * spec.ranges["eccentric_s"][0]
        p["rushed_min_s"] = RUSHED_MIN_S[spec.name]
    return p


def _injected(f: Mapping[str, Fault]) -> dict[str, Fault]:
    """The faults as the builders inject them (see :data:`VISIBLE_FROM`)."""
    out = {}
    for name, v in f.items():
        v0 = VISIBLE_FROM.get(name, 0.0)
        out[name] = Fault(v0 + (1.0 - v0) * v.severity, v.side)
    return out


def _resolve_faults(spec: Generator, faults: Mapping[str, Any] | None) -> dict[str, Fault]:
    out = {}
    for name, v in (faults or {}).items():
        if name not in spec.faults:
            raise ValueError(f"fault {name!r} is not defined for {spec.name!r}; known: {sorted(spec.faults)}")
        if isinstance(v, Fault):
            sev, side = v.severity, v.side
        elif isinstance(v, Mapping):
            sev, side = v.get("severity", 1.0), v.get("side", "both" if name == "knee_valgus" else "r")
        else:
            sev, side = v, ("both" if name == "knee_valgus" else "r")
        sev = float(sev)
        if not 0.0 <= sev <= 1.0:
            raise ValueError(f"fault {name!r}: severity must be in [0, 1]; got {sev}")
        if side not in SIDE_NAMES:
            raise ValueError(f"fault {name!r}: side must be one of {sorted(SIDE_NAMES)}; got {side!r}")
        if sev > 0:
            out[name] = Fault(sev, SIDE_NAMES[side])
    return out


def generate(
    exercise: str,
    body: Body | None = None,
    params: Mapping[str, Any] | None = None,
    faults: Mapping[str, float | Mapping[str, Any] | Fault] | None = None,
    rng: np.random.Generator | int | None = None,
) -> Motion:
    """Generate one set of ``exercise`` as a :class:`~musclepose.motion.core.Motion`.

    Parameters
    ----------
    exercise
        A key of :data:`~.registry.GENERATORS` (or :data:`~.registry.ISOLATION_GENERATORS`).
    body
        The body (default ``Body.standard()``).
    params
        Overrides of the generator's defaults (see ``GENERATORS[name].defaults``).
    faults
        ``name -> severity`` in [0, 1], or ``name -> {"severity": s, "side": "l"|"r"|"both"}``.
    rng
        Generator (or seed) for smooth noise and repetition jitter; ``None`` means seed 0.

    Returns
    -------
    Motion
        float64 ``q (T, 47)``; ``metadata`` holds ``exercise``, ``params``, ``faults``,
        ``reps`` (``start_s``, ``extreme_s``, ``end_s``, ``phases``), ``contact``
        (``names``, ``segments``, ``points_local``, ``planted (T, n)``), ``load`` and
        ``subject``.
    """
    spec = GENERATORS.get(exercise) or ISOLATION_GENERATORS.get(exercise)
    if spec is None:
        raise KeyError(f"unknown exercise {exercise!r}; known: {sorted(GENERATORS)} and {sorted(ISOLATION_GENERATORS)}")
    body = body or Body.standard()
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(0 if rng is None else rng)
    p = _resolve_params(spec, body, params)
    f = _resolve_faults(spec, faults)
    p = _anchor_params(spec, body, p, f)
    clip = spec.builder(body, p, _injected(f), rng)
    contacts = clip.contacts
    meta = {
        "source": "musclepose.sim.exercises.generate",
        "exercise": exercise,
        "eccentric_first": (
            spec.exercise.eccentric_first
            if spec.exercise.eccentric_first is not None
            else clip.timeline.eccentric_first
        ),
        "params": p,
        "faults": {k: {"severity": v.severity, "side": v.side} for k, v in f.items()},
        "reps": clip.timeline.reps,
        "n_reps": len(clip.timeline.reps),
        "contact": {
            "names": [c.name for c in contacts],
            "segments": [c.segment for c in contacts],
            "points_local": [np.asarray(c.local, dtype=float).tolist() for c in contacts],
            "planted": np.stack([c.planted for c in contacts], axis=1),
        },
        "load": clip.load,
        "subject": {"height_m": body.height_m, "mass_kg": body.mass_kg, "sex": body.sex},
        "units": {"q": "m (root translation), rad", "times": "s"},
        **{k: v for k, v in clip.extra.items()},
    }
    return Motion(clip.q.detach().clone(), float(p["fps"]), body, meta)


# ----------------------------------------------------------------------------- contact checks
def load_position(motion: Motion) -> np.ndarray:
    """``(T, 3)`` world position of the external load (m); without one, the midpoint of the fists."""
    load = motion.metadata.get("load") or {}
    segs, pts = load.get("segments") or [], load.get("points_local") or []
    with torch.no_grad():
        fk = forward_kinematics(motion.body, motion.q.detach().to(torch.float64).cpu())
    if not segs:
        k = contact_point_local(motion.body, "knuckles").tolist()
        segs, pts = ["hand_r", "hand_l"], [k, k]
    return world_points(motion.body, fk, list(segs), list(pts)).mean(dim=1).numpy()


def _default_contacts(motion: Motion) -> dict[str, Any]:
    """Heel and ball contacts of both feet, planted where they are within 2 cm of the floor and slower than 0.1 m/s."""
    names, segs, pts = [], [], []
    for s in ("r", "l"):
        for kind in ("heel", "ball"):
            names.append(f"{kind}_{s}")
            segs.append(f"foot_{s}")
            pts.append(contact_point_local(motion.body, kind).tolist())
    with torch.no_grad():
        fk = forward_kinematics(motion.body, motion.q.detach().to(torch.float64).cpu())
    p = world_points(motion.body, fk, segs, pts).numpy()
    speed = np.linalg.norm(np.gradient(p[:, :, [0, 2]], 1.0 / motion.fps, axis=0), axis=-1)
    planted = (p[:, :, 1] < 0.02) & (speed < 0.1)
    return {"names": names, "segments": segs, "points_local": pts, "planted": planted}


def foot_skating(motion: Motion, contact: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """How far planted contact points move while planted (cm), computed from ``q`` by FK.

    For every contiguous span in which a contact (heel, ball, fist; not the seat) is
    labelled planted, its position at the span's first frame is the anchor; the drift is the
    largest horizontal distance from it, the lift the largest rise above it.

    Returns ``{"max_drift_cm", "max_lift_cm", "per_contact": {name: {"drift_cm", "lift_cm"}}}``.
    Without contact labels (``motion.metadata["contact"]`` or ``contact``), the feet are
    taken as planted where they are within 2 cm of the floor and slower than 0.1 m/s.
    """
    c = contact or motion.metadata.get("contact") or _default_contacts(motion)
    with torch.no_grad():
        fk = forward_kinematics(motion.body, motion.q.detach().to(torch.float64).cpu())
    pos = world_points(motion.body, fk, list(c["segments"]), list(c["points_local"])).numpy()
    planted = np.asarray(c["planted"], dtype=bool)
    per = {}
    for j, name in enumerate(c["names"]):
        if name.startswith("seat"):
            continue
        drift = lift = 0.0
        mask = planted[:, j]
        edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            span = pos[a:b, j]
            d = span - span[0]
            drift = max(drift, float(np.max(np.hypot(d[:, 0], d[:, 2]))))
            lift = max(lift, float(np.max(d[:, 1])))
        per[name] = {"drift_cm": 100.0 * drift, "lift_cm": 100.0 * lift}
    return {
        "max_drift_cm": max((v["drift_cm"] for v in per.values()), default=0.0),
        "max_lift_cm": max((v["lift_cm"] for v in per.values()), default=0.0),
        "per_contact": per,
    }


def observe(motion: Motion, fk: Any = None) -> Observation:
    """A generated motion with its ground-truth repetitions (from its metadata), for the
    catalogue's fault observables; ``fk``: its forward kinematics if the caller has them."""
    return Observation(motion, [Rep.from_dict(r) for r in motion.metadata["reps"]], fk)
