"""InbetweenLinear: the frames of a gap as a learned linear filter of the frames around it.

Same input and call as :class:`~musclepose.models.inbetween.InbetweenNet`: ``(B, C + n + C, F)``
normalised window features with slerp in the gap. Per gap length ``n`` the residual over slerp is
``delta[k, f] = sum_j W[g(f), n, k, j] z[j, f]``, with ``z`` the context frames relative to the
frame next to the gap (A's last, B's first) and one weight matrix per feature group ``g`` (root
position; rotations) shared by all features of the group: a learned temporal filter, of which a
cubic spline through the context is one instance. Sharing over features is what lets it generalise
from little data (as :mod:`.motion_nn` found for prediction). Fitted in closed form (ridge) by
:mod:`musclepose.training.inbetween`; zero weights are slerp. No I/O, no fitting here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["InbetweenLinear", "InbetweenLinearConfig"]


@dataclass
class InbetweenLinearConfig:
    """``n_features`` per frame (the first ``n_root`` one group, the rest another), ``context``
    frames each side, gaps up to ``max_gap`` frames, the ``fps`` it was fitted at."""

    n_features: int = 111
    n_root: int = 3
    context: int = 20
    max_gap: int = 40
    fps: float = 20.0


class InbetweenLinear(nn.Module):
    """``weight (2 groups, max_gap, max_gap, 2 * context)``: row ``[g, n - 1, :n]`` maps the
    context terms to the ``n`` gap frames' residuals."""

    def __init__(self, config: InbetweenLinearConfig) -> None:
        super().__init__()
        self.config = c = config
        self.weight = nn.Parameter(torch.zeros(2, c.max_gap, c.max_gap, 2 * c.context))

    def context_terms(self, x: torch.Tensor, context: int, n: int) -> torch.Tensor:
        """``z (B, 2 * context, F)``: A's context minus A's last frame, B's minus B's first."""
        c = context
        return torch.cat([x[:, :c] - x[:, c - 1 : c], x[:, c + n :] - x[:, c + n : c + n + 1]], dim=1)

    def forward(self, x: torch.Tensor, context: int, n: int) -> torch.Tensor:
        """``x (B, 2 * context + n, F)`` -> the same window with the gap frames replaced."""
        c, cfg = context, self.config
        if x.shape[1] != 2 * c + n or c != cfg.context or not 1 <= n <= cfg.max_gap or x.shape[2] != cfg.n_features:
            raise ValueError(
                f"x must be (B, 2 * {cfg.context} + n <= {cfg.max_gap}, {cfg.n_features}); got {tuple(x.shape)}"
            )
        z = self.context_terms(x, c, n)
        r = cfg.n_root
        delta = torch.cat(
            [
                torch.einsum("kj,bjf->bkf", self.weight[0, n - 1, :n], z[..., :r]),
                torch.einsum("kj,bjf->bkf", self.weight[1, n - 1, :n], z[..., r:]),
            ],
            dim=-1,
        )
        out = x.clone()
        out[:, c : c + n] = x[:, c : c + n] + delta
        return out
