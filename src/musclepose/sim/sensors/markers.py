"""Simulated lab markers (default Plug-in Gait) with measurement noise and occlusion gaps.

Positions are world metres, Y-up (:mod:`musclepose.body.skeleton`), ``(..., T, M, 3)`` with
NaN in the gaps; :meth:`SimulatedMarkers.to_marker_data` gives what
:func:`musclepose.io.write_trc` writes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ...body import Body, forward_kinematics
from ...body.landmarks import LANDMARK_SETS
from ...io import MarkerData
from .seeding import randn, torch_generator

__all__ = ["SimulatedMarkers", "simulate_markers"]


@dataclass(frozen=True)
class SimulatedMarkers:
    """Simulated optical markers: ``positions (..., T, M, 3)`` world m with NaN gaps, and the truth."""

    names: tuple[str, ...]
    positions: torch.Tensor
    true_positions: torch.Tensor
    fps: float

    def to_marker_data(self):
        """Unbatched markers as :class:`musclepose.io.opensim.MarkerData` (Y-up, m) for ``write_trc``."""
        if self.positions.ndim != 3:
            raise ValueError(f"to_marker_data needs unbatched markers (T, M, 3); got {tuple(self.positions.shape)}")
        pos = self.positions.detach().cpu().numpy().astype(np.float64)
        return MarkerData(None, list(self.names), pos, float(self.fps), np.arange(len(pos)) / float(self.fps), "mm")


def simulate_markers(
    body: Body,
    q: torch.Tensor,
    fps: float = 100.0,
    names: Sequence[str] | str = "plug_in_gait",
    noise_m: float = 0.001,
    gap_rate_hz: float = 0.2,
    mean_gap_s: float = 0.1,
    generator: torch.Generator | int | None = None,
) -> SimulatedMarkers:
    """Lab marker trajectories (default Plug-in Gait) with noise and occlusion gaps.

    Noise is white, isotropic, ``noise_m`` per axis (1 sigma; optical systems reconstruct
    markers to about a millimetre in motion, Merriaux et al. 2017, *Sensors* 17:1591).
    Gaps start at random (``gap_rate_hz`` per marker per second) and last a geometric
    number of frames with mean ``mean_gap_s``; every marker keeps at least one sample.
    """
    g = torch_generator(generator)
    idx = body.landmark_indices(names)
    label = LANDMARK_SETS[names] if isinstance(names, str) else tuple(names)
    true = forward_kinematics(body, q).landmarks[..., idx, :]  # (..., T, M, 3)
    noisy = true + noise_m * randn(g, true.shape, true)
    shape, n_t = true.shape[:-1], true.shape[-3]
    if gap_rate_hz > 0 and n_t > 1:
        start = torch.rand(shape, generator=g, dtype=torch.float64) < gap_rate_hz / fps
        p = min(1.0, 1.0 / max(mean_gap_s * fps, 1.0))  # geometric gap length, mean 1/p frames
        u = torch.rand(shape, generator=g, dtype=torch.float64).clamp(min=1e-12)
        length = torch.ceil(torch.log(u) / math.log1p(-p)) if p < 1 else torch.ones(shape, dtype=torch.float64)
        t = torch.arange(n_t, dtype=torch.float64).view(n_t, 1)
        end = torch.where(start, t + length, torch.full_like(length, -1.0))
        gap = torch.cummax(end, dim=-2).values > t  # inside a gap that started at or before t
        gap &= ~(gap.all(dim=-2, keepdim=True) & (t == 0))  # keep a marker's first sample if it has no other
        noisy = torch.where(gap.to(true.device)[..., None], torch.full_like(noisy, float("nan")), noisy)
    return SimulatedMarkers(tuple(label), noisy, true, float(fps))
