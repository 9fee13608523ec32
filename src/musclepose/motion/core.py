"""The ``Motion`` type: a time series of body states ``q (T, 47)`` at a frame rate.

``q`` follows :mod:`musclepose.body.skeleton` (root translation in m, then angles in rad).
A Motion is immutable in spirit: operations (slicing, resampling, filtering) return new
Motions and record what was done in ``metadata["history"]``. ``quality`` (optional) says per frame
how far the motion can be trusted (:class:`~.quality.FrameQuality`); slicing and resampling carry it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from scipy.interpolate import CubicSpline
from scipy.signal import butter, sosfiltfilt

from ..body import Body
from .differentiate import central_velocity, derivatives
from .quality import FrameQuality

__all__ = ["Motion"]


@dataclass(frozen=True, eq=False)
class Motion:
    """Body states over time.

    Attributes
    ----------
    q : torch.Tensor, (T, 47)
        Generalized coordinates per frame (float64 unless converted with :meth:`to`).
    fps : float
        Frame rate in Hz.
    body : Body
        The body the coordinates refer to.
    metadata : dict
        ``source`` (file or generator), ``subject``, ``units`` and processing ``history``.
    quality : FrameQuality or None
        Per-frame fit error and flagged frames with their causes (None: not assessed).
    """

    q: torch.Tensor
    fps: float
    body: Body
    metadata: dict[str, Any] = field(default_factory=dict)
    quality: FrameQuality | None = None

    def __post_init__(self) -> None:
        q = self.q
        if not isinstance(q, torch.Tensor):
            object.__setattr__(self, "q", torch.as_tensor(np.asarray(q), dtype=torch.float64))
            q = self.q
        if q.ndim != 2 or q.shape[1] != self.body.n_dof:
            raise ValueError(f"Motion.q must have shape (T, {self.body.n_dof}); got {tuple(q.shape)}")
        if q.shape[0] < 1:
            raise ValueError("Motion.q has no frames")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"Motion.fps must be positive; got {self.fps!r}")
        bad = ~torch.isfinite(q)
        if bad.any():
            frame, dof = (int(v) for v in torch.nonzero(bad)[0])
            raise ValueError(f"Motion.q is not finite at frame {frame}, DoF {self.body.dof_names[dof]!r}")
        if self.quality is not None and self.quality.n_frames != q.shape[0]:
            raise ValueError(f"Motion.quality has {self.quality.n_frames} frames, q has {q.shape[0]}")

    # ------------------------------------------------------------------ basics
    @property
    def n_frames(self) -> int:
        return int(self.q.shape[0])

    @property
    def duration(self) -> float:
        """Seconds from the first to the last frame."""
        return (self.n_frames - 1) / self.fps

    @property
    def times(self) -> np.ndarray:
        return np.arange(self.n_frames) / self.fps

    def __len__(self) -> int:
        return self.n_frames

    def __getitem__(self, index: slice) -> Motion:
        if not isinstance(index, slice) or (index.step not in (None, 1)):
            raise TypeError("Motion supports contiguous slices only, e.g. motion[10:200]")
        quality = None if self.quality is None else self.quality.sliced(index)
        return self._derive(self.q[index], self.fps, f"slice {index.start}:{index.stop}", quality)

    def _derive(self, q: torch.Tensor, fps: float, what: str, quality: FrameQuality | None = None) -> Motion:
        meta = dict(self.metadata)
        meta["history"] = [*self.metadata.get("history", []), what]
        quality = (
            quality if quality is not None or self.quality is None or q.shape[0] != self.n_frames else self.quality
        )
        return replace(self, q=q, fps=fps, metadata=meta, quality=quality)

    def repeated(self, cycles: int, max_seam_deg: float = 30.0) -> Motion:
        """A looping motion played ``cycles`` times.

        The last frame is taken as the next cycle's first, as a DeepMimic ``"Loop": "wrap"`` clip
        is played; each cycle is shifted by the root's horizontal travel over one cycle (X and Z,
        Y up: DeepMimic's cycle offset), the heading is not turned. Where the last frame's angles
        (and root height) differ from the first's, the difference is spread linearly over the
        cycle so that the loop has no jump (DeepMimic's walk: up to 23 deg of shoulder rotation,
        which a hanging arm leaves free). Refused (``ValueError``) when an angle differs by more
        than ``max_seam_deg``: the motion does not loop there.
        """
        cycles = int(cycles)
        if cycles < 1:
            raise ValueError(f"cycles must be 1 or more; got {cycles}")
        if cycles == 1:
            return self
        if self.n_frames < 3:
            raise ValueError(f"a loop needs 3 or more frames; this motion has {self.n_frames}")
        q = self.q.detach().cpu().numpy().astype(np.float64)
        seam = np.zeros(q.shape[1])
        seam[3:] = np.angle(np.exp(1j * (q[0, 3:] - q[-1, 3:])))  # first minus last, wrapped to +-pi
        seam[1] = q[0, 1] - q[-1, 1]  # root height
        worst = 3 + int(np.argmax(np.abs(seam[3:])))
        if np.degrees(abs(seam[worst])) > max_seam_deg:
            raise ValueError(f"the motion does not loop: {self.body.dof_names[worst]} is "
                             f"{np.degrees(abs(seam[worst])):.0f} deg apart between its first and last frames "
                             f"(at most {max_seam_deg:g} deg to repeat it)")  # fmt: skip
        ramp = np.linspace(0.0, 1.0, len(q))[:, None]
        closed = q + ramp * seam  # the last frame now equals the first, but for the travel
        shift = np.zeros(q.shape[1])
        shift[[0, 2]] = q[-1, [0, 2]] - q[0, [0, 2]]
        out = np.concatenate([*(closed[:-1] + c * shift for c in range(cycles)), closed[-1:] + (cycles - 1) * shift])
        quality = None if self.quality is None else self.quality.looped(cycles)
        what = (f"looped {cycles} times (root moved {np.hypot(*shift[[0, 2]]):.2f} m per cycle; seam of up to "
                f"{np.degrees(abs(seam[worst])):.1f} deg ({self.body.dof_names[worst]}) spread over each "
                "cycle)")  # fmt: skip
        return self._derive(torch.as_tensor(out, dtype=self.q.dtype), self.fps, what, quality)

    def to(self, dtype: torch.dtype | None = None, device: torch.device | str | None = None) -> Motion:
        return replace(self, q=self.q.to(dtype=dtype or self.q.dtype, device=device or self.q.device))

    def dof(self, name: str) -> torch.Tensor:
        """One coordinate over time, ``(T,)``."""
        return self.q[:, self.body.dof_index(name)]

    # ------------------------------------------------------------------ processing
    def velocities(self, method: str = "central", **kw) -> tuple[torch.Tensor, torch.Tensor]:
        """``(qd, qdd)`` per second, see :func:`musclepose.motion.differentiate.derivatives`."""
        return derivatives(self.q, self.fps, method=method, **kw)

    def velocity(self) -> torch.Tensor:
        """``qd`` of :meth:`velocities` (central differences) alone, in a third of its memory."""
        return central_velocity(self.q, self.fps)

    def filtered(self, cutoff_hz: float, order: int = 4) -> Motion:
        """Zero-phase Butterworth low-pass (scipy ``sosfiltfilt``; effective order 2x).

        Typical mocap cut-offs are 6-10 Hz; do not filter fast events (impacts, jumps)
        this way by default.
        """
        nyq = 0.5 * self.fps
        if not 0 < cutoff_hz < nyq:
            raise ValueError(
                f"a low-pass filter at {cutoff_hz:g} Hz needs a frame rate above {2 * cutoff_hz:g} Hz; "
                f"this motion has {self.fps:g} Hz"
            )
        sos = butter(order, cutoff_hz / nyq, output="sos")
        padlen = 3 * (2 * len(sos) + 1)
        if self.n_frames <= padlen:
            raise ValueError(f"filtering needs more than {padlen} frames; this motion has {self.n_frames}")
        x = sosfiltfilt(sos, self.q.detach().cpu().numpy(), axis=0)
        q = torch.as_tensor(x.copy(), dtype=self.q.dtype, device=self.q.device)
        return self._derive(q, self.fps, f"butterworth {cutoff_hz:g} Hz order {order} zero-phase")

    def resampled(self, fps: float) -> Motion:
        """Cubic-spline resampling to ``fps`` over the same time span."""
        if not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be positive; got {fps!r}")
        if self.n_frames < 2:
            raise ValueError("resampling needs at least 2 frames")
        n = int(np.floor(self.duration * fps + 1e-9)) + 1
        t_new = np.arange(n) / fps
        x = CubicSpline(self.times, self.q.detach().cpu().numpy(), axis=0)(t_new)
        q = torch.as_tensor(x, dtype=self.q.dtype, device=self.q.device)
        quality = None if self.quality is None else self.quality.resampled(self.fps, float(fps), n)
        return self._derive(q, float(fps), f"resampled {self.fps:g} -> {fps:g} Hz", quality)
