"""Simulated inertial sensors: exact IMU signals from body kinematics, then a device error model.

Two separate steps, so that one noise-free simulation can be corrupted many times:

1. :func:`simulate_imu` (or :func:`imu_from_motion`) computes what an ideal IMU rigidly
   attached at a site measures, exactly, from ``q``, ``qd`` and ``qdd`` (no finite
   differences of positions):

   - gyroscope: angular velocity of the sensor, in the sensor frame (rad/s);
   - accelerometer: specific force ``f = R^T (a - g)`` in the sensor frame (m/s^2), so a
     sensor at rest reads ``+9.81`` along the world's up axis (MuJoCo's convention too);
   - magnetometer (optional): a constant Earth field in the world rotated into the sensor
     frame, ``R^T m`` (microtesla).

   ``R`` is the sensor-to-world rotation and ``a`` the acceleration of the sensor's origin.
   Without gradients (data generation), each segment's angular velocity ``w``, angular
   acceleration ``alpha`` and specific force at its origin come from the outward recursion
   of the inverse dynamics (:func:`~musclepose.body.segment_motion`, in the segment's frame),
   and a site at ``p`` reads ``f0 + alpha x p + w x (w x p)``. When an input requires grad,
   the time derivatives of the segment poses come instead from forward-mode automatic
   differentiation of the forward kinematics: with ``P(q)`` the poses, ``dP/dt = J(q) qd``
   and ``d2P/dt2 = (dJ(q)/dq . qd) qd + J(q) qdd`` are one nested ``torch.func.jvp``
   (tangents ``qd`` then ``(qd, qdd)``). Both paths equal MuJoCo's sensors (tests).

2. :func:`corrupt_imu` applies a device's errors with a seeded generator, in the order a
   sensor produces them (Groves 2013, *Principles of GNSS, Inertial, and Multisensor
   Integrated Navigation Systems*, 2nd ed., sec. 4.4.6, eq. 4.16):
   ``y = b(t) + (I + M) x + w``, then saturation at the full-scale range, optional
   quantisation to the least significant bit, and dropped samples. ``M`` holds the scale
   factor errors on its diagonal and the axis misalignment (cross-coupling) off it;
   ``b(t)`` is a constant turn-on bias plus a random walk; ``w`` is white noise whose
   per-sample standard deviation is the noise density times ``sqrt(fs)`` (the sample
   average of continuous white noise over ``1/fs``; Woodman 2007, *An introduction to
   inertial navigation*, Cambridge UCAM-CL-TR-696, sec. 4.2.1; IEEE Std 952-1997 Allan
   variance: ``sigma(tau) = N / sqrt(tau)``).

Conventions: Y-up world, SI units (magnetometer in microtesla), gravity (0, -9.81, 0).
Signals are ``(..., T, S, 3)`` for ``S`` sites and any leading batch shape, float32 or
float64, differentiable with respect to ``q``, ``qd``, ``qdd`` (step 1). A site's
``rotation`` has the sensor axes as its columns, expressed in the segment frame (see
:mod:`musclepose.body.skeleton`: X anterior, Y superior, Z to the subject's right).

Placement presets (:data:`IMU_PRESETS`) scale with the body's segment lengths. The phone
and watch device numbers (:data:`PHONE`, :data:`WATCH`) are those of the QuantumLeap Pose
Engine seed (100 Hz; phone on the torso, watch on the left forearm), the randomisation
defaults (:class:`IMUErrors`) its domain randomisation.
"""

from __future__ import annotations

import math
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from scipy.interpolate import CubicSpline
from torch.func import jvp

from ..body import GRAVITY, Body, segment_motion
from ..body.kinematics import segment_poses
from ..body.rotations import axis_angle_to_matrix
from ..motion import Motion

__all__ = [
    "EARTH_FIELD_UT",
    "IMU_PRESETS",
    "PHONE",
    "STANDARD_GRAVITY",
    "WATCH",
    "IMUErrors",
    "IMUSignals",
    "IMUSite",
    "IMUSpec",
    "corrupt_imu",
    "default_spec",
    "imu_from_motion",
    "imu_site",
    "imu_sites",
    "mjcf_with_imus",
    "perturb_sites",
    "simulate_imu",
]

STANDARD_GRAVITY = 9.80665  # m/s^2, the "g" of datasheets (CGPM 1901)

# Earth's field with magnetic north along world +X: horizontal 20 uT, vertical 44 uT
# downwards (total 48 uT, inclination 65 deg), typical of mid-northern latitudes in the
# World Magnetic Model 2020 (NOAA NCEI / BGS).
EARTH_FIELD_UT: tuple[float, float, float] = (20.0, -44.0, 0.0)

# The bias random walk is scaled so that the bias wanders by about its instability figure
# over this time, where consumer MEMS Allan deviation curves reach their floor.
_BIAS_WALK_TIME_S = 100.0


# --------------------------------------------------------------------------- sites
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

    return {
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
    g = _generator(generator)
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


# --------------------------------------------------------------------------- exact signals
@dataclass(frozen=True)
class IMUSignals:
    """IMU signals of ``S`` sensors over ``T`` frames (any leading batch shape).

    Attributes
    ----------
    names : tuple of str
        Sensor names, ``S`` of them.
    acc : torch.Tensor, (..., T, S, 3)
        Specific force in the sensor frame, m/s^2 (``+9.81`` up at rest).
    gyro : torch.Tensor, (..., T, S, 3)
        Angular velocity in the sensor frame, rad/s.
    mag : torch.Tensor or None, (..., T, S, 3)
        Magnetic field in the sensor frame, microtesla.
    rotation : torch.Tensor, (..., T, S, 3, 3)
        True sensor-to-world rotation (columns: sensor axes in the world).
    position : torch.Tensor, (..., T, S, 3)
        True sensor origin in the world, m.
    fps : float or None
        Sampling rate, Hz (needed by :func:`corrupt_imu`).
    valid : torch.Tensor or None, (..., T, S) bool
        False where a sample was dropped (after :func:`corrupt_imu`).
    metadata : dict
        What produced the signals (device, seed, error parameters drawn).
    """

    names: tuple[str, ...]
    acc: torch.Tensor
    gyro: torch.Tensor
    mag: torch.Tensor | None
    rotation: torch.Tensor
    position: torch.Tensor
    fps: float | None = None
    valid: torch.Tensor | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def sensor(self, name: str) -> dict[str, torch.Tensor]:
        """One sensor's ``acc``, ``gyro`` (and ``mag``) as ``(..., T, 3)``."""
        try:
            k = self.names.index(name)
        except ValueError:
            raise KeyError(f"no sensor {name!r}; sensors: {self.names}") from None
        out = {"acc": self.acc[..., k, :], "gyro": self.gyro[..., k, :]}
        if self.mag is not None:
            out["mag"] = self.mag[..., k, :]
        return out

    def to_imu_data(self):
        """The unbatched signals as :class:`musclepose.io.imu.IMUData` (numpy, SI, at the I/O edge)."""
        from ..io.imu import IMUData

        if self.acc.ndim != 3:
            raise ValueError(f"to_imu_data needs unbatched signals (T, S, 3); got {tuple(self.acc.shape)}")
        if self.fps is None:
            raise ValueError("to_imu_data needs fps")

        def np_(x):
            return {n: x[:, k].detach().cpu().numpy().astype(np.float64) for k, n in enumerate(self.names)}

        units = {"acc": "m/s^2", "gyro": "rad/s", "time": "s"}
        if self.mag is not None:
            units["mag"] = "uT"
        return IMUData(
            path=None,
            sensors=list(self.names),
            fps=float(self.fps),
            time=np.arange(self.acc.shape[0]) / float(self.fps),
            acc=np_(self.acc),
            gyro=np_(self.gyro),
            mag=None if self.mag is None else np_(self.mag),
            units=units,
            unit_source={k: "argument" for k in units},
        )


def _vee(k: torch.Tensor) -> torch.Tensor:
    """Axial vector of the skew-symmetric part of ``k (..., 3, 3)``."""
    return 0.5 * torch.stack(
        [k[..., 2, 1] - k[..., 1, 2], k[..., 0, 2] - k[..., 2, 0], k[..., 1, 0] - k[..., 0, 1]], -1
    )


def _check_states(body: Body, q, qd, qdd) -> None:
    for name, x in (("q", q), ("qd", qd), ("qdd", qdd)):
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"{name} must be a float32/float64 torch.Tensor")
        if x.shape[-1:] != (body.n_dof,):
            raise ValueError(f"{name} must have shape (..., {body.n_dof}); got {tuple(x.shape)}")
    try:
        torch.broadcast_shapes(q.shape, qd.shape, qdd.shape)
    except RuntimeError:
        raise ValueError(f"q, qd and qdd must broadcast; got {tuple(q.shape)}, {tuple(qd.shape)}, "
                         f"{tuple(qdd.shape)}") from None  # fmt: skip


def simulate_imu(
    body: Body,
    q: torch.Tensor,
    qd: torch.Tensor,
    qdd: torch.Tensor,
    sites: Sequence[IMUSite] | Sequence[str],
    *,
    gravity: Sequence[float] = GRAVITY,
    magnetic_field: Sequence[float] | None = EARTH_FIELD_UT,
    fps: float | None = None,
    fk: Any = None,
    segment_state: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
) -> IMUSignals:
    """Exact, noise-free IMU signals at ``sites`` for states ``(q, qd, qdd)`` of shape ``(..., 47)``.

    Parameters
    ----------
    body
        The body ``q`` refers to.
    q, qd, qdd
        Generalized positions, velocities, accelerations (``(..., T, 47)`` for motions;
        broadcastable, e.g. ``qd = torch.zeros(47)``).
    sites
        :class:`IMUSite` objects or preset names (:data:`IMU_PRESETS`).
    gravity
        World gravity, m/s^2 (Y-up).
    magnetic_field
        Earth field in the world (microtesla); None for no magnetometer.
    fps
        Sampling rate to record on the result (used by :func:`corrupt_imu`).
    fk, segment_state
        ``forward_kinematics(body, q)`` and ``musclepose.body.segment_motion(body, q, qd, qdd,
        gravity)`` if the caller has them already (used when no gradient is needed).

    Returns
    -------
    IMUSignals
        acc ``R^T (a - g)``, gyro ``R^T omega``, mag ``R^T m``; ``R`` sensor-to-world.
    """
    _check_states(body, q, qd, qdd)
    # Forward-mode AD needs dense inputs (an expanded view has overlapping memory).
    q, qd, qdd = (x.contiguous() for x in torch.broadcast_tensors(q, qd, qdd))
    qd, qdd = qd.to(q.dtype), qdd.to(q.dtype)
    sites = tuple(imu_site(body, s) if isinstance(s, str) else s for s in sites)
    if not sites:
        raise ValueError("no sites given")
    names = tuple(s.name for s in sites)
    if len(set(names)) != len(names):
        raise ValueError(f"sensor names must be unique; got {names}")
    kw = {"dtype": q.dtype, "device": q.device}
    seg = torch.as_tensor([body.segment_index(s.segment) for s in sites], device=q.device)
    local_p = torch.as_tensor(np.array([s.position for s in sites]), **kw)  # (S, 3)
    local_r = torch.as_tensor(np.array([s.rotation_matrix for s in sites]), **kw)  # (S, 3, 3)

    if not (torch.is_grad_enabled() and any(x.requires_grad for x in (q, qd, qdd))):
        # No gradient needed: the segments' w, alpha and a - g from the inverse dynamics' outward
        # recursion in their own frames (exact as the jvp below and ~10x cheaper), the poses from FK.
        state = segment_state if segment_state is not None else segment_motion(body, q, qd, qdd, gravity)
        w_all, al_all, f_all = (x.to(q.dtype) for x in state)
        w_seg, al, f0 = w_all[..., seg, :], al_all[..., seg, :], f_all[..., seg, :]
        rot, org = (fk.rotations, fk.origins) if fk is not None else segment_poses(body, q)
        r, o = rot[..., seg, :, :].to(q.dtype), org[..., seg, :].to(q.dtype)
        p = local_p.expand_as(w_seg)
        f_seg = (
            f0
            + torch.linalg.cross(al, p, dim=-1)
            + torch.linalg.cross(w_seg, torch.linalg.cross(w_seg, p, dim=-1), dim=-1)
        )
        acc = (local_r.transpose(-1, -2) @ f_seg[..., None])[..., 0]
        rs = r @ local_r
        position = o + (r @ local_p[..., None])[..., 0]
    else:
        acc, w_seg, rs, position = _imu_by_jvp(body, q, qd, qdd, seg, local_p, local_r, torch.as_tensor(gravity, **kw))
    gyro = (local_r.transpose(-1, -2) @ w_seg[..., None])[..., 0]
    mag = None
    if magnetic_field is not None:
        m = torch.as_tensor(magnetic_field, **kw)
        mag = rs.transpose(-1, -2) @ m
    return IMUSignals(
        names=names,
        acc=acc,
        gyro=gyro,
        mag=mag,
        rotation=rs,
        position=position,
        fps=fps,
        metadata={"source": "musclepose.sim.simulate_imu", "sites": [s.name for s in sites]},
    )


def _imu_by_jvp(body: Body, q, qd, qdd, seg, local_p, local_r, g):
    """Differentiable path of :func:`simulate_imu`: ``(acc, w_seg, sensor rotation, position)``
    by forward-mode AD of the segment poses (see the module docstring)."""
    # Fill Body.tensors' cache outside the transform: tensors created inside torch.func.jvp
    # are functorch-wrapped and must not outlive it.
    body.tensors(q.dtype, q.device)

    def pose(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        rot, org = segment_poses(body, x)
        return rot[..., seg, :, :], org[..., seg, :]

    def pose_rate(x: torch.Tensor, v: torch.Tensor):
        return jvp(pose, (x,), (v,))

    # Primal: (R, o), (Rdot, odot); tangent along (qd, qdd): (Rdot, odot), (Rddot, oddot).
    # torch's first forward-mode call scripts its JVP decompositions with the deprecated
    # torch.jit.script and warns; the warning is about torch, not about this call.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=DeprecationWarning)
        ((r, o), (rd, od)), (_, (rdd, odd)) = jvp(pose_rate, (q, qd), (qd, qdd))
    rs = r @ local_r  # sensor-to-world
    position = o + (r @ local_p[..., None])[..., 0]
    acc_world = odd + (rdd @ local_p[..., None])[..., 0]
    acc = (rs.transpose(-1, -2) @ (acc_world - g)[..., None])[..., 0]
    # Body-frame angular velocity: R^T Rdot = [w_body]x.
    return acc, _vee(r.transpose(-1, -2) @ rd), rs, position


def imu_from_motion(
    motion: Motion,
    sites: Sequence[IMUSite] | Sequence[str] = ("phone_torso", "watch_left"),
    fps: float = 100.0,
    **kwargs: Any,
) -> IMUSignals:
    """Noise-free IMU signals of a :class:`Motion`, sampled at ``fps``.

    A Motion holds only ``q``; ``q``, ``qd`` and ``qdd`` are taken from the natural cubic
    spline through its frames (the interpolant :meth:`Motion.resampled` uses), evaluated
    analytically at the IMU sample times, so the signals are the exact IMU readings of that
    spline trajectory. Filter noisy recordings first (:meth:`Motion.filtered`): a second
    derivative amplifies noise by ``fps^2``. ``kwargs`` go to :func:`simulate_imu`.
    """
    if motion.n_frames < 4:
        raise ValueError(f"imu_from_motion needs at least 4 frames; got {motion.n_frames}")
    n = int(np.floor(motion.duration * fps + 1e-9)) + 1
    t = np.arange(n) / fps
    spline = CubicSpline(motion.times, motion.q.detach().cpu().numpy(), axis=0, bc_type="natural")
    kw = {"dtype": motion.q.dtype, "device": motion.q.device}
    q, qd, qdd = (torch.as_tensor(spline(t, k), **kw) for k in (0, 1, 2))
    out = simulate_imu(motion.body, q, qd, qdd, sites, fps=float(fps), **kwargs)
    meta = dict(out.metadata, motion=motion.metadata.get("source"), derivatives="natural cubic spline")
    return replace(out, metadata=meta)


# --------------------------------------------------------------------------- error model
@dataclass(frozen=True)
class IMUSpec:
    """A device's datasheet numbers, SI units (the presets convert from g, dps, per hour).

    Attributes
    ----------
    name : str
    acc_range, gyro_range : float
        Full-scale range (+-), m/s^2 and rad/s.
    acc_noise_density, gyro_noise_density : float
        White-noise density, m/s^2/sqrt(Hz) and rad/s/sqrt(Hz).
    acc_bias, gyro_bias : float
        Bias (1 sigma per axis): the turn-on bias's standard deviation and the amount the
        bias random-walks over ~100 s, m/s^2 and rad/s.
    bits : int
        ADC resolution; one LSB is ``2 * range / 2**bits``.
    mag_noise, mag_bias : float
        Magnetometer white noise per sample and residual hard-iron offset (1 sigma), uT.
    mag_resolution : float
        Magnetometer LSB, uT.
    """

    name: str
    acc_range: float
    gyro_range: float
    acc_noise_density: float
    gyro_noise_density: float
    acc_bias: float
    gyro_bias: float
    bits: int = 16
    mag_noise: float = 0.3
    mag_bias: float = 1.0
    mag_resolution: float = 0.15


# Seed numbers: phone +-16 g, +-2000 dps, 150 ug/sqrt(Hz), 0.01 dps/sqrt(Hz), bias 0.5 mg and
# 10 dps/h; watch +-8 g, +-1000 dps, 200 ug/sqrt(Hz), 0.015 dps/sqrt(Hz), 1 mg, 15 dps/h.
# Magnetometer: 0.15 uT/LSB and ~0.3 uT RMS noise, as phone compasses (e.g. AKM AK09918).
PHONE = IMUSpec(
    name="phone",
    acc_range=16 * STANDARD_GRAVITY,
    gyro_range=math.radians(2000.0),
    acc_noise_density=150e-6 * STANDARD_GRAVITY,
    gyro_noise_density=math.radians(0.01),
    acc_bias=0.5e-3 * STANDARD_GRAVITY,
    gyro_bias=math.radians(10.0) / 3600.0,
)
WATCH = IMUSpec(
    name="watch",
    acc_range=8 * STANDARD_GRAVITY,
    gyro_range=math.radians(1000.0),
    acc_noise_density=200e-6 * STANDARD_GRAVITY,
    gyro_noise_density=math.radians(0.015),
    acc_bias=1e-3 * STANDARD_GRAVITY,
    gyro_bias=math.radians(15.0) / 3600.0,
)


@dataclass(frozen=True)
class IMUErrors:
    """Per-instance errors drawn on top of a device's datasheet (domain randomisation).

    Defaults are the seed's: accelerometer bias 0.02 m/s^2, scale factor 2 %, axis
    misalignment 2 deg (all 1 sigma), 1 % of samples dropped. Switch single effects off to
    study them (``IMUErrors(noise=False, drop_rate=0.0)``).

    Attributes
    ----------
    acc_bias, gyro_bias : float
        Extra turn-on bias (1 sigma per axis), m/s^2 and rad/s, added to the device's.
    scale : float
        Scale-factor error (1 sigma, fraction) per axis.
    misalignment_deg : float
        Cross-axis coupling (1 sigma, deg) of each off-diagonal element.
    drop_rate : float
        Probability that a sample (all channels of one sensor) is lost.
    drop_mode : {"nan", "hold"}
        A lost sample reads NaN, or repeats the last received one (a sample-and-hold
        stream; lost samples before the first received one take its value).
    noise, bias, saturate, quantize : bool
        White noise; bias (turn-on and random walk); clipping at the range; rounding to
        the LSB (off by default).
    """

    acc_bias: float = 0.02
    gyro_bias: float = 0.0
    scale: float = 0.02
    misalignment_deg: float = 2.0
    drop_rate: float = 0.01
    drop_mode: str = "nan"
    noise: bool = True
    bias: bool = True
    saturate: bool = True
    quantize: bool = False

    def __post_init__(self) -> None:
        if self.drop_mode not in ("nan", "hold"):
            raise ValueError(f"drop_mode must be 'nan' or 'hold'; got {self.drop_mode!r}")
        if not 0.0 <= self.drop_rate < 1.0:
            raise ValueError(f"drop_rate must be in [0, 1); got {self.drop_rate}")


def _generator(generator: torch.Generator | int | None) -> torch.Generator:
    if isinstance(generator, torch.Generator):
        return generator
    g = torch.Generator()
    g.manual_seed(0 if generator is None else int(generator))
    return g


def default_spec(name: str) -> IMUSpec:
    """The device preset for a sensor name: the watch for ``watch*``, else the phone."""
    return WATCH if name.startswith("watch") else PHONE


def corrupt_imu(
    signals: IMUSignals,
    spec: IMUSpec | Mapping[str, IMUSpec] | None = None,
    errors: IMUErrors = IMUErrors(),
    generator: torch.Generator | int | None = None,
) -> IMUSignals:
    """Apply a device error model to noise-free signals (see the module docstring).

    Parameters
    ----------
    signals
        From :func:`simulate_imu`; ``fps`` must be set.
    spec
        One device for all sensors, a mapping sensor name -> device, or None for
        :func:`default_spec` (watch for ``watch*`` sensors, phone otherwise).
    errors
        Randomised per-instance errors and switches.
    generator
        A ``torch.Generator`` (CPU) or an integer seed; the same seed gives the same errors.

    Returns
    -------
    IMUSignals
        Corrupted ``acc``, ``gyro``, ``mag``; ``valid`` marks received samples; the drawn
        biases, scale factors and misalignments are in ``metadata["errors"]``. Rotation and
        position stay the truth.
    """
    if signals.fps is None or not signals.fps > 0:
        raise ValueError("corrupt_imu needs signals.fps (the sample rate sets the noise per sample)")
    g = _generator(generator)
    if spec is None:
        specs = [default_spec(n) for n in signals.names]
    elif isinstance(spec, IMUSpec):
        specs = [spec] * len(signals.names)
    else:
        missing = [n for n in signals.names if n not in spec]
        if missing:
            raise KeyError(f"no IMUSpec for sensor(s) {missing}")
        specs = [spec[n] for n in signals.names]
    acc, gyro, mag = signals.acc, signals.gyro, signals.mag
    dtype, device = acc.dtype, acc.device
    lead_t = acc.shape[:-1]  # (..., T, S)
    lead = lead_t[:-2] + lead_t[-1:]  # (..., S): one draw per sensor instance
    n_t = acc.shape[-3]
    fs, dt = float(signals.fps), 1.0 / float(signals.fps)

    def randn(*shape: int | tuple) -> torch.Tensor:
        shp: tuple = ()
        for s in shape:
            shp += tuple(s) if isinstance(s, tuple) else (s,)
        return torch.randn(shp, generator=g, dtype=torch.float64).to(dtype=dtype, device=device)

    def per_sensor(values: list[float]) -> torch.Tensor:
        return torch.as_tensor(values, dtype=dtype, device=device)[:, None]  # (S, 1)

    def errors_matrix() -> torch.Tensor:
        e = randn(lead, 3, 3) * math.radians(errors.misalignment_deg)
        eye = torch.eye(3, dtype=dtype, device=device)
        scale = randn(lead, 3) * errors.scale
        return eye + e * (1 - eye) + torch.diag_embed(scale)

    def channel(x: torch.Tensor, noise_sd: torch.Tensor, bias_sd: torch.Tensor, walk: torch.Tensor, rng, lsb):
        m = errors_matrix()  # (..., S, 3, 3)
        y = (m.unsqueeze(-4) @ x[..., None])[..., 0]
        b0 = randn(lead, 3) * bias_sd * float(errors.bias)  # drawn either way: same stream per seed
        if errors.bias:
            steps = randn(lead_t[:-2], n_t, lead_t[-1], 3) * (walk * math.sqrt(dt))
            y = y + b0.unsqueeze(-3) + torch.cumsum(steps, dim=-3)
        if errors.noise:
            y = y + randn(lead_t[:-2], n_t, lead_t[-1], 3) * noise_sd
        if errors.saturate and rng is not None:
            y = torch.maximum(torch.minimum(y, rng), -rng)
        if errors.quantize:
            y = torch.round(y / lsb) * lsb
        return y, m, b0

    bias_time = math.sqrt(_BIAS_WALK_TIME_S)
    acc_rng = per_sensor([s.acc_range for s in specs])
    gyro_rng = per_sensor([s.gyro_range for s in specs])
    acc_out, m_acc, b_acc = channel(
        acc,
        per_sensor([s.acc_noise_density * math.sqrt(fs) for s in specs]),
        per_sensor([math.hypot(s.acc_bias, errors.acc_bias) for s in specs]),
        per_sensor([s.acc_bias / bias_time for s in specs]),
        acc_rng,
        2 * acc_rng / per_sensor([2.0**s.bits for s in specs]),
    )
    gyro_out, m_gyro, b_gyro = channel(
        gyro,
        per_sensor([s.gyro_noise_density * math.sqrt(fs) for s in specs]),
        per_sensor([math.hypot(s.gyro_bias, errors.gyro_bias) for s in specs]),
        per_sensor([s.gyro_bias / bias_time for s in specs]),
        gyro_rng,
        2 * gyro_rng / per_sensor([2.0**s.bits for s in specs]),
    )
    mag_out = None
    if mag is not None:
        zero = per_sensor([0.0 for _ in specs])
        mag_out, _, _ = channel(
            mag,
            per_sensor([s.mag_noise for s in specs]),
            per_sensor([s.mag_bias for s in specs]),
            zero,
            None,
            per_sensor([s.mag_resolution for s in specs]),
        )

    valid = torch.ones(lead_t, dtype=torch.bool, device=device)
    if errors.drop_rate > 0:
        u = torch.rand(lead_t, generator=g, dtype=torch.float64).to(device)
        valid = u >= errors.drop_rate
        acc_out, gyro_out = _drop(acc_out, valid, errors.drop_mode), _drop(gyro_out, valid, errors.drop_mode)
        if mag_out is not None:
            mag_out = _drop(mag_out, valid, errors.drop_mode)

    meta = dict(signals.metadata)
    meta["errors"] = {
        "devices": [s.name for s in specs],
        "settings": errors,
        "acc_matrix": m_acc,
        "gyro_matrix": m_gyro,
        "acc_turn_on_bias": b_acc,
        "gyro_turn_on_bias": b_gyro,
    }
    return replace(signals, acc=acc_out, gyro=gyro_out, mag=mag_out, valid=valid, metadata=meta)


def _drop(x: torch.Tensor, valid: torch.Tensor, mode: str) -> torch.Tensor:
    """Lose the samples where ``valid`` (..., T, S) is False: NaN, or hold the last received one."""
    if mode == "nan":
        return torch.where(valid[..., None], x, torch.full_like(x, float("nan")))
    n_t = x.shape[-3]
    t = torch.arange(n_t, device=x.device).view((n_t, 1))
    last = torch.cummax(torch.where(valid, t, torch.full_like(t, -1)), dim=-2).values  # (..., T, S)
    first = torch.argmax(valid.to(torch.int8), dim=-2, keepdim=True)  # first received sample
    idx = torch.where(last < 0, first.expand_as(last), last)
    return torch.gather(x, -3, idx[..., None].expand_as(x))


# --------------------------------------------------------------------------- MuJoCo
def mjcf_with_imus(
    xml: str,
    sites: Sequence[IMUSite],
    magnetic_field: Sequence[float] | None = EARTH_FIELD_UT,
) -> str:
    """Add a site and ``accelerometer``/``gyro`` (and ``magnetometer``) sensors per IMU to an MJCF.

    ``xml`` is :meth:`Body.to_mjcf` (bodies named after the segments, body frames equal to
    the segment frames). Sensors are named ``<site>_acc``, ``<site>_gyro`` and
    ``<site>_mag`` in that order per site; MuJoCo's accelerometer reads the specific force
    (its world body accelerates at ``-gravity``) and needs ``cacc``: after setting
    ``qpos``, ``qvel``, ``qacc`` call ``mj_inverse`` (which evaluates the acceleration
    sensors through ``mj_rnePostConstraint``), not ``mj_forward`` (which would overwrite
    ``qacc``). ``magnetic_field`` becomes ``<option magnetic>``.
    """
    root = ET.fromstring(xml)
    bodies = {b.get("name"): b for b in root.iter("body")}
    sensor = root.find("sensor")
    if sensor is None:
        sensor = ET.SubElement(root, "sensor")
    for s in sites:
        parent = bodies.get(s.segment)
        if parent is None:
            raise KeyError(f"MJCF has no body {s.segment!r} for site {s.name!r}")
        r = s.rotation_matrix
        ET.SubElement(
            parent,
            "site",
            name=s.name,
            pos=" ".join(f"{v:.17g}" for v in s.position),
            xyaxes=" ".join(f"{v:.17g}" for v in np.concatenate([r[:, 0], r[:, 1]])),
        )
        ET.SubElement(sensor, "accelerometer", name=f"{s.name}_acc", site=s.name)
        ET.SubElement(sensor, "gyro", name=f"{s.name}_gyro", site=s.name)
        if magnetic_field is not None:
            ET.SubElement(sensor, "magnetometer", name=f"{s.name}_mag", site=s.name)
    if magnetic_field is not None:
        option = root.find("option")
        if option is None:
            option = ET.SubElement(root, "option")
        option.set("magnetic", " ".join(f"{float(v):.17g}" for v in magnetic_field))
    return ET.tostring(root, encoding="unicode")
