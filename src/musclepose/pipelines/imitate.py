"""Imitation under physics: a recording in, the motion a simulated body really makes out.

:func:`imitate_file` loads any recording (:func:`~musclepose.io.load_motion`), tracks it in
MuJoCo with stable PD (Tan, Liu & Turk 2011; :mod:`musclepose.control.tracking`), with or
without residual root forces, and returns the simulated :class:`~musclepose.motion.Motion`
with its tracking error, residual and falls; a reference whose root teleports or whose feet
float is refused first (:func:`~musclepose.control.reference.check_reference`).
:func:`write_imitation` writes the simulated motion atomically: ``.mot``/``.sto`` as OpenSim
coordinates (degrees), ``.json`` as the summary plus the simulated ``q`` per frame.

The joint torques the controller applied are also split among the body's muscle torque
generators (``muscles="static"``, static optimisation, the default and the better on
docs/benchmarks_muscle_nn.md, or ``"nn"``, the shipped MuscleNN): activations per frame and the
torque per DoF the muscles could not supply (:mod:`musclepose.control.muscles`).

The PPO policy of issue 19 is not here yet: ``controller`` is ``"spd"`` or ``"pd"``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import atomic_write
from ..control.muscles import MUSCLE_METHODS, MuscleDemand, muscle_demand
from ..control.reference import check_reference
from ..control.tracking import CONTROLLERS, TrackingResult, track
from ..io import load_motion
from ..models.muscle_nn import MuscleNN
from ..motion import Motion
from .checkpoint import load_checkpoint

__all__ = ["OUTPUTS", "ImitationResult", "imitate_file", "imitate_motion", "load_muscle_nn", "write_imitation"]

OUTPUTS = (".mot", ".sto", ".json")


@dataclass
class ImitationResult:
    """A tracked recording: the simulated motion and what it took."""

    source: str
    simulated: Motion
    tracking: TrackingResult
    beyond_limits_deg: dict[str, float]  # DoF the reference takes past its range, by how far (deg)
    muscles: MuscleDemand | None = None  # activations behind the applied torques

    def summary(self) -> dict[str, Any]:
        """JSON-ready headline numbers (the names the issue's check reads)."""
        return {
            "file": self.source,
            **self.tracking.summary(),
            "frames": int(self.simulated.n_frames),
            "fps": float(self.simulated.fps),
            "reference_beyond_limits_deg": {k: round(v, 1) for k, v in self.beyond_limits_deg.items()},
            "worst_dof_rmse_deg": dict(
                sorted(((k, round(v, 2)) for k, v in self.tracking.rmse_deg_per_dof.items()), key=lambda kv: -kv[1])[:5]
            ),
            **(self.muscles.summary() if self.muscles is not None else {}),
        }


def load_muscle_nn(folder: str | Path | None = None) -> MuscleNN:
    """MuscleNN from ``folder`` (default: the shipped ``assets/muscle_nn``)."""
    folder = Path(folder) if folder else Path(__file__).resolve().parents[1] / "assets" / "muscle_nn"
    parts, _ = load_checkpoint(folder)
    model = parts.get("model")
    if not isinstance(model, MuscleNN):
        raise ValueError(f"{folder}: not a MuscleNN checkpoint (no 'model' part of that class)")
    return model.eval()


def imitate_motion(
    motion: Motion,
    *,
    controller: str = "spd",
    residual: bool = True,
    source: str = "",
    muscles: str = "static",
    muscle_model: MuscleNN | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImitationResult:
    """Track ``motion`` in MuJoCo (module docstring); ``progress(done, total)`` as simulation steps pass.

    ``muscles``: ``"static"`` or ``"nn"`` (``muscle_model``, default the shipped MuscleNN)."""
    if controller not in CONTROLLERS:
        raise ValueError(f"--controller {controller!r}: choose from {', '.join(CONTROLLERS)}")
    if muscles not in MUSCLE_METHODS:
        raise ValueError(f"--muscles {muscles!r}: choose from {', '.join(MUSCLE_METHODS)}")
    if motion.n_frames < 2:
        raise ValueError(f"{source or 'the motion'}: one frame cannot be imitated; need at least 2")
    beyond = check_reference(motion)  # a teleporting root or floating feet are refused here
    result = track(motion, controller=controller, residual=residual, progress=progress)
    q = torch.as_tensor(result.q, dtype=torch.float64)
    history = [*motion.metadata.get("history", []), f"simulated in MuJoCo ({controller}, residual={residual})"]
    simulated = Motion(q, motion.fps, motion.body, {**motion.metadata, "history": history})
    if muscles == "nn" and muscle_model is None:
        muscle_model = load_muscle_nn()
    tau = torch.as_tensor(result.torques, dtype=torch.float64)
    demand = muscle_demand(motion.body, q, simulated.velocity(), tau, muscles, muscle_model) if len(q) >= 2 else None
    return ImitationResult(source or str(motion.metadata.get("source", "")), simulated, result, beyond, demand)


def imitate_file(
    path: str | Path,
    *,
    controller: str = "spd",
    residual: bool = True,
    mass_kg: float | None = None,
    sex: str = "male",
    muscles: str = "static",
    say: Callable[[str], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImitationResult:
    """Load ``path`` and :func:`imitate_motion` it; ``say(stage)`` reports loading."""
    motion = load_motion(path, mass_kg=mass_kg, sex=sex, progress=say)
    return imitate_motion(
        motion, controller=controller, residual=residual, source=str(path), muscles=muscles, progress=progress
    )


def write_imitation(path: str | Path, result: ImitationResult) -> None:
    """The simulated motion to ``.mot``/``.sto`` (OpenSim coordinates) or ``.json``, atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in OUTPUTS:
        raise ValueError(f"{path}: cannot write {path.suffix or 'a file without an extension'!r}; outputs: "
                         f"{', '.join(OUTPUTS)}")  # fmt: skip
    if suffix in (".mot", ".sto"):
        from ..io.opensim.coords import write_motion_opensim

        write_motion_opensim(path, result.simulated)
        return
    sim = result.simulated
    doc = {
        **result.summary(),
        "dof_names": list(sim.body.dof_names),
        "units": "q: m for the root translation, rad otherwise",
        "q": np.round(sim.q.numpy(), 6).tolist(),
    }
    if result.muscles is not None:
        doc["generator_names"] = list(result.muscles.generator_names)
        doc["activations"] = np.round(result.muscles.activations, 4).tolist()
        doc["unsupplied_torque_per_frame_nm"] = np.round(result.muscles.unsupplied_nm, 3).tolist()
    with atomic_write(path) as f:
        json.dump(doc, f, allow_nan=False)
        f.write("\n")
