"""The synthetic exercise engine: parametric, smooth, labelled motions with the catalogue's
faults injected.

:func:`generate` builds one set of an exercise on a body; :data:`GENERATORS` holds, per
catalogue exercise the engine can synthesise, its builder, defaults and randomisation ranges
(:mod:`.registry`). The builders are :mod:`.lower` (squat, deadlift, lunge, sit-to-stand),
:mod:`.upper` (overhead press, bent-over row, push-up) and :mod:`.jump` (jumping jacks), on
the shared machinery of :mod:`.base`, the limb IK of :mod:`.ik` and the time profiles of
:mod:`.profiles`.
"""

from __future__ import annotations

from .base import Fault
from .generate import ANCHORED, RUSHED_MIN_S, VISIBLE_FROM, foot_skating, generate, load_position, observe
from .registry import COMMON, GENERATORS, Generator

__all__ = [
    "ANCHORED",
    "COMMON",
    "GENERATORS",
    "RUSHED_MIN_S",
    "VISIBLE_FROM",
    "Fault",
    "Generator",
    "foot_skating",
    "generate",
    "load_position",
    "observe",
]
