"""Calibrated IMU streams stored as torch tensors: a folder with ``acc.pt`` and ``ori.pt`` (TransPose's layout).

TransPose (Yi et al. 2021) and DIP-IMU store six Xsens sensors in the order left wrist, right
wrist, left knee, right knee, head, pelvis: ``acc.pt (T, 6, 3)`` accelerations in m/s^2 in the
global frame with gravity removed, ``ori.pt (T, 6, 3, 3)`` each sensor's *bone* orientation in
the global frame after the device's calibration (SMPL axes: x to the subject's left, y up, z
forward; identity = SMPL's T-pose), 60 Hz. :func:`read_imu_tensors` loads them without pickle
(``torch.load(weights_only=True)``), checks shapes and values, and returns them in our axes
(:mod:`musclepose.body.skeleton`: X anterior, Y up, Z right) as segment orientations of our
neutral pose (arms at the sides: the wrist sensors' T-pose reference is turned by 90 deg about
the anterior axis). Non-finite samples are reported in ``lost`` (the caller holds and flags them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .errors import FormatError, check_input_path

__all__ = ["TRANSPOSE_FPS", "TRANSPOSE_SENSORS", "IMUTensors", "is_imu_tensor_folder", "read_imu_tensors"]

TRANSPOSE_FPS = 60.0
#: Sensor order of TransPose's files, as our slot names (:data:`musclepose.pipelines.imu_features.SLOTS`).
TRANSPOSE_SENSORS = ("watch_left", "watch_right", "knee_l", "knee_r", "head", "sacrum")
# SMPL axes (x left, y up, z forward) -> ours (x forward, y up, z right).
_C = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])


def _rx(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[1.0, 0.0, 0.0], [0.0, np.cos(a), -np.sin(a)], [0.0, np.sin(a), np.cos(a)]])


# Our forearm in SMPL's T-pose: the left arm held out to the left (-Z) turns the forearm's
# long axis (+Y, towards the elbow) onto +Z: +90 deg about X; the right arm -90 deg.
_TPOSE = {"watch_left": _rx(90.0), "watch_right": _rx(-90.0)}


@dataclass
class IMUTensors:
    """A calibrated six-sensor stream in our axes.

    Attributes
    ----------
    path : Path
    sensors : tuple of str
        Slot names in file order (:data:`TRANSPOSE_SENSORS`).
    fps : float
    ori : np.ndarray (T, S, 3, 3)
        Segment orientation of each sensor's segment in the world (our neutral pose = identity).
    acc : np.ndarray (T, S, 3)
        Gravity-free acceleration in the world, m/s^2.
    lost : np.ndarray (T, S) bool
        Samples that were not finite (set to the last finite one).
    notes : list of str
    """

    path: Path
    sensors: tuple[str, ...]
    fps: float
    ori: np.ndarray
    acc: np.ndarray
    lost: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return int(self.acc.shape[0])


def is_imu_tensor_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding ``acc.pt`` and ``ori.pt``."""
    p = Path(path)
    return p.is_dir() and (p / "acc.pt").is_file() and (p / "ori.pt").is_file()


def _load(path: Path) -> torch.Tensor:
    check_input_path(path, what="tensor file")
    try:
        x = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # torch raises several types for a corrupt or pickled file
        raise FormatError(path, f"not a plain tensor file ({type(err).__name__}: {str(err)[:200]})") from None
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise FormatError(path, f"expected a float tensor, found {type(x).__name__}")
    return x.detach().to(torch.float64)


def read_imu_tensors(folder: str | Path, fps: float = TRANSPOSE_FPS) -> IMUTensors:
    """Read a TransPose-layout folder (module docstring) at ``fps`` (its files carry no rate)."""
    folder = check_input_path(folder, folder_ok=True, what="IMU folder")
    if not is_imu_tensor_folder(folder):
        raise FormatError(folder, "an IMU tensor folder needs acc.pt and ori.pt")
    acc = _load(folder / "acc.pt")
    ori = _load(folder / "ori.pt")
    s = len(TRANSPOSE_SENSORS)
    if acc.ndim != 3 or acc.shape[1:] != (s, 3):
        raise FormatError(folder / "acc.pt", f"shape {tuple(acc.shape)}; expected (T, {s}, 3) for the six sensors "
                          f"{', '.join(TRANSPOSE_SENSORS)}", field="acc")  # fmt: skip
    if ori.ndim != 4 or ori.shape[1:] != (s, 3, 3):
        raise FormatError(folder / "ori.pt", f"shape {tuple(ori.shape)}; expected (T, {s}, 3, 3)", field="ori")
    if acc.shape[0] != ori.shape[0]:
        raise FormatError(folder, f"acc.pt has {acc.shape[0]} frames, ori.pt {ori.shape[0]}")
    if acc.shape[0] < 2:
        raise FormatError(folder / "acc.pt", "fewer than 2 frames")
    a, r = acc.numpy().copy(), ori.numpy().copy()
    lost = ~(np.isfinite(a).all(-1) & np.isfinite(r).all((-1, -2)))
    # A rotation matrix must be orthonormal; anything else is a wrong file, not a dropped sample.
    ok = ~lost
    rr = np.where(ok[..., None, None], r, np.eye(3))
    dev = np.abs(np.einsum("tsji,tsjk->tsik", rr, rr) - np.eye(3)).max((-1, -2))
    if (dev > 1e-2).any():
        t, k = (int(v) for v in np.argwhere(dev > 1e-2)[0])
        raise FormatError(folder / "ori.pt", f"sensor {TRANSPOSE_SENSORS[k]}: not a rotation matrix "
                          f"(|R^T R - I| = {dev[t, k]:.3g})", frame=t, field="ori")  # fmt: skip
    if lost.all(0).any():
        k = int(np.flatnonzero(lost.all(0))[0])
        raise FormatError(folder, f"sensor {TRANSPOSE_SENSORS[k]} has no finite sample", field=TRANSPOSE_SENSORS[k])
    for k in range(s):  # hold the last finite sample (the first finite one before any)
        idx = np.where(lost[:, k], -1, np.arange(len(a)))
        idx = np.maximum.accumulate(idx)
        idx[idx < 0] = int(np.flatnonzero(~lost[:, k])[0])
        a[:, k], r[:, k] = a[idx, k], r[idx, k]
    c = _C
    ori_ours = np.einsum("ij,tsjk,lk->tsil", c, r, c)
    for k, name in enumerate(TRANSPOSE_SENSORS):
        if name in _TPOSE:
            ori_ours[:, k] = ori_ours[:, k] @ _TPOSE[name]
    acc_ours = a @ c.T
    notes = [f"{int(lost.sum())} samples not finite (held)"] if lost.any() else []
    return IMUTensors(folder, TRANSPOSE_SENSORS, float(fps), ori_ours, acc_ours, lost, notes)
