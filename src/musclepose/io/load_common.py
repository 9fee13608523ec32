"""What the recording loaders of :mod:`.load` share: progress stages, frame selection, files beside.

``progress(stage)`` is called before each long step (a CLI spinner).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["Progress", "frames_at", "one_beside", "say"]

Progress = Callable[[str], None] | None


def say(progress: Progress, stage: str) -> None:
    """Report ``stage`` to ``progress`` when there is one."""
    if progress is not None:
        progress(stage)


def frames_at(n: int, src_fps: float, fps: float | None) -> tuple[np.ndarray, float]:
    """Source frame indices to solve and the resulting rate (nearest frames; never upsample)."""
    if fps is None or fps >= src_fps:
        return np.arange(n), float(src_fps)
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be positive; got {fps}")
    t = np.arange(0.0, (n - 1) / src_fps + 1e-9, 1.0 / fps)
    return np.unique(np.clip(np.round(t * src_fps).astype(int), 0, n - 1)), float(fps)


def one_beside(path: Path, pattern: str) -> Path | None:
    found = sorted(p for p in path.parent.glob(pattern) if p.is_file() and p != path)
    return found[0] if len(found) == 1 else None
