"""What the recording loaders of :mod:`.load` share: progress stages, frame selection, files beside.

``progress(stage)`` is called before each long step (a CLI spinner).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_MASS_KG", "Progress", "frames_at", "one_beside", "resolve_mass", "say"]

Progress = Callable[[str], None] | None
DEFAULT_MASS_KG = 70.0  # when neither the user nor the recording says
PLAUSIBLE_MASS_KG = (20.0, 300.0)  # a recording's own mass outside this is not a person's (a generic default)


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


def resolve_mass(given: float | None, own: float | None, source: str) -> tuple[float, dict]:
    """The body mass to use and how it was chosen, as ``(kg, metadata)``.

    ``given`` (the user's ``--mass``) wins; else the recording's ``own`` mass (an OpenSim model's,
    a C3D's subject mass) from ``source``; else :data:`DEFAULT_MASS_KG`. ``metadata`` has
    ``mass_source`` and, when ``given`` and ``own`` differ by more than 2 %, ``notes`` saying so.
    """
    lo, hi = PLAUSIBLE_MASS_KG
    own = float(own) if own is not None and math.isfinite(own) and lo <= own <= hi else None
    if given is None:
        if own is None:
            return DEFAULT_MASS_KG, {"mass_source": f"default {DEFAULT_MASS_KG:g} kg (no mass given or recorded)"}
        return own, {"mass_source": source}
    info: dict = {"mass_source": "given"}
    if own is not None and abs(given - own) > 0.02 * own:
        info["notes"] = [f"the given mass {given:g} kg differs from the {own:g} kg of {source}; {given:g} kg is used"]
    return float(given), info
