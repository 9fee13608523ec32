"""Muscle activations behind the joint torques a controller applied, and the torque the muscles could not supply.

Given a simulated motion's generalized positions, velocities and applied forces ``(T, 47)``,
the 82 Hill torque generators of :mod:`musclepose.body.muscles` are activated either by
static optimisation (``"static"``: closed form, exact, :func:`~musclepose.body.static_optimization`)
or by MuscleNN (``"nn"``: :class:`~musclepose.models.muscle_nn.MuscleNN`, after MASS, Lee et
al. 2019). What the generators cannot supply at those activations (saturation, or no capacity
at that angle and speed) is ``tau[6:] - muscle_torque(a)`` per DoF, N m: how far the simulated
motion is beyond what this body's muscles can do. The root's six forces are not muscles'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..body import Body
from ..body.muscles import mtg_parameters, muscle_torque, static_optimization
from ..models.muscle_nn import MuscleNN

__all__ = ["MUSCLE_METHODS", "MuscleDemand", "muscle_demand"]

MUSCLE_METHODS = ("static", "nn")


@dataclass
class MuscleDemand:
    """Activations ``(T, 82)`` and unsupplied torque ``(T, 41)`` of a motion (module docstring)."""

    method: str
    generator_names: tuple[str, ...]
    dof_names: tuple[str, ...]
    activations: np.ndarray
    unsupplied_nm: np.ndarray

    def summary(self, top: int = 5) -> dict[str, Any]:
        """JSON-ready: mean activation, the ``top`` generators by peak, and per DoF the largest unsupplied torque."""
        peak = self.activations.max(axis=0) if len(self.activations) else np.zeros(len(self.generator_names))
        worst = np.abs(self.unsupplied_nm).max(axis=0) if len(self.unsupplied_nm) else np.zeros(len(self.dof_names))
        order = np.argsort(-peak)[:top]
        return {
            "muscles": self.method,
            "mean_activation": round(float(self.activations.mean()), 4) if self.activations.size else 0.0,
            "peak_activations": {self.generator_names[i]: round(float(peak[i]), 3) for i in order},
            "max_unsupplied_torque_nm": round(float(worst.max()), 2) if worst.size else 0.0,
            "unsupplied_torque_nm": {
                n: round(float(w), 2) for n, w in sorted(zip(self.dof_names, worst, strict=True), key=lambda x: -x[1])
            },
        }


def muscle_demand(
    body: Body,
    q: torch.Tensor,
    qd: torch.Tensor,
    tau: torch.Tensor,
    method: str = "static",
    model: MuscleNN | None = None,
) -> MuscleDemand:
    """Activations and unsupplied torque for ``q, qd, tau (T, 47)`` by ``method`` (``"nn"`` needs ``model``)."""
    if method not in MUSCLE_METHODS:
        raise ValueError(f"--muscles {method!r}: choose from {', '.join(MUSCLE_METHODS)}")
    params = mtg_parameters(body)
    q, qd, tau = (torch.as_tensor(x, dtype=torch.float64) for x in (q, qd, tau))
    with torch.no_grad():
        if method == "static":
            so = static_optimization(params, q, qd, tau)
            a, unsupplied = so.activations, so.residual
        else:
            if model is None:
                raise ValueError("muscles 'nn' needs a MuscleNN model")
            a = model.activations(params, q, qd, tau).double()
            unsupplied = tau[..., 6:] - muscle_torque(params, q, qd, a)
    return MuscleDemand(method, params.generator_names, params.dof_names, a.cpu().numpy(), unsupplied.cpu().numpy())
