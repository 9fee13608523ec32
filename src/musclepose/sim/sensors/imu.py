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

Conventions: Y-up world, SI units (magnetometer in microtesla), gravity (0, -9.81, 0).
Signals are ``(..., T, S, 3)`` for ``S`` sites (:mod:`.imu_sites`) and any leading batch
shape, float32 or float64, differentiable with respect to ``q``, ``qd``, ``qdd``. The device
error model is :mod:`.imu_errors`.
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from scipy.interpolate import CubicSpline
from torch.func import jvp

from ...body import GRAVITY, Body, segment_motion
from ...body.kinematics import segment_poses
from ...motion import Motion
from .imu_sites import IMUSite, imu_site

__all__ = ["EARTH_FIELD_UT", "IMUSignals", "imu_from_motion", "mjcf_with_imus", "simulate_imu"]

# Earth's field with magnetic north along world +X: horizontal 20 uT, vertical 44 uT
# downwards (total 48 uT, inclination 65 deg), typical of mid-northern latitudes in the
# World Magnetic Model 2020 (NOAA NCEI / BGS).
EARTH_FIELD_UT: tuple[float, float, float] = (20.0, -44.0, 0.0)

# The bias random walk is scaled so that the bias wanders by about its instability figure


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
        from ...io.imu import IMUData

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
