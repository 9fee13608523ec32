"""Pose from body-worn IMUs: a recording -> calibrated stream -> the HDT -> a Motion with per-joint uncertainty.

Inputs (:func:`load_imu_stream`):

- an IMU CSV (:func:`musclepose.io.imu.read_imu_csv`: sensor-frame accelerometer and gyroscope,
  optional magnetometer) whose sensor names map onto the model's slots (:func:`slot_for_name`);
  each sensor's orientation comes from a Madgwick filter (the ``ahrs`` package; Madgwick et al.
  2011) started from its first accelerometer (and magnetometer) sample, then the N-pose
  calibration of :func:`~.imu_features.calibrate` over the first still second (every sensor
  turning slower than 0.2 rad/s and reading gravity within 10 %): a recording must start with
  the wearer standing still, arms at the sides, sensors worn as the presets of
  :mod:`musclepose.sim.sensors.imu_sites` say (the reference sensor's heading sets "forward");
  without a magnetometer the sensors' headings are first made common (:func:`heading_reset`);
- a folder with TransPose's ``acc.pt``/``ori.pt`` (:mod:`musclepose.io.imu_tensors`), already calibrated.

Checks: a layout (``six``, ``phone-watch`` or ``auto``) whose sensors are missing, sensors the
model has no slot for, a rate outside 20-1000 Hz, accelerometer units that do not read gravity
at rest are :class:`~musclepose.io.errors.FormatError`\\ s naming the file, sensor and field.
Dropped samples (non-finite, or gaps in the time column) are held and their frames flagged;
saturated accelerometer samples flag their frames; frames whose predicted uncertainty exceeds
:data:`FLAG_SIGMA_DEG` are flagged too (``motion.quality``), so no finding comes from them.

The model runs at :data:`~.imu_features.MODEL_FPS` (the stream is resampled), causally: each pose
comes from the newest ``window`` frames (:meth:`IMUPoseModel.predict` batches every frame's window;
:meth:`IMUPoseModel.stream` feeds one frame at a time, the same numbers). Root height comes from
the floor (the body's lowest point on y = 0), horizontal root motion from the predicted velocity.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ahrs import Quaternion
from ahrs.common.orientation import acc2q, ecompass
from ahrs.filters import Madgwick

from ..body import Body, forward_kinematics
from ..body.model import JOINT_EULER_DOFS, JOINT_EULER_SIGNS
from ..body.rotations import matrix_to_euler_zxy, rotation_6d_to_matrix
from ..body.skeleton import SEGMENTS
from ..io.errors import FormatError
from ..io.imu import read_imu_csv
from ..io.imu_tensors import is_imu_tensor_folder, read_imu_tensors
from ..models.hdt import HDT, StreamingHDT
from ..motion import Motion
from ..motion.quality import FrameQuality, Issue, intervals
from ..motion.video_fit import compute_threads
from ..sim.sensors import imu_site
from .checkpoint import load_checkpoint, read_config
from .imu_features import (
    LAYOUTS,
    MODEL_FPS,
    REFERENCE_ORDER,
    SLOTS,
    calibrate,
    heading_rotation,
    imu_features,
    yaw_of,
)
from .labels import LabelMap

__all__ = [
    "FLAG_SIGMA_DEG",
    "IntervalCalibration",
    "madgwick_orientation",
    "IMUPoseModel",
    "IMUPoseResult",
    "IMUStream",
    "default_imu_checkpoint",
    "imu_file_motion",
    "is_imu_input",
    "load_imu_stream",
    "pose_to_q",
    "saturated",
    "slot_for_name",
]

ONE_SIGMA = math.erf(1 / math.sqrt(2))  # 0.6827: share of a Gaussian within one standard deviation
TWO_SIGMA = math.erf(2 / math.sqrt(2))  # 0.9545


@dataclass(frozen=True)
class IntervalCalibration:
    """Central intervals of the predicted 6-D pose coordinates, recalibrated on held-out errors.

    The network predicts a Gaussian standard deviation ``s`` per coordinate; the central interval
    that holds a share ``p`` of the errors has half-width ``scale(p) * s``. A Gaussian with a
    temperature ``T`` is ``scale(p) = T * Phi^-1((1 + p) / 2)``; fitted on held-out errors,
    ``scale(p)`` is the ``p``-quantile of ``|error| / s`` (the recalibration of Kuleshov, Fenner &
    Ermon 2018 for symmetric intervals; a single temperature cannot do it when the errors are
    heavier-tailed than a Gaussian, as they are on real motion). The reported standard deviation
    is the 68.27 % half-width (``scale(ONE_SIGMA) * s``), and the "2 sigma" band is the 95.45 %
    interval, ``two_sigma`` reported standard deviations wide (2 for a Gaussian). Between the
    fitted levels ``scale`` is interpolated linearly; beyond them it follows the Gaussian shape
    from the nearest level. Written by hand: scikit-learn's isotonic recalibration maps predicted
    CDF values, not the interval widths the report draws, and this is a table lookup.
    """

    levels: tuple[float, ...]
    scales: tuple[float, ...]
    method: str = "gaussian"

    @classmethod
    def gaussian(cls, temperature: float = 1.0) -> IntervalCalibration:
        from scipy.stats import norm

        lv = np.linspace(0.05, 0.99, 48)
        return cls(tuple(lv.tolist()), tuple((temperature * norm.ppf(0.5 + lv / 2)).tolist()), "gaussian")

    @classmethod
    def fit(cls, z: np.ndarray, levels: np.ndarray | None = None) -> IntervalCalibration:
        """Quantiles of held-out ``z = |error| / s`` (any shape, finite) at ``levels`` (default 0.05..0.99)."""
        z = np.asarray(z, dtype=np.float64).ravel()
        z = z[np.isfinite(z)]
        if z.size < 100:
            raise ValueError(f"interval calibration: {z.size} held-out errors, at least 100 needed")
        lv = np.linspace(0.05, 0.99, 48) if levels is None else np.asarray(levels, dtype=np.float64)
        q = np.maximum.accumulate(np.quantile(z, lv))
        return cls(tuple(lv.tolist()), tuple(q.tolist()), "quantile")

    @classmethod
    def from_extra(cls, extra: dict[str, Any]) -> IntervalCalibration:
        """A checkpoint's ``calibration`` (or its older ``temperature``)."""
        c = extra.get("calibration")
        if isinstance(c, dict):
            lv, sc = [float(v) for v in c["levels"]], [float(v) for v in c["scales"]]
            ok = len(lv) == len(sc) >= 2 and all(np.isfinite(lv + sc)) and np.all(np.diff(lv) > 0)
            if not ok or not np.all(np.diff(sc) >= 0) or sc[0] <= 0 or not 0 < lv[0] < lv[-1] < 1:
                raise ValueError("checkpoint calibration: levels must rise within (0, 1), scales be positive, rising")
            return cls(tuple(lv), tuple(sc), str(c.get("method", "quantile")))
        return cls.gaussian(float(extra.get("temperature", 1.0)))

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "levels": list(self.levels), "scales": list(self.scales)}

    def scale(self, p: float | np.ndarray) -> np.ndarray:
        """Half-width of the central ``p`` interval in units of the network's standard deviation."""
        from scipy.stats import norm

        p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-9)
        lv, sc = np.asarray(self.levels), np.asarray(self.scales)
        g = lambda x: norm.ppf(0.5 + x / 2)  # noqa: E731
        if self.method == "gaussian":  # exact, not the table's interpolation
            return sc[0] / g(lv[0]) * g(p)
        out = np.interp(p, lv, sc)
        lo, hi = p < lv[0], p > lv[-1]
        out = np.where(lo, sc[0] * g(p) / g(lv[0]), out)
        return np.where(hi, sc[-1] * g(p) / g(lv[-1]), out)

    @property
    def temperature(self) -> float:
        """The factor from the network's standard deviation to the reported one (the 68.27 % half-width)."""
        return float(self.scale(ONE_SIGMA))

    @property
    def two_sigma(self) -> float:
        """Width of the 95.45 % interval in reported standard deviations (2 for a Gaussian)."""
        return float(self.scale(TWO_SIGMA)) / self.temperature

    def band(self, p: float | np.ndarray) -> np.ndarray:
        """Half-width of the central ``p`` interval in reported standard deviations."""
        return self.scale(p) / self.temperature


# Mean joint rotation uncertainty above which a frame is not trusted: ~1 % of validation frames when it was set
# (sigma x1.112); the recalibrated sigma (x0.909) is 18 % smaller, so somewhat fewer frames now.
FLAG_SIGMA_DEG = 20.0
SIGMA_TO_DEG = math.degrees(math.sqrt(4.5))  # 6-D coordinate sd -> rms rotation angle (module docs of result)
STILL_GYRO = 0.2  # rad/s
GRAVITY_NORM = 9.81
_ALIASES = {
    "sacrum": ("sacrum", "pelvis", "hip", "hips", "waist", "root", "back"),
    "head": ("head", "headband", "forehead"),
    "watch_left": ("watch_left", "left_wrist", "wrist_left", "lwrist", "lw", "left_watch", "watch", "l_wrist"),
    "watch_right": ("watch_right", "right_wrist", "wrist_right", "rwrist", "rw", "right_watch", "r_wrist"),
    "knee_l": ("knee_l", "left_knee", "knee_left", "lknee", "lk", "left_shank", "shank_l", "l_knee"),
    "knee_r": ("knee_r", "right_knee", "knee_right", "rknee", "rk", "right_shank", "shank_r", "r_knee"),
    "phone_pocket_r": ("phone_pocket_r", "phone", "pocket", "right_pocket", "phone_pocket", "thigh_r", "right_thigh"),
}


def default_imu_checkpoint() -> Path:
    """The shipped IMU-pose checkpoint folder."""
    return Path(__file__).resolve().parents[1] / "assets" / "imu_pose"


def slot_for_name(name: str) -> str | None:
    """The model slot a sensor name means (``"left_wrist"`` -> ``"watch_left"``), or None."""
    n = re.sub(r"[\s.\-]+", "_", name.strip().lower())
    for slot, names in _ALIASES.items():
        if n in names:
            return slot
    return None


def is_imu_input(path: str | Path) -> bool:
    """A ``.csv`` file (IMU CSV) or a folder with ``acc.pt`` and ``ori.pt``."""
    p = Path(path)
    return (p.is_file() and p.suffix.lower() == ".csv") or is_imu_tensor_folder(p)


# ------------------------------------------------------------------------------ the stream
@dataclass
class IMUStream:
    """A calibrated sensor stream (all :data:`~.imu_features.SLOTS`; absent ones zero).

    ``seg_rot (T, 7, 3, 3)`` segment orientations and ``acc (T, 7, 3)`` gravity-free world
    accelerations, float64; ``present (7,)``; ``bad (T,)`` frames with a dropped or saturated
    sample; ``issues`` why; ``source`` what produced it."""

    path: Path | None
    fps: float
    seg_rot: torch.Tensor
    acc: torch.Tensor
    present: torch.Tensor
    bad: np.ndarray
    issues: list[Issue] = field(default_factory=list)
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return int(self.acc.shape[0])

    @property
    def slots(self) -> tuple[str, ...]:
        return tuple(s for s, p in zip(SLOTS, self.present.tolist(), strict=True) if p)

    def resampled(self, fps: float) -> IMUStream:
        """The stream at ``fps``: accelerations box-filtered over one new frame and linearly
        interpolated, orientations interpolated in 6-D and re-orthonormalised; flags kept by the
        nearest frame."""
        if abs(fps - self.fps) < 1e-6:
            return self
        t_old = np.arange(self.n_frames) / self.fps
        n = int(math.floor(t_old[-1] * fps + 1e-9)) + 1
        t_new = np.arange(n) / fps
        k = max(1, int(round(self.fps / fps)))
        a = self.acc.numpy()
        if k > 1:  # anti-alias: a moving mean over the samples one new frame spans
            ker = np.ones(k) / k
            a = np.stack([np.stack([np.convolve(a[:, s, d], ker, mode="same") for d in range(3)], -1)
                          for s in range(a.shape[1])], 1)  # fmt: skip
        acc = np.stack([np.stack([np.interp(t_new, t_old, a[:, s, d]) for d in range(3)], -1)
                        for s in range(a.shape[1])], 1)  # fmt: skip
        r6 = self.seg_rot[..., :, :2].transpose(-1, -2).reshape(self.n_frames, -1, 6).numpy()
        r6n = np.stack([np.stack([np.interp(t_new, t_old, r6[:, s, d]) for d in range(6)], -1)
                        for s in range(r6.shape[1])], 1)  # fmt: skip
        rot = rotation_6d_to_matrix(torch.as_tensor(r6n))
        near = np.clip(np.round(t_new * self.fps).astype(int), 0, self.n_frames - 1)
        scale = fps / self.fps
        issues = [Issue(i.cause, int(round(i.start * scale)), int(round(i.end * scale)), i.detail, i.repaired)
                  for i in self.issues]  # fmt: skip
        return IMUStream(self.path, float(fps), rot, torch.as_tensor(acc), self.present, self.bad[near], issues,
                         self.source, self.notes)  # fmt: skip


def saturated(acc: np.ndarray, run: int = 3) -> np.ndarray:
    """Frames ``(T,)`` where an axis of ``acc (T, 3)`` sits at its largest magnitude for ``run`` or more
    samples in a row: a clipped accelerometer reads its full-scale value, noise never repeats a maximum."""
    out = np.zeros(len(acc), dtype=bool)
    peak = np.abs(acc).max(0)
    for d in range(acc.shape[1]):
        if peak[d] < 1.0:  # an axis that hardly moves (a still, gravity-free stream) is not clipped
            continue
        at = np.abs(acc[:, d]) >= peak[d] * (1 - 1e-6)
        for a, b in intervals(at):
            if b - a + 1 >= run:
                out[a : b + 1] = True
    return out


def _check_rate(path: Path | None, fps: float) -> None:
    if not (math.isfinite(fps) and 20.0 <= fps <= 1000.0):
        raise FormatError(path, f"sampling rate {fps:g} Hz: IMU pose needs 20-1000 Hz (pass --fps if the file's time "
                          "column is wrong)", field="fps")  # fmt: skip


def _check_layout(path: Path | None, found: dict[str, str], layout: str) -> None:
    if layout == "auto":
        if not found:
            raise FormatError(path, "no sensor the IMU pose model knows; name sensors e.g. pelvis, head, left_wrist, "
                              "right_wrist, left_knee, right_knee, phone", field="sensor")  # fmt: skip
        return
    if layout not in LAYOUTS:
        raise ValueError(f"--imu-layout must be one of six, phone-watch, auto; got {layout!r}")
    missing = [s for s in LAYOUTS[layout] if s not in found]
    if missing:
        named = ", ".join(_ALIASES[m][1] for m in missing)
        raise FormatError(path, f"layout {layout!r} needs sensor(s) {', '.join(missing)} (as {named}); "
                          f"found {', '.join(found.values()) or 'none'}", field=missing[0])  # fmt: skip


def _present(found: dict[str, str], layout: str) -> torch.Tensor:
    use = LAYOUTS[layout] if layout in LAYOUTS else tuple(found)
    return torch.tensor([s in found and s in use for s in SLOTS])


def madgwick_orientation(acc: np.ndarray, gyro: np.ndarray, mag: np.ndarray | None, fps: float) -> np.ndarray:
    """Sensor-to-world rotations ``(T, 3, 3)`` (our Y-up axes) from the ``ahrs`` Madgwick filter."""
    q0 = ecompass(acc[0], mag[0], frame="ENU", representation="quaternion") if mag is not None else acc2q(acc[0])
    kw = {"mag": mag} if mag is not None else {}
    f = Madgwick(gyr=gyro, acc=acc, frequency=fps, q0=q0, **kw)
    r = np.stack([Quaternion(q).to_DCM() for q in f.Q])  # sensor -> filter's Earth frame (z up)
    c = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])  # Earth z (up) -> our Y
    return c @ r


def _still_period(path: Path | None, gyro: dict[str, np.ndarray], acc: dict[str, np.ndarray], fps: float) -> slice:
    n = int(round(fps))
    moving = np.zeros(len(next(iter(gyro.values()))), dtype=bool)
    for s in gyro:
        g_ok = np.linalg.norm(gyro[s], axis=1) < STILL_GYRO
        a_ok = np.abs(np.linalg.norm(acc[s], axis=1) - GRAVITY_NORM) < 0.1 * GRAVITY_NORM
        moving |= ~(g_ok & a_ok)
    limit = min(len(moving) - n, int(10 * fps))
    for t0 in range(0, max(limit, 0) + 1):
        if not moving[t0 : t0 + n].any():
            return slice(t0, t0 + n)
    raise FormatError(path, "no still second in the first 10 s: IMU pose calibrates on the wearer standing still, "
                      "arms at the sides, at the start of the recording", field="time")  # fmt: skip


def _csv_stream(path: Path, layout: str, fps: float | None) -> IMUStream:
    data = read_imu_csv(path, fps=fps)
    _check_rate(path, data.fps)
    if fps is not None and data.units.get("time") != "none" and data.n_frames > 2:
        own = 1.0 / float(np.median(np.diff(data.time)))
        if abs(own - fps) > 0.05 * fps:
            raise FormatError(path, f"--fps {fps:g} Hz disagrees with the time column ({own:.4g} Hz)", field="time")
    found: dict[str, str] = {}
    unknown = []
    for s in data.sensors:
        slot = slot_for_name(s)
        if slot is None:
            unknown.append(s)
        elif slot in found:
            raise FormatError(path, f"sensors {found[slot]!r} and {s!r} both mean the {slot} slot", field=s)
        else:
            found[slot] = s
    if unknown and layout != "auto":
        raise FormatError(path, f"sensor(s) {', '.join(map(repr, unknown))} have no slot in the IMU pose model "
                          f"(known: {', '.join(a[1] for a in _ALIASES.values())})", field=unknown[0])  # fmt: skip
    _check_layout(path, found, layout)
    present = _present(found, layout)
    used = {slot: name for slot, name in found.items() if present[SLOTS.index(slot)]}
    acc = {slot: data.acc[name] for slot, name in used.items()}
    gyro = {slot: data.gyro[name] for slot, name in used.items()}
    # Units: a person's sensors read gravity on average; anything else is a wrong or undeclared unit.
    for slot, a in acc.items():
        med = float(np.median(np.linalg.norm(a, axis=1)))
        if not 6.0 <= med <= 14.0:
            raise FormatError(path, f"sensor {used[slot]!r}: median |acc| {med:.3g} m/s^2 after unit conversion "
                              f"({data.units.get('acc')}, {data.unit_source.get('acc')}): not gravity; declare the "
                              "unit in the header, e.g. 'acc_x [g]'", field=f"{used[slot]}.acc")  # fmt: skip
    # Dropped samples: gaps in the time column longer than 1.5 sample periods.
    bad = np.zeros(data.n_frames, dtype=bool)
    issues: list[Issue] = []
    if data.units.get("time") != "none" and data.n_frames > 2:
        gaps = np.flatnonzero(np.diff(data.time) > 1.5 / data.fps)
        for g in gaps:
            bad[g : g + 2] = True
        issues += [Issue("dropped samples", a, b, "gap in the time column") for a, b in intervals(bad)]
    sat = np.zeros(data.n_frames, dtype=bool)
    for a in acc.values():
        sat |= saturated(a)
    issues += [Issue("accelerometer saturated", a, b, "at full scale") for a, b in intervals(sat)]
    bad |= sat
    still = _still_period(path, gyro, acc, data.fps)
    names = list(used)
    mag = data.mag
    srot = np.stack(
        [madgwick_orientation(acc[s], gyro[s], None if mag is None else mag[used[s]], data.fps) for s in names], 1
    )
    mount = torch.stack([_mount(s) for s in names])
    pres_sub = torch.tensor([s in names for s in SLOTS])
    srot_t = torch.as_tensor(srot)
    if mag is None:
        srot_t = heading_reset(srot_t, still, names, mount)
    off = calibrate_mounted(srot_t, still, names, mount)
    seg = srot_t @ off
    srot = srot_t.numpy()
    a_world = torch.as_tensor(np.einsum("tsij,tsj->tsi", srot, np.stack([acc[s] for s in names], 1)))
    a_world = a_world + torch.tensor([0.0, -GRAVITY_NORM, 0.0], dtype=torch.float64)
    t = data.n_frames
    seg_all = torch.eye(3, dtype=torch.float64).repeat(t, len(SLOTS), 1, 1)
    acc_all = torch.zeros(t, len(SLOTS), 3, dtype=torch.float64)
    for k, s in enumerate(names):
        seg_all[:, SLOTS.index(s)] = seg[:, k]
        acc_all[:, SLOTS.index(s)] = a_world[:, k]
    notes = [f"calibrated on {still.start / data.fps:.2f}-{still.stop / data.fps:.2f} s (standing still)"]
    if unknown:
        notes.append(f"ignored sensor(s) without a slot: {', '.join(unknown)}")
    return IMUStream(path, data.fps, seg_all, acc_all, pres_sub & present, bad, issues,
                     "IMU CSV (Madgwick AHRS, N-pose calibration)", notes)  # fmt: skip


def _mount(slot: str) -> torch.Tensor:
    """The preset's sensor axes in its segment (``(3, 3)``), from a standard body (rotations do not scale)."""
    return torch.as_tensor(imu_site(Body.standard(), slot).rotation_matrix)


def heading_reset(srot: torch.Tensor, still: slice, names: list[str], mount: torch.Tensor) -> torch.Tensor:
    """Sensor orientations ``(T, S, 3, 3)`` in one common world heading.

    Without a magnetometer each sensor's filter starts its own heading, so the sensors' worlds differ
    by a rotation about the vertical, which no sensor-to-segment offset can absorb. In the N-pose
    every segment faces the body's heading: each sensor's world is turned about +Y so that its
    segment (the sensor times its preset mounting's inverse) faces the way the reference slot's does.
    A watch turned on the wrist about the forearm then reads as a heading offset of that arm."""
    guess = srot[still].mean(0) @ mount.to(srot.dtype).transpose(-1, -2)  # (S, 3, 3) segment guesses
    yaw = yaw_of(guess)
    ref = next(k for r in REFERENCE_ORDER for k, n in enumerate(names) if n == r)
    turn = heading_rotation(yaw[ref] - yaw)  # (S, 3, 3)
    return turn[None] @ srot


def calibrate_mounted(srot: torch.Tensor, still: slice, names: list[str], mount: torch.Tensor) -> torch.Tensor:
    """Sensor-to-segment rotations ``(S, 3, 3)`` for sensors ``names`` worn as their presets say (``mount``):
    the heading of the first of :data:`~.imu_features.REFERENCE_ORDER` worn is taken from its
    segment (sensor times the mounting's inverse), then :func:`~.imu_features.calibrate`."""
    present = torch.tensor([s in names for s in SLOTS])
    full = torch.eye(3, dtype=srot.dtype).repeat(srot.shape[0], len(SLOTS), 1, 1)
    for k, s in enumerate(names):
        full[:, SLOTS.index(s)] = srot[:, k] @ mount[k].to(srot.dtype).T  # the segment if worn as the preset
    off_full = calibrate(full, still, present)  # segment-guess -> segment
    return torch.stack([mount[k].to(srot.dtype).T @ off_full[SLOTS.index(s)] for k, s in enumerate(names)])


def _tensor_stream(path: Path, layout: str) -> IMUStream:
    data = read_imu_tensors(path)
    found = {s: s for s in data.sensors}
    _check_layout(path, found, layout)
    present = _present(found, layout)
    t = data.n_frames
    seg = torch.eye(3, dtype=torch.float64).repeat(t, len(SLOTS), 1, 1)
    acc = torch.zeros(t, len(SLOTS), 3, dtype=torch.float64)
    for k, s in enumerate(data.sensors):
        seg[:, SLOTS.index(s)] = torch.as_tensor(data.ori[:, k])
        acc[:, SLOTS.index(s)] = torch.as_tensor(data.acc[:, k])
    bad = data.lost.any(1)
    issues = [Issue("dropped samples", a, b, "non-finite sample held") for a, b in intervals(bad)]
    sat = np.zeros(t, dtype=bool)
    for k in range(data.acc.shape[1]):
        sat |= saturated(data.acc[:, k])
    issues += [Issue("accelerometer saturated", a, b, "at full scale") for a, b in intervals(sat)]
    return IMUStream(path, data.fps, seg, acc, present, bad | sat, issues,
                     "IMU tensors (calibrated, TransPose layout)", data.notes)  # fmt: skip


def load_imu_stream(path: str | Path, layout: str = "auto", fps: float | None = None) -> IMUStream:
    """The calibrated stream of an IMU recording (module docstring)."""
    path = Path(path)
    if layout not in ("auto", *LAYOUTS):
        raise ValueError(f"--imu-layout must be one of six, phone-watch, auto; got {layout!r}")
    if is_imu_tensor_folder(path):
        stream = _tensor_stream(path, layout)
    elif path.suffix.lower() == ".csv":
        stream = _csv_stream(path, layout, fps)
    else:
        raise FormatError(path, "not an IMU recording (a .csv, or a folder with acc.pt and ori.pt)")
    _check_rate(path, stream.fps)
    return stream


# ------------------------------------------------------------------------------ the model
@dataclass
class IMUPoseResult:
    """Poses of a stream at ``fps``.

    Attributes
    ----------
    rot6 : (T, 18, 6)
        Local joint rotations (the pelvis relative to ``yaw``), :func:`~.imu_features.pose_targets`' layout.
    yaw : (T,)
        Heading of the reference sensor (rad).
    sigma_deg : (T, 18)
        Each joint's rotation uncertainty (rms angle, deg): the calibrated standard deviation ``s`` of
        its six numbers times ``sqrt(4.5)`` (a small rotation by ``a`` about a random axis moves the
        two 6-D columns by ``a^2 * 4/3`` in squared norm on average; six numbers of variance ``s^2``).
    vel, vel_sigma : (T, 3), (T,)
        Root velocity in the heading frame (m/s) and its standard deviation.
    exercise_probs : (T, E)
    exercises : tuple of str
    flagged : (T,) bool
        Dropped/saturated input or uncertainty above :data:`FLAG_SIGMA_DEG`.
    two_sigma : float
        Half-width of the 95.45 % interval in units of ``sigma_deg`` (:class:`IntervalCalibration`;
        2 for a Gaussian).
    issues : list of Issue
    seconds_per_frame : float or None
        Streaming time per frame (when run by :meth:`IMUPoseModel.stream`).
    """

    fps: float
    rot6: torch.Tensor
    yaw: torch.Tensor
    sigma_deg: torch.Tensor
    vel: torch.Tensor
    vel_sigma: torch.Tensor
    exercise_probs: torch.Tensor
    exercises: tuple[str, ...]
    flagged: np.ndarray
    issues: list[Issue] = field(default_factory=list)
    seconds_per_frame: float | None = None
    two_sigma: float = 2.0

    @property
    def exercise(self) -> str:
        return self.exercises[int(self.exercise_probs.mean(0).argmax())]

    def summary(self) -> dict[str, Any]:
        """Small JSON-able facts: frames, uncertainty statistics, flagged share, exercise guess."""
        s = self.sigma_deg.mean(-1)
        return {
            "frames": int(self.rot6.shape[0]),
            "fps": self.fps,
            "uncertainty_deg": {
                "mean": float(s.mean()),
                "median": float(s.median()),
                "p95": float(s.quantile(0.95)),
                "max": float(s.max()),
            },  # fmt: skip
            "flagged_frames": int(self.flagged.sum()),
            "flagged_fraction": float(self.flagged.mean()),
            "exercise_guess": self.exercise,
            "exercise_probability": float(self.exercise_probs.mean(0).max()),
            "issues": [i.describe(self.fps) for i in self.issues[:10]],
            **({"stream_ms_per_frame": 1000 * self.seconds_per_frame} if self.seconds_per_frame else {}),
        }


class IMUPoseModel:
    """A loaded IMU pose checkpoint: the HDT, its interval calibration and label lists.

    ``temperature`` is the factor from the network's standard deviation to the reported one;
    setting it replaces the calibration by a Gaussian of that temperature."""

    def __init__(
        self,
        model: HDT,
        calibration: IntervalCalibration | float,
        labels: LabelMap,
        extra: dict[str, Any],
        folder: Path | None,
    ):
        self.model = model.eval()
        if not isinstance(calibration, IntervalCalibration):
            calibration = IntervalCalibration.gaussian(float(calibration))
        self.calibration = calibration
        self.labels = labels
        self.extra = extra
        self.folder = folder

    @classmethod
    def load(cls, folder: str | Path | None = None) -> IMUPoseModel:
        folder = Path(folder) if folder is not None else default_imu_checkpoint()
        meta = read_config(folder)
        parts, extra = load_checkpoint(folder)
        model = parts["model"].float()
        labels = LabelMap.from_config(meta, folder).check_heads(folder, model.config.n_exercises, model.config.n_faults)
        try:
            calibration = IntervalCalibration.from_extra(extra)
        except (KeyError, TypeError, ValueError) as err:
            raise FormatError(folder / "config.json", str(err), field="extra.calibration") from err
        return cls(model, calibration, labels, extra, folder)

    @property
    def temperature(self) -> float:
        return self.calibration.temperature

    @temperature.setter
    def temperature(self, value: float) -> None:
        self.calibration = IntervalCalibration.gaussian(float(value))

    def features(self, stream: IMUStream) -> tuple[torch.Tensor, torch.Tensor, IMUStream]:
        s = stream.resampled(MODEL_FPS)
        x, yaw = imu_features(s.seg_rot, s.acc, s.present)
        return x.float(), yaw.float(), s

    @torch.no_grad()
    def predict_features(self, x: torch.Tensor, batch: int = 256) -> list[torch.Tensor]:
        """``x (T, F)`` -> ``[rot6 (T, 18, 6), logvar (T, 18), vel (T, 3), vel_logvar (T,), exercise_logits (T, E)]``,
        every frame from its own causal window (batched; the numbers :meth:`stream` gives)."""
        w = self.model.config.window
        t = x.shape[0]
        xp = torch.cat([x[:1].expand(w - 1, -1) * 0.0, x.float()], 0)  # left padding, dropped below
        outs = []
        for a in range(0, t, batch):
            idx = torch.arange(a, min(t, a + batch))
            win = xp.unfold(0, w, 1)[a : a + len(idx)].transpose(1, 2)  # (n, w, F): frame i's window ends at i
            lengths = torch.clamp(idx + 1, max=w)
            outs.append(self._run_windows(win, lengths))
        return [torch.cat(z) for z in zip(*outs, strict=True)]

    def predict(self, stream: IMUStream, batch: int = 256) -> IMUPoseResult:
        """Every frame from its own causal window (batched; equal to :meth:`stream`)."""
        x, yaw, s = self.features(stream)
        return self._result(s, yaw, self.predict_features(x, batch))

    def _run_windows(self, win: torch.Tensor, lengths: torch.Tensor):
        # Windows shorter than `window` (the first frames) run on their own frames only, as streaming does.
        res = []
        w = win.shape[1]
        full = lengths == w
        out = [None] * len(win)
        if full.any():
            o = self.model(win[full])
            for j, i in enumerate(torch.nonzero(full)[:, 0].tolist()):
                out[i] = (o.rot6[j, -1], o.logvar[j, -1], o.vel[j, -1], o.vel_logvar[j, -1], o.exercise_logits[j, -1])
        for i in torch.nonzero(~full)[:, 0].tolist():
            o = self.model(win[i : i + 1, w - int(lengths[i]) :])
            out[i] = (o.rot6[0, -1], o.logvar[0, -1], o.vel[0, -1], o.vel_logvar[0, -1], o.exercise_logits[0, -1])
        for k in range(5):
            res.append(torch.stack([o[k] for o in out]))
        return res

    @torch.no_grad()
    def stream(self, stream: IMUStream, on_frame: Callable[[int], None] | None = None) -> IMUPoseResult:
        """One frame in, one pose out (:class:`~musclepose.models.hdt.StreamingHDT` on the newest frames)."""
        x, yaw, s = self.features(stream)
        net = StreamingHDT(self.model).eval()
        w = self.model.config.window
        outs = []
        t0 = time.perf_counter()
        for i in range(x.shape[0]):
            outs.append(net(x[max(0, i - w + 1) : i + 1][None]))
            if on_frame is not None:
                on_frame(i)
        dt = (time.perf_counter() - t0) / max(1, x.shape[0])
        res = self._result(s, yaw, [torch.stack(z) for z in zip(*outs, strict=True)])
        res.seconds_per_frame = dt
        return res

    def _result(self, s: IMUStream, yaw: torch.Tensor, z: list[torch.Tensor]) -> IMUPoseResult:
        rot6, logvar, vel, vel_logvar, ex = z
        temp = self.temperature
        sigma = torch.exp(0.5 * logvar) * temp
        sigma_deg = sigma * SIGMA_TO_DEG
        flagged = s.bad.copy()
        high = (sigma_deg.mean(-1) > FLAG_SIGMA_DEG).numpy()
        issues = list(s.issues)
        issues += [Issue("uncertain pose", a, b, f"joint rotation uncertainty above {FLAG_SIGMA_DEG:g} deg")
                   for a, b in intervals(high)]  # fmt: skip
        flagged |= high
        return IMUPoseResult(MODEL_FPS, rot6, yaw, sigma_deg, vel, torch.exp(0.5 * vel_logvar) * temp,
                             torch.softmax(ex, -1), self.labels.exercises, flagged, issues,
                             two_sigma=self.calibration.two_sigma)  # fmt: skip


def pose_to_q(result: IMUPoseResult, body: Body) -> torch.Tensor:
    """``q (T, 47)`` of the predicted pose on ``body``: Euler ZXY angles of each joint's predicted
    rotation on its DoF (a joint with fewer DoF keeps its components on them), the pelvis's world
    rotation, root height from the floor (lowest landmark on y = 0), horizontal root motion from
    the integrated velocity; angles held within the body's range of motion + 10 deg."""
    rot6 = result.rot6.double()
    local = rotation_6d_to_matrix(rot6)
    pelvis = heading_rotation(result.yaw.double()) @ local[:, 0]
    local = torch.cat([pelvis[:, None], local[:, 1:]], 1)
    ang = matrix_to_euler_zxy(local) * torch.as_tensor(JOINT_EULER_SIGNS)
    t = rot6.shape[0]
    q = torch.zeros(t, body.n_dof, dtype=torch.float64)
    for i in range(local.shape[1]):
        for k in range(3):
            d = int(JOINT_EULER_DOFS[i, k])
            if d >= 0:
                q[:, d] = ang[:, i, k]
    lo = torch.as_tensor(body.dof_lower) - math.radians(10.0)
    hi = torch.as_tensor(body.dof_upper) + math.radians(10.0)
    q[:, 6:] = torch.maximum(torch.minimum(q[:, 6:], hi[6:]), lo[6:])
    q[:, 3:6] = torch.as_tensor(np.unwrap(q[:, 3:6].numpy(), axis=0))
    v = (heading_rotation(result.yaw.double()) @ result.vel.double()[..., None])[..., 0]
    q[:, 0] = torch.cumsum(v[:, 0], 0) / result.fps
    q[:, 2] = torch.cumsum(v[:, 2], 0) / result.fps
    fk = forward_kinematics(body, q)
    q[:, 1] = -fk.landmarks[..., 1].amin(-1)
    return q


def result_motion(result: IMUPoseResult, body: Body, source: str) -> Motion:
    """The predicted pose as a Motion with its flagged frames in ``quality``."""
    q = pose_to_q(result, body)
    quality = FrameQuality.clean(q.shape[0]).with_issues(result.issues)
    # Per-frame rotation uncertainty of the joints the report plots (the segment each DoF turns).
    seg = {"hip_flexion": "thigh", "knee_flexion": "shank", "ankle_dorsiflexion": "foot"}
    sigma = {f"{dof}_{s}": result.sigma_deg[:, SEGMENTS.index(f"{part}_{s}")].tolist()
             for dof, part in seg.items() for s in ("r", "l")}  # fmt: skip
    meta = {"source": source, "imu_pose": result.summary(), "imu_sigma_deg": sigma,
            "imu_two_sigma": result.two_sigma}  # fmt: skip
    return Motion(q, result.fps, body, meta, quality)


def imu_file_motion(
    path: str | Path,
    layout: str = "auto",
    *,
    body: Body | None = None,
    fps: float | None = None,
    checkpoint: str | Path | None = None,
    streaming: bool = False,
    progress: Callable[[str], None] | None = None,
) -> tuple[Motion, IMUPoseResult, IMUStream]:
    """Pose from an IMU recording as a Motion on ``body`` (default 1.75 m, 70 kg), with the model's result."""
    say = progress or (lambda s: None)
    say("reading IMU recording and calibrating")
    stream = load_imu_stream(path, layout, fps)
    say("loading the IMU pose model")
    model = IMUPoseModel.load(checkpoint)
    say("pose from IMUs (streaming)" if streaming else "pose from IMUs")
    with compute_threads(1):  # one frame's small tensors: a second thread only spin-waits (see compute_threads)
        res = model.stream(stream) if streaming else model.predict(stream)
    body = body or Body.standard(1.75, 70.0, "male")
    motion = result_motion(res, body, str(path))
    motion.metadata["imu"] = {"source": stream.source, "slots": list(stream.slots), "input_fps": stream.fps,
                              "notes": stream.notes}  # fmt: skip
    return motion, res, stream


def iter_frames(result: IMUPoseResult) -> Iterator[int]:  # pragma: no cover - convenience
    yield from range(result.rot6.shape[0])
