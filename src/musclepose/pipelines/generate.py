"""Text to motion without learning: a request read by :mod:`musclepose.language.motion_request`,
rendered by the synthetic engine (:func:`musclepose.sim.generate`) and written to ``.bvh``,
``.mot``/``.sto`` (OpenSim coordinates) or ``.json`` (a clip of channels).

The baseline a motion language model must beat (issue 20): every motion it writes is one the
engine can make, so the exercise, the repetition count and an injected fault are what was asked,
as far as the engine and the output format carry them. A ``.mot`` holds the Rajagopal model's
coordinates and, in ``musclepose_<dof>`` columns OpenSim ignores, the DoFs it lacks (the feet's
turn that makes a knee valgus, the shoulder girdle of a shrug): read back by MusclePose, it holds
what the engine made (:func:`musclepose.io.opensim.coords.write_motion_opensim`).
Conventions as :mod:`musclepose.sim.exercises`: degrees, seconds, metres, Y-up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..body import Body
from ..catalogue import FAULTS
from ..io.bvh_body import write_motion_bvh
from ..io.clip import write_clip
from ..io.opensim.coords import write_motion_opensim
from ..language.motion_request import MotionRequest, RequestError, exercise_phrases, parse_request
from ..motion import Motion
from ..sim.exercises import GENERATORS, generate
from ..sim.exercises.registry import ISOLATION_GENERATORS, Generator
from .predict import clip_from_motion

__all__ = [
    "MAX_REPS",
    "OUTPUTS",
    "Generated",
    "RequestError",
    "generate_motion",
    "generator_params",
    "understood",
    "write_generated",
]

OUTPUTS = (".bvh", ".mot", ".sto", ".json")
MAX_REPS = 50
DEFAULT_REPS = 5
ENGINE: dict[str, Generator] = {**GENERATORS, **ISOLATION_GENERATORS}
_ONE_SIDED = {"lunge": "lead", "bicep_curl": "arms", "front_raise": "arms"}


def understood() -> str:
    """What the reader understands, for an error message: the exercises and the faults."""
    phrases: dict[str, list[str]] = {}
    for p, name in exercise_phrases().items():
        if name in ENGINE and p != name.replace("_", " "):
            phrases.setdefault(name, []).append(p)
    ex = "; ".join(f"{n} ({', '.join(sorted(phrases.get(n, []))[:3])})" for n in sorted(ENGINE))
    faults = sorted({f for s in ENGINE.values() for f in s.faults})
    return (
        f"exercises: {ex}. Faults: {', '.join(f'{f} ({FAULTS[f].label})' for f in faults)}. Also: a number of "
        "repetitions, slow/fast, 'to 90 degrees', deep, left/right, 'with 40 kg', 'for 10 seconds'. "
        'Example: musclepose generate "five slow squats, knees caving" -o out.mot'
    )


def _unread(reason: str) -> RequestError:
    err = RequestError(f"{reason}. It understands {understood()}")
    err.reason = reason  # type: ignore[attr-defined]  # the first part alone, for a one-line CLI error
    return err


def _clamp(x: float, lo: float, hi: float, what: str, notes: list[str]) -> float:
    y = min(max(float(x), lo), hi)
    if y != x:
        notes.append(f"{what} {x:g} is outside the engine's {lo:g}-{hi:g}: {y:g}")
    return y


def generator_params(request: MotionRequest, spec: Generator, body: Body) -> tuple[dict[str, Any], list[str]]:
    """The engine's parameters for ``request`` (``spec.defaults`` where it asks nothing) and notes on
    what was adjusted: tempo words take the ends of the exercise's normal tempo range, depth is held
    inside the engine's range, a duration sets the repetition count."""
    d, r = spec.defaults, spec.ranges
    notes: list[str] = []
    p: dict[str, Any] = {}
    if request.tempo and "eccentric_s" in r:
        k = 1 if request.tempo == "slow" else 0
        p["eccentric_s"], p["concentric_s"] = r["eccentric_s"][k], r["concentric_s"][k]
    if request.tempo and spec.name == "jumping_jack":
        p["stance_s"] = r["stance_s"][1 if request.tempo == "slow" else 0]
    if request.eccentric_s is not None:
        p["eccentric_s"] = _clamp(request.eccentric_s, 0.3, 6.0, "seconds down", notes)
    if request.concentric_s is not None:
        p["concentric_s"] = _clamp(request.concentric_s, 0.3, 6.0, "seconds up", notes)
    if "depth_deg" in r:
        lo, hi = r["depth_deg"]
        if request.depth_deg is not None:
            p["depth_deg"] = _clamp(request.depth_deg, lo, hi, "depth (deg)", notes)
        elif request.deep:
            p["depth_deg"] = hi
    if request.pause and "pause_s" in d:
        p["pause_s"] = 1.0
    if request.load_kg is not None and "load_kg" in d:
        lo, hi = r.get("load_kg", (0.0, 300.0))
        load = _clamp(request.load_kg, 0.0 if d["load_position"] in ("none", "back") else lo, max(hi, 1.0),
                      "load (kg)", notes)  # fmt: skip
        p["load_kg"] = load
        positions = spec.choices.get("load_position", ())
        if load > 0 and d["load_position"] == "none" and positions:
            p["load_position"] = next(x for x in positions if x != "none")
        elif load == 0 and "none" in positions:
            p["load_position"] = "none"
    if request.side and spec.name in _ONE_SIDED:
        p[_ONE_SIDED[spec.name]] = request.side
    reps = request.reps
    if reps is None and request.duration_s is not None:
        q = {**d, **p}
        cycle = sum(float(q.get(k, 0.0)) for k in ("eccentric_s", "pause_s", "concentric_s", "rest_s"))
        if spec.name == "lunge":
            cycle += 2 * float(q["step_s"])
        if spec.name == "jumping_jack":
            cycle = 2 * (float(q["flight_s"]) + float(q["stance_s"]))
        reps = max(1, round((request.duration_s - float(q["lead_s"]) - float(q["tail_s"])) / cycle))
    if reps is None:
        reps = DEFAULT_REPS
        notes.append(f"no repetition count asked: {DEFAULT_REPS}")
    if reps > MAX_REPS:
        raise RequestError(f"{request.text!r}: {reps} repetitions; at most {MAX_REPS} in one motion")
    p["reps"] = int(reps)
    return p, notes


@dataclass
class Generated:
    """A request, the motion made for it and the engine's settings."""

    request: MotionRequest
    motion: Motion
    params: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        m, b = self.motion, self.motion.body
        return {
            "request": self.request.to_dict(),
            "exercise": self.request.exercise,
            "reps": int(self.params["reps"]),
            "faults": self.motion.metadata["faults"],
            "params": {k: v for k, v in self.params.items() if isinstance(v, int | float | str)},
            "frames": m.n_frames,
            "fps": float(m.fps),
            "duration_s": (m.n_frames - 1) / float(m.fps),
            "body": {"height_m": b.height_m, "mass_kg": b.mass_kg, "sex": b.sex},
            "notes": list(self.notes),
            "seconds": self.seconds,
        }


def generate_motion(
    text: str | MotionRequest,
    *,
    height_m: float = 1.75,
    mass_kg: float = 70.0,
    sex: str = "male",
    seed: int = 0,
) -> Generated:
    """Read ``text`` (or take a parsed request) and make its motion on a ``Body.standard`` of the
    given stature, mass and sex; ``seed`` fixes the engine's noise. :class:`RequestError` (a
    ``ValueError``) says what the reader understands when it cannot read the request."""
    t0 = time.perf_counter()
    try:
        request = text if isinstance(text, MotionRequest) else parse_request(text)
    except RequestError as err:
        raise _unread(str(err)) from None
    spec = ENGINE.get(request.exercise)
    if spec is None:
        raise _unread(f"{request.text!r}: {request.exercise} is in the catalogue but the engine cannot synthesise it")
    body = Body.standard(height_m, mass_kg, sex)
    params, notes = generator_params(request, spec, body)
    motion = generate(request.exercise, body, params, faults=request.faults, rng=seed)
    return Generated(request, motion, motion.metadata["params"], [*request.notes, *notes],
                     time.perf_counter() - t0)  # fmt: skip


def write_generated(path: str | Path, generated: Generated) -> dict[str, Any]:
    """Write the motion to ``path`` atomically by its suffix (:data:`OUTPUTS`); what was written."""
    path = Path(path)
    suffix = path.suffix.lower()
    motion = generated.motion
    if suffix == ".bvh":
        write_motion_bvh(path, motion)
        return {"format": "bvh", "columns": 3 + 3 * 18}
    if suffix in (".mot", ".sto"):
        return {"format": "opensim", **write_motion_opensim(path, motion)}
    if suffix == ".json":
        clip = clip_from_motion(motion, path.name)
        clip.exercise = generated.request.exercise
        write_clip(path, clip)
        return {"format": "clip", "columns": 7}
    raise ValueError(f"{path}: cannot write {path.suffix or 'a file without an extension'!r}; outputs: "
                     f"{', '.join(OUTPUTS)}")  # fmt: skip
