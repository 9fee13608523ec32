"""MuscleNN: desired joint torques (and state) -> activations of the 82 Hill torque generators.

After MASS (Lee, Park, Lee & Lee 2019, *Scalable muscle-actuated human simulation and control*,
ACM ToG 38(4):73): a network maps the torque a controller wants to muscle activations in [0, 1],
trained self-supervised so that the muscles' torque at the predicted activations reproduces the
wanted one, with a small activation penalty (:func:`musclepose.training.muscle_nn.mass_loss`).
The muscles are :mod:`musclepose.body.muscles` (two generators per rotational DoF; activations
``a[..., :41]`` positive, ``a[..., 41:]`` negative direction), so the network solves the problem
:func:`~musclepose.body.muscles.static_optimization` solves in closed form.

Inputs (:func:`muscle_features`, ``(..., 205)``: five blocks of 41, one value per rotational DoF):
the torque the generators must supply, ``need = tau[6 + i] - passive_i(q, qd)``, divided by the
capacity of the generator that turns that way (``max_torques`` at the state: torque-angle x
torque-velocity, N m; at least ``min_capacity`` of its isometric peak) and clipped to
``+-x_clip``; both capacities as fractions of their isometric peaks; the joint angle (rad); its
velocity / ``velocity_scale``. Normalising by capacity makes the inputs independent of the
subject's size, sex and age. Output: 82 sigmoids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from ..body.muscles import MTGParameters, max_torques, passive_torque

__all__ = ["MuscleInputs", "MuscleNN", "MuscleNNConfig", "muscle_features"]


@dataclass
class MuscleNNConfig:
    n_dof: int = 41  # rotational DoF; 2 generators each
    embedding: int = 8  # learned per-DoF code
    hidden: int = 64
    n_layers: int = 3
    x_clip: float = 3.0  # capacity-normalised demand beyond this is saturated anyway
    min_capacity: float = 0.05  # fraction of the isometric peak below which capacity counts as this
    velocity_scale: float = 10.0  # rad/s
    out_bias: float = -4.0  # sigmoid(-4) = 0.018: most generators are silent most of the time


class MuscleInputs(NamedTuple):
    """What the network reads and what the loss needs, for one batch of states."""

    features: torch.Tensor  # (..., 5 * 41)
    pos: torch.Tensor  # (..., 41) N m capacity of the positive generators
    neg: torch.Tensor  # (..., 41) N m capacity of the negative generators
    need: torch.Tensor  # (..., 41) N m the generators must supply (tau minus passive)
    scale: torch.Tensor  # (..., 41) N m capacity in the direction of need, at least min_capacity of its peak


def muscle_features(
    params: MTGParameters, q: torch.Tensor, qd: torch.Tensor, tau: torch.Tensor, config: MuscleNNConfig
) -> MuscleInputs:
    """Network inputs from generalized positions, velocities and forces, each ``(..., 47)`` (module docstring)."""
    if tau.shape != q.shape:
        raise ValueError(f"tau must have the shape of q {tuple(q.shape)}; got {tuple(tau.shape)}")
    pos, neg = max_torques(params, q, qd)
    need = tau[..., 6:] - passive_torque(params, q, qd)
    iso = params.tensors(q.dtype, q.device).tau_iso
    iso_pos, iso_neg = iso[: config.n_dof].clamp(min=1e-6), iso[config.n_dof :].clamp(min=1e-6)
    k = config.min_capacity
    scale = torch.where(need >= 0, torch.maximum(pos, k * iso_pos), torch.maximum(neg, k * iso_neg))
    x = (need / scale).clamp(-config.x_clip, config.x_clip)
    feats = [x, pos / iso_pos, neg / iso_neg, q[..., 6:], qd[..., 6:] / config.velocity_scale]
    return MuscleInputs(torch.cat(feats, dim=-1), pos, neg, need, scale)


class MuscleNN(nn.Module):
    """An MLP shared by the 41 DoF (each with a learned embedding): :func:`muscle_features` -> 82 activations.

    MASS feeds the whole body to one MLP because its muscles span several joints; here each
    generator pair acts on one DoF, so the network reads one DoF's five inputs plus that DoF's
    embedding and writes its two activations (sigmoid), the same weights for every DoF.
    """

    def __init__(self, config: MuscleNNConfig) -> None:
        super().__init__()
        self.config = config
        self.dof_embedding = nn.Parameter(0.1 * torch.randn(config.n_dof, config.embedding))
        layers: list[nn.Module] = []
        width = 5 + config.embedding
        for _ in range(config.n_layers):
            layers += [nn.Linear(width, config.hidden), nn.GELU()]
            width = config.hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, 2)
        nn.init.zeros_(self.head.weight)  # start silent; the loss switches generators on
        nn.init.constant_(self.head.bias, config.out_bias)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        n = self.config.n_dof
        if features.shape[-1:] != (5 * n,):
            raise ValueError(f"features must have shape (..., {5 * n}); got {tuple(features.shape)}")
        per_dof = features.unflatten(-1, (5, n)).transpose(-1, -2)  # (..., 41, 5)
        emb = self.dof_embedding.expand(*per_dof.shape[:-1], -1)
        a = torch.sigmoid(self.head(self.body(torch.cat([per_dof, emb], dim=-1))))  # (..., 41, 2)
        return torch.cat([a[..., 0], a[..., 1]], dim=-1)

    def activations(self, params: MTGParameters, q: torch.Tensor, qd: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        """Activations ``(..., 82)`` for generalized positions, velocities and forces ``(..., 47)``."""
        dtype = next(self.parameters()).dtype
        inputs = muscle_features(params, q.to(dtype), qd.to(dtype), tau.to(dtype), self.config)
        return self(inputs.features)
