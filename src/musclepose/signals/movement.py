"""Does a recording show the exercise it is said to be? Flight phases and box starts read from the feet.

A squat has no flight phase and starts on the floor; a drop jump starts on a box and has one. If
a recording is analysed as an exercise whose catalogue entry (``Exercise.flight``) says otherwise,
screening it for that exercise's faults would report a box height as a heel lift (43 cm) or a
flight as a shift of weight: :func:`check_movement` says so, and the analysis then treats the
recording as an unknown movement (repetitions and kinetics, no faults). Legs that alternate
(:func:`leg_alternation_per_s`) say the same of a walk or a run said to be an exercise done on the
spot. Feet from
:func:`musclepose.body.contact.foot_contact` (Y-up, floor from the lowest sole points), against a
moving floor where the recording is on a treadmill or, as OpenSim's gait examples are, in a frame
that travels with the pelvis (``floor_velocity="auto"``): against a static floor the stance foot of
such a walk slides at the walking speed and reads as lifted, which made 8 "flights" of
``subject01_walk_IK.mot`` (both feet off in 139 of its 151 frames; none against the belt).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..body.contact import foot_contact_summary
from ..catalogue import exercise as catalogue_exercise
from ..motion.differentiate import central_velocity
from ..motion.quality import intervals

__all__ = ["MovementCheck", "check_movement", "flight_share", "leg_alternation_per_s"]

#: Shortest time (s) with both feet off the floor that counts as a flight (a hop's flight lasts
#: 0.1-0.4 s; contact-weight noise lasts a frame or two).
MIN_FLIGHT_S = 0.05
#: A start with both feet at rest this far (m) above the floor, for at least MIN_BOX_S, is a box.
MIN_BOX_M = 0.10
MIN_BOX_S = 0.3
#: Legs that alternate (the hip flexion difference right - left, beyond +-ALTERNATION_DEG, changes
#: sign at least 3 times and this often a second) walk or run: 1.1-2.1/s on the real walks here,
#: 0.19/s in the engine's alternating lunges. The same rule as
#: :func:`musclepose.pipelines.recognize.locomotion`, which recognises locomotion when no exercise is
#: given; here it tells a walk from the exercise it is said to be (a treadmill walk has no flight).
ALTERNATION_PER_S = 0.8
ALTERNATION_DEG = 10.0


@dataclass(frozen=True)
class MovementCheck:
    """What the feet show (``flights``: ``(start, end)`` frames with both feet off the floor;
    ``box_m``: the height of a box the recording starts on, or None), and whether that fits the
    ``exercise`` (``matches``: None when no exercise was given or it is not in the catalogue),
    with ``reasons`` in words."""

    exercise: str | None
    matches: bool | None
    flights: list[tuple[int, int]] = field(default_factory=list)
    box_m: float | None = None
    reasons: list[str] = field(default_factory=list)

    def to_dict(self, fps: float) -> dict[str, Any]:
        return {
            "exercise": self.exercise,
            "matches": self.matches,
            "flights_s": [[a / fps, b / fps] for a, b in self.flights],
            "box_height_m": self.box_m,
            "reasons": list(self.reasons),
        }


def _feet(motion: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contact weight ``(T, 2)``, lowest sole point height above the floor ``(T, 2)`` and its speed
    relative to the floor (a belt's where the stance feet move together, module docstring)."""
    q = motion.q.detach().to(torch.float64).cpu()
    with torch.no_grad():  # foot_contact's numbers, in blocks (long recordings)
        fps = float(motion.fps)
        weight, height, speed = foot_contact_summary(motion.body, q, lambda x: central_velocity(x, fps),
                                                     floor_velocity="auto")  # fmt: skip
    return weight.numpy(), height.numpy(), speed.numpy()


def flight_share(motion: Any) -> float:
    """Share of frames with both feet off the floor (contact weight under 0.5 on each)."""
    weight, _, _ = _feet(motion)
    return float((weight < 0.5).all(1).mean()) if len(weight) else 0.0


def leg_alternation_per_s(motion: Any) -> float:
    """Sign changes a second of the right - left hip flexion difference beyond +-ALTERNATION_DEG
    (0 with fewer than 3), about the difference's median (a stance or marker offset)."""
    diff = np.degrees(
        motion.dof("hip_flexion_r").detach().cpu().numpy() - motion.dof("hip_flexion_l").detach().cpu().numpy()
    )
    diff = diff - np.median(diff)
    signs = np.sign(diff[np.abs(diff) > ALTERNATION_DEG])
    changes = int((np.diff(signs) != 0).sum())
    seconds = motion.n_frames / float(motion.fps)
    return changes / seconds if changes >= 3 and seconds > 0 else 0.0


def check_movement(motion: Any, exercise: str | None) -> MovementCheck:
    """Flight phases and a box start in ``motion``, and whether they fit ``exercise`` (module docstring)."""
    fps = float(motion.fps)
    weight, height, speed = _feet(motion)
    off = (weight < 0.5).all(1)
    flights = [(a, b) for a, b in intervals(off) if (b - a + 1) / fps >= MIN_FLIGHT_S]
    box = None
    # Both feet at rest and level, well above the floor, from the first frame on.
    rest = (speed < 0.1).all(1) & (height.min(1) > MIN_BOX_M) & (np.abs(height[:, 0] - height[:, 1]) < 0.05)
    spans = intervals(rest)
    if spans and spans[0][0] <= int(round(0.5 * fps)) and (spans[0][1] - spans[0][0] + 1) / fps >= MIN_BOX_S:
        a, b = spans[0]
        box = float(np.median(height[a : b + 1].min(1)))
    ex = catalogue_exercise(exercise) if exercise else None
    if ex is None:
        return MovementCheck(exercise, None, flights, box)
    reasons = []
    if flights and not ex.flight:
        a, b = flights[0]
        more = f" (and {len(flights) - 1} more)" if len(flights) > 1 else ""
        reasons.append(
            f"both feet leave the floor at {a / fps:.2f}-{b / fps:.2f} s{more}: a {ex.name} has no flight phase"
        )
    if box is not None and not ex.flight:
        reasons.append(f"it starts on a box {100 * box:.0f} cm high")
    if ex.flight and not flights:
        reasons.append(f"the feet never leave the floor: a {ex.name} has a flight phase")
    alternation = leg_alternation_per_s(motion) if ex.name != "run" else 0.0
    if alternation >= ALTERNATION_PER_S:
        reasons.append(f"the legs alternate {alternation:.1f} times a second: walking or running, not a {ex.name}")
    return MovementCheck(ex.name, not reasons, flights, box, reasons)
