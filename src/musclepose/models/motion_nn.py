"""MotionNN: the next body state from a window of past states (autoregressive motion model).

A state is one frame: ``n_rot`` joint rotations in the 6-D representation of Zhou et al. (2019)
(:func:`~musclepose.body.rotations.matrix_to_rotation_6d`), ``n_extra`` other continuous
quantities (root velocity in the heading frame, yaw rate, height; whatever the codec in
:mod:`musclepose.pipelines.motion_state` puts there) and ``n_contact`` foot contacts in [0, 1].
The network standardises the window with the training data's mean and std (buffers, saved in
the checkpoint). Each state dimension's own trajectory is described by its last ``recent``
values and ``n_basis`` temporal coefficients over the whole ``window`` (a learned basis
initialised to the DCT-II, the trajectory space of Mao et al. 2019). One small MLP, shared by
all dimensions, maps a dimension's features, a learned embedding of which dimension it is and a
``context`` vector read from all dimensions' features (how the rest of the body moves) to that
dimension's *change* (residual output, zero-initialised, so the untrained network is the
zero-velocity predictor; contacts get a logit instead), plus a shared linear autoregressive
term. Sharing the weights over dimensions pools the data: the benchmark's training split has
only ~5,000 windows, on which a full multivariate predictor overfits (a ridge regression over
all 156 x 13 features is worse than zero velocity on held-out files, one shared over dimensions
better). The rotations returned are re-orthonormalised (Gram-Schmidt), so a rollout stays on
the rotation manifold.

Inputs and outputs are raw states ``(B, W, D)`` -> ``(B, D)``; :meth:`MotionNN.rollout` feeds
predictions back for many steps. No I/O, no training loop (that is :mod:`musclepose.training.motion`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..body.rotations import matrix_to_rotation_6d, rotation_6d_to_matrix

__all__ = ["MotionNN", "MotionNNConfig"]


@dataclass
class MotionNNConfig:
    """Shape of the state and of the network.

    ``window`` frames of history (the last ``recent`` of them in full), ``n_basis`` temporal
    coefficients per dimension, ``embed`` size of the dimension embedding, ``context`` size of
    the whole-body vector, ``hidden`` width and ``depth`` hidden layers of the shared MLP,
    ``fps`` the frame rate the model was trained at (a model is only valid at its own rate).
    """

    n_rot: int = 26
    n_extra: int = 0
    n_contact: int = 0
    window: int = 50
    recent: int = 5
    n_basis: int = 8
    embed: int = 8
    context: int = 32
    hidden: int = 64
    depth: int = 2
    dropout: float = 0.0
    fps: float = 60.0

    @property
    def state_dim(self) -> int:
        return 6 * self.n_rot + self.n_extra + self.n_contact

    @property
    def n_continuous(self) -> int:
        return 6 * self.n_rot + self.n_extra


def dct_basis(n: int, k: int) -> torch.Tensor:
    """The first ``k`` orthonormal DCT-II vectors over ``n`` samples, ``(n, k)``."""
    t = torch.arange(n, dtype=torch.float64)
    rows = [torch.full((n,), math.sqrt(1.0 / n), dtype=torch.float64)]
    rows += [math.sqrt(2.0 / n) * torch.cos(math.pi * (t + 0.5) * j / n) for j in range(1, k)]
    return torch.stack(rows, dim=1).float()


class MotionNN(nn.Module):
    """Next state from a window of states; see the module docstring."""

    def __init__(self, config: MotionNNConfig) -> None:
        super().__init__()
        c = self.config = config
        if not 1 <= c.recent <= c.window or c.n_basis < 1 or c.state_dim < 1 or c.depth < 1:
            raise ValueError(f"inconsistent MotionNNConfig: {c}")
        d, f = c.state_dim, c.recent + c.n_basis
        self.register_buffer("mean", torch.zeros(d))
        self.register_buffer("std", torch.ones(d))
        self.basis = nn.Parameter(dct_basis(c.window, c.n_basis))
        self.embedding = nn.Parameter(0.1 * torch.randn(d, c.embed))
        # context 0: no whole-body vector (each dimension predicted from its own trajectory alone).
        self.context = (
            nn.Sequential(nn.Linear(d * f, c.context), nn.LayerNorm(c.context), nn.GELU()) if c.context else None
        )
        # The first layer of the shared MLP on [features, embedding, context], split into its three
        # blocks so that the embedding's and the context's parts are computed once, not per dimension.
        self.in_feat = nn.Linear(f, c.hidden)
        self.in_embed = nn.Linear(c.embed, c.hidden, bias=False)
        self.in_context = nn.Linear(c.context, c.hidden, bias=False) if c.context else None
        layers: list[nn.Module] = [nn.GELU(), nn.Dropout(c.dropout)]
        for _ in range(c.depth - 1):
            layers += [nn.Linear(c.hidden, c.hidden), nn.GELU(), nn.Dropout(c.dropout)]
        self.mlp = nn.Sequential(*layers)
        self.out = nn.Linear(c.hidden, 1)
        self.ar = nn.Linear(f, 1, bias=False)
        for p in (self.out.weight, self.out.bias, self.ar.weight):
            nn.init.zeros_(p)  # residual output starts at "no change"

    def set_normalization(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Standardisation of the states (from the training data); contacts stay as they are."""
        c = self.config
        mean, std = mean.detach().clone().float(), std.detach().clone().float().clamp(min=1e-4)
        mean[c.n_continuous :], std[c.n_continuous :] = 0.0, 1.0
        self.mean.copy_(mean)
        self.std.copy_(std)

    def _pad(self, history: torch.Tensor) -> torch.Tensor:
        w = self.config.window
        if history.shape[-2] >= w:
            return history[..., -w:, :]
        first = history[..., :1, :].expand(*history.shape[:-2], w - history.shape[-2], history.shape[-1])
        return torch.cat([first, history], dim=-2)

    def _step_z(self, z: torch.Tensor) -> torch.Tensor:
        """One step in standardised space: window ``(B, window, D)`` -> next standardised state ``(B, D)``."""
        c = self.config
        feat = torch.cat([z[:, -c.recent :].transpose(1, 2), torch.einsum("bwd,wk->bdk", z, self.basis)], dim=2)
        h = self.in_feat(feat) + self.in_embed(self.embedding)  # (B, D, hidden)
        if self.context is not None:
            h = h + self.in_context(self.context(feat.flatten(1)))[:, None]
        y = (self.out(self.mlp(h)) + self.ar(feat))[..., 0]  # (B, D)
        n = c.n_continuous
        cont = (z[:, -1, :n] + y[:, :n]) * self.std[:n] + self.mean[:n]
        if c.n_rot:
            rot = cont[:, : 6 * c.n_rot].reshape(-1, c.n_rot, 6)
            rot = matrix_to_rotation_6d(rotation_6d_to_matrix(rot)).flatten(1)
            cont = torch.cat([rot, cont[:, 6 * c.n_rot :]], dim=1)
        zc = (cont - self.mean[:n]) / self.std[:n]
        return torch.cat([zc, torch.sigmoid(y[:, n:])], dim=1)

    def forward(self, history: torch.Tensor) -> torch.Tensor:
        """``(B, T, D)`` raw states (``T`` >= 1; shorter than ``window`` is padded with the first
        frame) -> the next raw state ``(B, D)``."""
        c = self.config
        if history.shape[-1] != c.state_dim:
            raise ValueError(f"history must be (B, T, {c.state_dim}); got {tuple(history.shape)}")
        return self._step_z((self._pad(history) - self.mean) / self.std) * self.std + self.mean

    def rollout(
        self,
        history: torch.Tensor,
        steps: int,
        teacher: torch.Tensor | None = None,
        teacher_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Predict ``steps`` frames ``(B, steps, D)``, each from the window ending at the previous one.

        The frame appended to the window after step ``k`` is the prediction, or ``teacher[:, k]``
        where ``teacher_mask[:, k]`` is true (scheduled sampling; all true = teacher forcing).
        Runs in standardised space, so only the new frame is converted each step.
        """
        w = self.config.window
        frames = list(((self._pad(history) - self.mean) / self.std).unbind(1))
        zt = None if teacher is None else (teacher - self.mean) / self.std
        preds = []
        for k in range(steps):
            p = self._step_z(torch.stack(frames[-w:], dim=1))
            preds.append(p)
            if zt is not None and teacher_mask is not None:
                p = torch.where(teacher_mask[:, k, None], zt[:, k], p)
            frames.append(p)
        return torch.stack(preds, dim=1) * self.std + self.mean
