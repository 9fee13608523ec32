"""Where simulated IMUs sit on the body: a site is a point and sensor axes on a segment.

A site's ``rotation`` has the sensor axes as its columns, expressed in the segment frame
(:mod:`musclepose.body.skeleton`: X anterior, Y superior, Z to the subject's right); its
position is in metres. Placement presets (:data:`IMU_PRESETS`) scale with the body's
segment lengths; :func:`perturb_sites` draws placement errors (domain randomisation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from ...body import Body
from ...body.rotations import axis_angle_to_matrix
from .seeding import torch_generator

__all__ = ["IMU_LAYOUTS", "IMU_PRESETS", "IMUSite", "imu_site", "imu_sites", "perturb_sites"]


@dataclass(frozen=True)
class IMUSite:
    """Where an IMU sits on the body.

    Attributes
    ----------
    name : str
        Sensor name (``"phone_torso"``).
    segment : str
        Segment it is attached to (``body.segment_names``).
    position : (3,) tuple of float
        Sensor origin in the segment frame (m).
    rotation : 3x3 tuple
        Sensor axes as columns, in the segment frame (orthonormal, right-handed).
    """

    name: str
    segment: str
    position: tuple[float, float, float]
    rotation: tuple[tuple[float, float, float], ...] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))

    def __post_init__(self) -> None:
        r = np.asarray(self.rotation, dtype=np.float64)
        p = np.asarray(self.position, dtype=np.float64)
        if r.shape != (3, 3) or p.shape != (3,):
            raise ValueError(f"IMUSite {self.name!r}: position must be (3,) and rotation (3, 3)")
        if not np.allclose(r.T @ r, np.eye(3), atol=1e-6) or np.linalg.det(r) < 0:
            raise ValueError(f"IMUSite {self.name!r}: rotation is not a proper rotation matrix")

    @classmethod
    def from_axes(cls, name: str, segment: str, position: Sequence[float], x_axis, y_axis) -> IMUSite:
        """A site whose sensor x and y axes point along ``x_axis`` and ``y_axis`` (segment frame)."""
        x = np.asarray(x_axis, dtype=np.float64)
        x = x / np.linalg.norm(x)
        y = np.asarray(y_axis, dtype=np.float64)
        y = y - x * (x @ y)
        y = y / np.linalg.norm(y)
        r = np.stack([x, y, np.cross(x, y)], axis=1)
        return cls(name, segment, tuple(float(v) for v in position), tuple(tuple(float(v) for v in row) for row in r))

    @property
    def rotation_matrix(self) -> np.ndarray:
        return np.asarray(self.rotation, dtype=np.float64)


_X, _Y, _Z = np.eye(3)


def _presets() -> dict[str, Any]:
    """name -> function(body) -> IMUSite; positions from segment lengths so they scale."""

    def phone_torso(b: Body) -> IMUSite:
        # Portrait, screen facing forward on the sternum (a chest strap): Android axes, x to
        # the screen's right (the subject's left), y up the screen, z out of the screen.
        seg, p = b.landmarks["STRN"]
        pos = p + np.array([0.015, 0.0, 0.0])
        return IMUSite.from_axes("phone_torso", b.segment_names[seg], pos, -_Z, _Y)

    def phone_pocket_r(b: Body) -> IMUSite:
        # Front trouser pocket, upright, screen facing the thigh: z points into the thigh.
        lt = b.lengths["thigh"]
        return IMUSite.from_axes("phone_pocket_r", "thigh_r", (0.17 * lt, -0.25 * lt, 0.10 * lt), _Z, _Y)

    def watch(side: str):
        def make(b: Body) -> IMUSite:
            # Dorsal wrist, just proximal to the wrist joint. Worn on the left the watch's
            # x (3 o'clock) points to the hand, y (12 o'clock) to the ulnar side, z out of
            # the face; mirrored on the right. Anatomical position: dorsum = -X.
            lf = b.lengths["forearm"]
            m = 1.0 if side == "l" else -1.0
            name = "watch_left" if side == "l" else "watch_right"
            return IMUSite.from_axes(name, f"forearm_{side}", (-0.08 * lf, -0.92 * lf, 0.0), -_Y, m * _Z)

        return make

    def foot(side: str):
        def make(b: Body) -> IMUSite:
            # On the instep (shoe dorsum), gaitmap's foot sensor frame: x forward, y to the
            # left, z up.
            L = b.lengths
            return IMUSite.from_axes(
                f"foot_{side}", f"foot_{side}", (0.5 * L["foot"], -0.15 * L["ankle_height"], 0.0), _X, -_Z
            )

        return make

    def sacrum(b: Body) -> IMUSite:
        # Between the posterior superior iliac spines, on the skin: segment-aligned axes.
        seg, p = b.landmarks["RPSI"]
        return IMUSite("sacrum", b.segment_names[seg], (p[0] - 0.01, p[1] - 0.02, 0.0))

    def thigh(side: str):
        def make(b: Body) -> IMUSite:
            lt = b.lengths["thigh"]
            m = 1.0 if side == "r" else -1.0
            return IMUSite(f"thigh_{side}", f"thigh_{side}", (0.0, -0.5 * lt, m * 0.20 * lt))

        return make

    def shank(side: str):
        def make(b: Body) -> IMUSite:
            # On the flat anteromedial surface of the tibia.
            ls = b.lengths["shank"]
            m = 1.0 if side == "r" else -1.0
            return IMUSite(f"shank_{side}", f"shank_{side}", (0.10 * ls, -0.40 * ls, -m * 0.05 * ls))

        return make

    def head(b: Body) -> IMUSite:
        # A headband sensor on the forehead, midway between the front head markers: axes along
        # the head's (x forward, y up, z right), as Xsens/TransPose strap it.
        seg, p = b.landmarks["LFHD"]
        _, pr = b.landmarks["RFHD"]
        return IMUSite("head", b.segment_names[seg], tuple(float(v) for v in 0.5 * (p + pr)))

    def knee(side: str):
        def make(b: Body) -> IMUSite:
            # TransPose/DIP's "knee" sensors: strapped to the front of the shank just below the
            # knee (tibial tuberosity), segment-aligned axes.
            ls = b.lengths["shank"]
            m = 1.0 if side == "r" else -1.0
            return IMUSite(f"knee_{side}", f"shank_{side}", (0.06 * ls, -0.15 * ls, -m * 0.02 * ls))

        return make

    return {
        "head": head,
        "knee_r": knee("r"),
        "knee_l": knee("l"),
        "phone_torso": phone_torso,
        "phone_pocket_r": phone_pocket_r,
        "watch_left": watch("l"),
        "watch_right": watch("r"),
        "sacrum": sacrum,
        "thigh_r": thigh("r"),
        "thigh_l": thigh("l"),
        "shank_r": shank("r"),
        "shank_l": shank("l"),
        "foot_r": foot("r"),
        "foot_l": foot("l"),
    }


_PRESETS = _presets()
IMU_PRESETS: tuple[str, ...] = tuple(_PRESETS)
"""Names of the placement presets accepted by :func:`imu_site` and :func:`imu_sites`."""


#: Named sensor layouts (preset names): the six Xsens sensors of TransPose/PIP/DIP-IMU (pelvis,
#: head, both wrists, both knees) and a phone in the right front pocket with a watch on the left wrist.
IMU_LAYOUTS: dict[str, tuple[str, ...]] = {
    "six": ("sacrum", "head", "watch_left", "watch_right", "knee_l", "knee_r"),
    "phone-watch": ("phone_pocket_r", "watch_left"),
}


def imu_site(body: Body, name: str) -> IMUSite:
    """The preset site ``name`` (one of :data:`IMU_PRESETS`) on ``body``."""
    try:
        return _PRESETS[name](body)
    except KeyError:
        raise KeyError(f"unknown IMU preset {name!r}; known: {IMU_PRESETS}") from None


def imu_sites(body: Body, names: Sequence[str] = ("phone_torso", "watch_left")) -> tuple[IMUSite, ...]:
    """Preset sites by name (default: the seed's phone on the torso and watch on the left wrist)."""
    return tuple(imu_site(body, n) for n in names)


def perturb_sites(
    sites: Sequence[IMUSite],
    generator: torch.Generator | int | None = None,
    position_m: float = 0.05,
    angle_deg: float = 15.0,
) -> tuple[IMUSite, ...]:
    """Randomised placement: each site moved and tilted by Gaussian errors.

    The displacement is isotropic with RMS length ``position_m``; the rotation is an
    axis-angle vector, applied in the sensor frame, with RMS angle ``angle_deg`` (each
    component's standard deviation is the RMS over ``sqrt(3)``). Defaults: the seed's
    domain randomisation (5 cm, 15 deg).
    """
    g = torch_generator(generator)
    n = len(sites)
    dp = torch.randn((n, 3), generator=g, dtype=torch.float64) * (position_m / math.sqrt(3.0))
    aa = torch.randn((n, 3), generator=g, dtype=torch.float64) * (math.radians(angle_deg) / math.sqrt(3.0))
    dr = axis_angle_to_matrix(aa).numpy()
    out = []
    for k, s in enumerate(sites):
        r = s.rotation_matrix @ dr[k]
        out.append(
            replace(
                s,
                position=tuple(float(v) for v in np.asarray(s.position) + dp[k].numpy()),
                rotation=tuple(tuple(float(v) for v in row) for row in r),
            )
        )
    return tuple(out)
