"""Points on the body where it touches the ground or holds a load, in segment frames (m).

The sole points lie on the floor when the body stands in its neutral pose (the ankle joint
centre is ``ankle_height`` above it): the heel under the calcaneus, the ball under the first
metatarsal head (``foot`` is the ankle-to-metatarsal-head length, see :mod:`.anthropometry`).
The knuckles are a fist's metacarpophalangeal joints, ``hand`` beyond the wrist; the seat point the
ischial tuberosities, in the pelvis frame. A high-bar back squat's bar sits on the upper
trapezius, about 5 cm below and 3 cm behind C7.
"""

from __future__ import annotations

import numpy as np

from .model import Body

__all__ = ["CONTACT_POINTS", "back_bar_point_local", "contact_point_local"]

CONTACT_POINTS = {
    "heel": lambda L: (-L["heel_back"], -L["ankle_height"], 0.0),
    "ball": lambda L: (L["foot"], -L["ankle_height"], 0.0),
    "knuckles": lambda L: (0.0, -L["hand"], 0.0),
    "grip": lambda L: (0.02, -L["hand"], 0.0),
    # The ischial tuberosities, on which a seated person rests: about 9 cm below and 3 cm behind the
    # hip joint centres of an adult (the synthetic sit-to-stand's seat, musclepose.sim.exercises.lower).
    "seat": lambda L: (-0.03, -0.09 * L["thigh"] / 0.43, 0.0),
}


def contact_point_local(body: Body, kind: str) -> np.ndarray:
    """A contact point (``"heel"``, ``"ball"``, ``"knuckles"``, ``"grip"``, ``"seat"``) in its segment frame (m)."""
    return np.asarray(CONTACT_POINTS[kind](body.lengths), dtype=np.float64)


def back_bar_point_local(body: Body) -> np.ndarray:
    """Where a back-squat bar sits, in the thorax frame (m)."""
    _, c7 = body.landmarks["C7"]
    return np.asarray(c7) + np.array([-0.03, -0.05, 0.0])
