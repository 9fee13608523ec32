"""Physics from the coach encoder's predictions: inverse dynamics, torque generators, ground reactions.

:func:`bridge_inputs` turns the encoder's predicted motion, activations and contacts of one clip
into the PhysicsBridge's input (``q``, ``qd`` by differentiation at ``ENCODER_FPS``, ``tau_q`` by
inverse dynamics with ground reactions estimated from the predicted motion, ``tau_mtg`` by the
torque generators at the predicted activations). :func:`encoder_grf` is the seed's GRF model with
the encoder's residuals. :class:`BodyCache` shares bodies and muscle parameters across clips of
the same anthropometry. SI units; bodies are described by ``{"height_m", "mass_kg", "sex"}``.
"""

from __future__ import annotations

import functools
from typing import Any

import torch

from ..body import Body, mtg_parameters, muscle_torque
from ..models.bridge import physics_features
from ..models.grf import GRFInputs, GRFModel
from ..motion import Motion
from ..motion.kinetics import compute_kinetics
from .coach_inputs import ENCODER_FPS

__all__ = ["BodyCache", "bridge_inputs", "encoder_grf"]


class BodyCache:
    """Bodies, muscle parameters and joint limits per anthropometry (shared across clips)."""

    def __init__(self) -> None:
        self._cache: dict[tuple, tuple] = {}

    def get(self, b: dict[str, Any]):
        """``(body, mtg parameters, lower, upper)`` rotational joint limits (rad) of ``b``."""
        key = (round(b["height_m"], 6), round(b["mass_kg"], 6), b["sex"])
        if key not in self._cache:
            body = Body.standard(b["height_m"], b["mass_kg"], b["sex"])
            lo = torch.as_tensor(body.dof_lower[6:], dtype=torch.float32)
            hi = torch.as_tensor(body.dof_upper[6:], dtype=torch.float32)
            self._cache[key] = (body, mtg_parameters(body), lo, hi)
        return self._cache[key]


def bridge_inputs(out: Any, b: int, t: int, body_info: dict[str, Any], bodies: BodyCache):
    """``(physics (1, t, 266), states (1, t, d), tau_q (t, 47), tau_mtg (t, 41))`` of clip ``b``
    from the encoder's predictions (``tau_q``: inverse dynamics with estimated ground reactions)."""
    body, params, _, _ = bodies.get(body_info)
    q = out.q[b, :t].detach().double()
    motion = Motion(q, ENCODER_FPS, body)
    kin = compute_kinetics(motion, cutoff_hz=None, muscles=False)
    qd = kin.qd
    act = out.activations[b, :t].detach().double()
    tau_mtg = muscle_torque(params, q, qd, act)
    contact = torch.sigmoid(out.contact_logits[b, :t].detach()).double()
    phys = physics_features(torch.tensor([body.mass_kg]), q[None], qd[None], kin.tau[None], tau_mtg[None],
                            act[None], contact[None])  # fmt: skip
    return phys.float(), out.states[b : b + 1, :t].detach(), kin.tau, tau_mtg


@functools.cache
def _grf_model() -> GRFModel:
    return GRFModel()


def encoder_grf(delta: torch.Tensor, psi: torch.Tensor, feet: torch.Tensor, contact: torch.Tensor) -> torch.Tensor:
    """Ground reactions (body weights, ``(T, 2, 3)``) of the seed's GRF model (:mod:`musclepose.models.grf`)
    on the motion's features ``psi``/``feet`` with the encoder's residuals ``delta (T, 2, 5)``."""
    inputs = GRFInputs(psi=psi.to(delta), heel=feet[..., 0, :].to(delta), toe=feet[..., 1, :].to(delta))
    return _grf_model().to(delta.device)(inputs, contact.to(delta), 1.0, delta=delta).force
