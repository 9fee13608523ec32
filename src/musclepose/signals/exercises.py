"""The analysis settings of an exercise, read from the catalogue: which channel carries the
repetitions and which way is eccentric, and how to infer the direction when it is not known.

``eccentric_first`` says whether the movement away from the resting position lowers the body
or load (squat: standing at rest, the first movement is the descent) or raises it (overhead
press). Cyclic movements (jumping jacks) are labelled as if eccentric-first.
"""

from __future__ import annotations

import numpy as np

from ..catalogue import Exercise, exercise, normalise_exercise

__all__ = ["exercise_spec", "infer_eccentric_first", "normalise_exercise"]


def exercise_spec(name: str | None) -> Exercise | None:
    """The catalogue entry of a known exercise, ``None`` for ``None`` or an unknown name."""
    return exercise(name)


def infer_eccentric_first(
    heights: dict[str, np.ndarray], primary: str | None, polarity: int, reps: list[tuple[int, int, int]]
) -> bool:
    """Whether the movement away from rest lowers the body or load, from the height channels.

    ``heights`` holds ``trajectory`` (hands) and/or ``legs_trajectory`` (hips) in metres. A
    height primary answers directly (its excursion goes down: eccentric first). Otherwise the
    height that moves most between each repetition's start and extreme is taken as the load
    and eccentric-first means it goes down. Without heights or repetitions: ``True``.
    """
    if primary in ("trajectory", "legs_trajectory"):
        return polarity < 0
    if not heights or not reps:
        return True
    changes = {name: float(np.mean([h[p] - h[s] for s, p, _ in reps])) for name, h in heights.items() if h is not None}
    if not changes:
        return True
    load = max(changes, key=lambda k: abs(changes[k]))
    return changes[load] <= 0
