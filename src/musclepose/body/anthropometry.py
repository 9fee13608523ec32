"""Segment lengths and body-segment inertial parameters (BSIP).

Inertial parameters: Dumas R, Chèze L, Verriest J-P (2007) "Adjustments to McConville et
al. and Young et al. body segment inertial parameters", *J Biomech* 40:543-553, Table 2
(male and female): mass as % of body mass, centre of mass as % of segment length in the
segment coordinate system (SCS), and radii of gyration as % of segment length for the full
tensor, products of inertia with their signs (the paper's "i" = negative). The values below
are for the right side; the left side mirrors Z (CoM z and the xz, yz products change sign).
Dumas' SCS are ISB-like (X anterior, Y proximal, Z right) with the origin at the proximal
joint centre, which is also this project's segment frame (see :mod:`.skeleton`); the
pelvis is the exception (Dumas' origin is the lumbar joint centre, ours the hip midpoint),
handled by a translation.

Three segments of our skeleton are not in Dumas' table and are derived from it (lumbar and
thorax split the torso, :data:`DE_LEVA_TRUNK`; the scapula/clavicle complex,
:data:`SCAPULA_MASS_FRACTION`). Tensors that violate the triangle inequality of principal
moments are corrected with :func:`make_physical` (Dumas' female torso). Segment masses are
renormalised to sum to exactly the body mass (Dumas' male percentages sum to 100.2 %).

Segment lengths for ``Body.standard`` are stature fractions from Winter, *Biomechanics and
Motor Control of Human Movement*, 4th ed. (2009), Fig. 4.1 (after Drillis & Contini 1966),
with the joint-centre definitions Dumas uses; see ``STATURE_FRACTIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "DUMAS_2007",
    "DumasSegment",
    "SCAPULA_MASS_FRACTION",
    "STATURE_FRACTIONS",
    "inertia_from_radii",
    "standard_lengths",
]


@dataclass(frozen=True)
class DumasSegment:
    """One row of Dumas et al. (2007) Table 2 (right side)."""

    mass_pct: float
    com_pct: tuple[float, float, float]  # x, y, z in % of segment length
    radii_pct: tuple[float, float, float, float, float, float]  # xx, yy, zz, xy, xz, yz (signed)


# Rows: head & neck, torso, arm, forearm, hand, pelvis, thigh, leg, foot (right side).
DUMAS_2007: dict[str, dict[str, DumasSegment]] = {
    "male": {
        "head": DumasSegment(6.7, (-6.2, 55.5, 0.1), (31, 25, 33, -9, -2, 3)),
        "torso": DumasSegment(33.3, (-3.6, -42.0, -0.2), (27, 25, 28, 18, 2, -4)),
        "arm": DumasSegment(2.4, (1.7, -45.2, -2.6), (31, 14, 32, 6, 5, 2)),
        "forearm": DumasSegment(1.7, (1.0, -41.7, 1.4), (28, 11, 27, 3, 2, -8)),
        "hand": DumasSegment(0.6, (3.5, -35.7, 3.2), (26, 16, 24, 9, 7, -8)),
        "pelvis": DumasSegment(14.2, (2.8, -28.0, -0.6), (101, 106, 95, -25, -12, -8)),
        "thigh": DumasSegment(12.3, (-4.1, -42.9, 3.3), (29, 15, 30, 7, -2, -7)),
        "leg": DumasSegment(4.8, (-4.8, -41.0, 0.7), (28, 10, 28, -4, -2, 5)),
        "foot": DumasSegment(1.2, (43.6, -2.5, -0.7), (11, 25, 25, 9, -6, 0)),
    },
    "female": {
        "head": DumasSegment(6.7, (-7.0, 59.7, 0.0), (32, 27, 34, -6, 1, -1)),
        "torso": DumasSegment(30.4, (-1.6, -43.6, -0.6), (29, 27, 29, 22, 5, -5)),
        "arm": DumasSegment(2.2, (-7.3, -45.4, -2.8), (33, 17, 33, 3, -5, -14)),
        "forearm": DumasSegment(1.3, (2.1, -41.1, 1.9), (26, 14, 25, 10, 4, -13)),
        "hand": DumasSegment(0.5, (3.3, -32.7, 2.1), (27, 18, 25, 12, 10, -12)),
        "pelvis": DumasSegment(14.6, (-0.9, -23.2, 0.2), (91, 100, 79, -34, -1, -1)),
        "thigh": DumasSegment(14.6, (-7.7, -37.7, 0.9), (31, 19, 32, 7, -2, -7)),
        "leg": DumasSegment(4.5, (-4.9, -40.4, 3.1), (28, 10, 28, 2, 1, 6)),
        "foot": DumasSegment(1.0, (44.3, 4.4, -2.5), (12, 25, 25, -7, 5, -3)),
    },
}

#: Lumbar and thorax split Dumas' torso (cervical to lumbar joint centre): the mass in the ratio
#: of de Leva (1996, *J Biomech* 29:1223-1230, Table 4) trunk sub-segment masses (% body mass:
#: middle trunk, upper trunk); each part's CoM keeps the torso's relative position along its own
#: length, and its inertia uses the torso's radii of gyration relative to its own length.
DE_LEVA_TRUNK = {"male": (16.33, 15.96), "female": (14.65, 15.45)}
#: The scapula/clavicle complex's share of body mass, taken from the thorax part (the clavicle
#: and scapula weigh about 0.5 % of body mass, Clarys & Marfell-Jones 1986); its inertia is that
#: of a slender rod along Z.
SCAPULA_MASS_FRACTION = 0.005
LUMBAR_LENGTH_FRACTION = 0.4  # of the torso (lumbar joint centre to cervical joint centre)

# Stature fractions (Winter 2009, Fig. 4.1; Dumas 2007 for the joint-centre-based lengths
# that Winter does not give: pelvis 94/1770, hand 80/1770, head & neck 278/1770).
STATURE_FRACTIONS: dict[str, float] = {
    "ankle_height": 0.039,  # ankle joint centre above the floor
    "shank": 0.246,  # knee (0.285) to ankle (0.039)
    "thigh": 0.245,  # hip (0.530) to knee (0.285)
    "pelvis": 0.053,  # hip-joint-centre line to lumbar joint centre (L5/S1)
    "hip_width": 0.098,  # distance between the hip joint centres (Bell et al. 1990)
    "torso": 0.262,  # lumbar joint centre (0.583) to cervical joint centre C7/T1 (0.845)
    "head": 0.155,  # cervical joint centre to vertex
    "clavicle_drop": 0.030,  # sternoclavicular joint below the cervical joint centre
    "clavicle_forward": 0.035,  # sternoclavicular joint anterior to the cervical joint centre
    "shoulder_width": 0.220,  # distance between shoulder joint centres (biacromial 0.259)
    "shoulder_drop": 0.055,  # shoulder joint centre (0.790) below the cervical joint centre
    "upperarm": 0.160,  # shoulder (0.790) to elbow (0.630)
    "forearm": 0.145,  # elbow (0.630) to wrist (0.485)
    "hand": 0.045,  # wrist to the 3rd metacarpal head (Dumas' hand length)
    "hand_full": 0.108,  # wrist to fingertip
    "foot": 0.100,  # ankle joint centre to the metatarsal heads (horizontal)
    "foot_full": 0.152,  # heel to toe tip
    "heel_back": 0.035,  # heel behind the ankle joint centre
}


def standard_lengths(height_m: float) -> dict[str, float]:
    """Segment lengths (m) of a body of stature ``height_m`` from ``STATURE_FRACTIONS``."""
    return {k: v * height_m for k, v in STATURE_FRACTIONS.items()}


def inertia_from_radii(mass: float, length: float, radii_pct) -> np.ndarray:
    """Inertia tensor (kg m^2) about the CoM from Dumas' signed radii of gyration (% length).

    Each tensor entry is ``sign(r) * (r/100 * length)**2 * mass`` (Dumas 2007, Eq. 1).
    """
    xx, yy, zz, xy, xz, yz = (np.sign(r) * (abs(r) / 100.0 * length) ** 2 * mass for r in radii_pct)
    return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]], dtype=np.float64)


def make_physical(inertia: np.ndarray) -> tuple[np.ndarray, bool]:
    """Nearest physically consistent tensor: principal moments obeying the triangle inequality.

    A rigid body's principal moments satisfy ``I1 + I2 >= I3``. A few published tensors do not
    (Dumas 2007's female torso: radii 29, 27, 29 with a 22 % xy product gives principal moments
    0.030, 0.084, 0.127 x m L^2), and MuJoCo rightly refuses them. Keeping the principal axes,
    the two smaller moments are raised by half the deficit each. Returns ``(tensor, changed)``.
    """
    p, v = np.linalg.eigh(inertia)
    deficit = p[2] - p[0] - p[1]
    if deficit <= 0:
        return inertia, False
    p = p + np.array([0.5, 0.5, 0.0]) * deficit * (1 + 1e-9)
    return (v * p) @ v.T, True


def mirror_left(com: np.ndarray, inertia: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reflect a right-side CoM and inertia tensor across the sagittal (XY) plane."""
    s = np.diag([1.0, 1.0, -1.0])
    return s @ com, s @ inertia @ s
