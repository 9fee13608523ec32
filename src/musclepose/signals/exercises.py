"""Per-exercise analysis settings: which channel carries the repetitions and which way is eccentric.

``primary`` is the channel of :mod:`.channels` whose excursions are the repetitions;
``eccentric_first`` says whether the movement away from the resting position lowers the body
or load (squat: the resting position is standing, the first movement is the descent) or
raises it (overhead press: resting in the rack, the first movement is the press). Cyclic
movements (jumping jacks) have no eccentric/concentric meaning; they are labelled as if
eccentric-first. Names are normalised by :func:`normalise_exercise` (lower case, spaces and
hyphens to underscores, common aliases).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["EXERCISES", "ExerciseSpec", "exercise_spec", "infer_eccentric_first", "normalise_exercise"]


@dataclass(frozen=True)
class ExerciseSpec:
    """Analysis settings of one exercise."""

    primary: str
    eccentric_first: bool
    cyclic: bool = False


EXERCISES: dict[str, ExerciseSpec] = {
    "squat": ExerciseSpec("legs_trajectory", True),
    "front_squat": ExerciseSpec("legs_trajectory", True),
    "lunge": ExerciseSpec("legs_trajectory", True),
    "split_squat": ExerciseSpec("legs_trajectory", True),
    "deadlift": ExerciseSpec("trajectory", False),
    "romanian_deadlift": ExerciseSpec("trajectory", True),
    "good_morning": ExerciseSpec("back_trajectory", True),
    "overhead_press": ExerciseSpec("trajectory", False),
    "bench_press": ExerciseSpec("trajectory", True),
    "push_up": ExerciseSpec("arm_Trajectory", True),
    "pull_up": ExerciseSpec("legs_trajectory", False),
    "row": ExerciseSpec("arm_Trajectory", False),
    "bicep_curl": ExerciseSpec("arm_Trajectory", False),
    "lateral_raise": ExerciseSpec("shoulder_trajectory", False),
    "front_raise": ExerciseSpec("shoulder_trajectory", False),
    "sit_up": ExerciseSpec("core_", False),
    "jumping_jack": ExerciseSpec("trajectory", True, cyclic=True),
}

_ALIASES = {
    "squats": "squat",
    "bodyweight_squat": "squat",
    "air_squat": "squat",
    "back_squat": "squat",
    "lunges": "lunge",
    "ohp": "overhead_press",
    "shoulder_press": "overhead_press",
    "military_press": "overhead_press",
    "bench": "bench_press",
    "pushup": "push_up",
    "push_ups": "push_up",
    "pushups": "push_up",
    "press_up": "push_up",
    "pullup": "pull_up",
    "pull_ups": "pull_up",
    "chin_up": "pull_up",
    "curl": "bicep_curl",
    "biceps_curl": "bicep_curl",
    "rdl": "romanian_deadlift",
    "situp": "sit_up",
    "jumping_jacks": "jumping_jack",
    "jumpjack": "jumping_jack",
    "star_jump": "jumping_jack",
}


def normalise_exercise(name: str) -> str:
    """Canonical exercise key: lower case, underscores, aliases resolved (unknown names pass through)."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    return _ALIASES.get(key, key)


def exercise_spec(name: str | None) -> ExerciseSpec | None:
    """Settings of a known exercise, ``None`` for ``None`` or an unknown name."""
    if name is None:
        return None
    return EXERCISES.get(normalise_exercise(name))


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
