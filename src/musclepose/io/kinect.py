"""Kinect joint files: UI-PRMD Kinect v2 episodes (hierarchical) and Kinect v2 camera-space joints.

UI-PRMD (checked on ``m01_s01_e01_positions.txt``): 22 joints x 3 comma-separated values per
row, 30 Hz, no header. The first triple is the root (``Waist`` = SpineBase) position in
centimetres in camera space; every other triple is that joint's offset from its parent in the
parent's frame (bone lengths along the axes of a T-pose skeleton, Y up, X to the subject's left,
Z forward). The sibling ``*_angles.txt`` holds each joint's rotation relative to its parent as
intrinsic Z-X-Y Euler angles in degrees, columns (x, y, z): of the 12 intrinsic/extrinsic
orders, only Z-X-Y keeps the feet still during the deep squat (foot position scatter 2.7 cm
against 11 cm or more). The hierarchy is :data:`UIPRMD_JOINTS`. A file of 25 joints x 3 values
is read as the SDK's camera-space joints (:data:`KINECT_V2_JOINTS`, metres, Y up).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from .errors import FormatError

__all__ = ["KINECT_V2_JOINTS", "UIPRMD_JOINTS", "read_kinect_joints", "uiprmd_positions"]

#: UI-PRMD Kinect hierarchy: (name, parent index); names follow BVH conventions.
UIPRMD_JOINTS: tuple[tuple[str, int], ...] = (
    ("Waist", -1), ("Spine", 0), ("Chest", 1), ("Neck", 2), ("Head", 3), ("HeadTip", 4),
    ("LeftCollar", 2), ("LeftUpperArm", 6), ("LeftForeArm", 7), ("LeftHand", 8),
    ("RightCollar", 2), ("RightUpperArm", 10), ("RightForeArm", 11), ("RightHand", 12),
    ("LeftUpperLeg", 0), ("LeftLowerLeg", 14), ("LeftFoot", 15), ("LeftLegToes", 16),
    ("RightUpperLeg", 0), ("RightLowerLeg", 18), ("RightFoot", 19), ("RightLegToes", 20),
)  # fmt: skip
#: Kinect v2 SDK joint order (``JointType``) -> our point, for 25-joint camera-space files.
KINECT_V2_JOINTS: tuple[tuple[str, str | None], ...] = (
    ("SpineBase", None), ("SpineMid", None), ("Neck", "neck"), ("Head", None),
    ("ShoulderLeft", "left_shoulder"), ("ElbowLeft", "left_elbow"), ("WristLeft", "left_wrist"), ("HandLeft", None),
    ("ShoulderRight", "right_shoulder"), ("ElbowRight", "right_elbow"), ("WristRight", "right_wrist"),
    ("HandRight", None), ("HipLeft", "left_hip"), ("KneeLeft", "left_knee"), ("AnkleLeft", "left_ankle"),
    ("FootLeft", "left_toe"), ("HipRight", "right_hip"), ("KneeRight", "right_knee"), ("AnkleRight", "right_ankle"),
    ("FootRight", "right_toe"), ("SpineShoulder", None), ("HandTipLeft", None), ("ThumbLeft", None),
    ("HandTipRight", None), ("ThumbRight", None),
)  # fmt: skip


def _read_numbers(path: Path) -> np.ndarray:
    try:
        # UI-PRMD is distributed gzipped (``*.txt.gz``) as well as plain.
        raw = gzip.open(path, "rb").read() if path.suffix.lower() == ".gz" else path.read_bytes()
        rows = [ln for ln in raw.decode("utf-8").splitlines() if ln.strip()]
    except (OSError, EOFError) as e:
        raise FormatError(path, f"cannot read: {e}") from None
    except UnicodeDecodeError as e:
        raise FormatError(path, f"not UTF-8 text (byte {e.start})") from None
    if not rows:
        raise FormatError(path, "empty file")
    out = []
    for i, ln in enumerate(rows):
        try:
            out.append([float(v) for v in ln.replace(",", " ").split()])
        except ValueError:
            raise FormatError(path, "not a row of numbers", line=i + 1) from None
        if len(out[-1]) != len(out[0]):
            raise FormatError(path, f"{len(out[-1])} values, but the first row has {len(out[0])}", line=i + 1)
    return np.array(out)


def _euler_zxy_deg(a: np.ndarray) -> np.ndarray:
    """Intrinsic Z-X-Y rotation matrices from angle columns (x, y, z) in degrees: ``Rz Rx Ry``."""
    x, y, z = np.radians(a[..., 0]), np.radians(a[..., 1]), np.radians(a[..., 2])
    one, zero = np.ones_like(x), np.zeros_like(x)

    def mat(rows):
        return np.stack([np.stack(r, -1) for r in rows], -2)

    rz = mat([[np.cos(z), -np.sin(z), zero], [np.sin(z), np.cos(z), zero], [zero, zero, one]])
    rx = mat([[one, zero, zero], [zero, np.cos(x), -np.sin(x)], [zero, np.sin(x), np.cos(x)]])
    ry = mat([[np.cos(y), zero, np.sin(y)], [zero, one, zero], [-np.sin(y), zero, np.cos(y)]])
    return rz @ rx @ ry


def uiprmd_positions(positions: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Global joint positions ``(T, 22, 3)`` (file units) of a UI-PRMD Kinect episode.

    ``positions`` and ``angles`` are the two files' rows reshaped to ``(T, 22, 3)``; see the
    module docstring for the layout.
    """
    t = positions.shape[0]
    rot = np.zeros((t, len(UIPRMD_JOINTS), 3, 3))
    out = np.zeros((t, len(UIPRMD_JOINTS), 3))
    local = _euler_zxy_deg(angles)
    for j, (_, parent) in enumerate(UIPRMD_JOINTS):
        if parent < 0:
            rot[:, j], out[:, j] = local[:, j], positions[:, j]
        else:
            rot[:, j] = rot[:, parent] @ local[:, j]
            out[:, j] = out[:, parent] + np.einsum("tij,tj->ti", rot[:, parent], positions[:, j])
    return out


def read_kinect_joints(path: Path) -> tuple[list[str], np.ndarray, np.ndarray, float, str]:
    """A Kinect file's joints: names, global positions ``(T, J, 3)`` and rest pose ``(J, 3)`` in
    file units, the hip-to-ankle length and the format's name (UI-PRMD needs its ``*_angles.txt``)."""
    raw = _read_numbers(path)
    n = raw.shape[1]
    if n == 3 * len(UIPRMD_JOINTS):
        stem = path.name
        if "_angles" in stem:
            raise FormatError(path, "this is a UI-PRMD joint-angle file; load the matching *_positions.txt")
        apath = path.with_name(stem.replace("_positions", "_angles"))
        if apath == path or not apath.is_file():
            raise FormatError(
                path, f"UI-PRMD Kinect positions are offsets in the parent joints' frames; the rotations come from "
                f"{apath.name}, which is missing",
            )  # fmt: skip
        ang = _read_numbers(apath)
        if ang.shape != raw.shape:
            raise FormatError(apath, f"shape {ang.shape} does not match the positions file's {raw.shape}")
        joint_names = [j for j, _ in UIPRMD_JOINTS]
        glob = uiprmd_positions(raw.reshape(len(raw), -1, 3), ang.reshape(len(ang), -1, 3))
        # Rest pose: the median bone offsets with every rotation zero (root at the origin).
        off = np.median(raw.reshape(len(raw), -1, 3), axis=0)
        rest = np.zeros_like(off)
        for j, (_, par) in enumerate(UIPRMD_JOINTS):
            rest[j] = off[j] + rest[par] if par >= 0 else 0.0
        legs = np.linalg.norm(raw.reshape(len(raw), -1, 3)[:, [15, 16, 19, 20]], axis=-1)  # thigh, shank bones
        leg = float(np.median(legs.sum(-1) / 2.0))
        fmt = "UI-PRMD Kinect (hierarchical, Z-X-Y Euler angles)"
    elif n == 3 * len(KINECT_V2_JOINTS):
        glob = raw.reshape(len(raw), -1, 3)
        rest = np.full((len(KINECT_V2_JOINTS), 3), np.nan)  # no rest pose: no root point
        # Renamed to names the BVH table knows (HipLeft -> LeftHip, FootLeft -> LeftToe).
        joint_names = [_kinect_v2_name(k) for k, _ in KINECT_V2_JOINTS]
        i = {k: j for j, (k, _) in enumerate(KINECT_V2_JOINTS)}
        leg = float(
            np.nanmedian(
                np.linalg.norm(glob[:, i["HipLeft"]] - glob[:, i["KneeLeft"]], axis=-1)
                + np.linalg.norm(glob[:, i["KneeLeft"]] - glob[:, i["AnkleLeft"]], axis=-1)
            )
        )
        fmt = "Kinect v2 camera-space joints"
    else:
        raise FormatError(
            path, f"{n} values per row: expected UI-PRMD Kinect ({3 * len(UIPRMD_JOINTS)}) or Kinect v2 "
            f"camera-space joints ({3 * len(KINECT_V2_JOINTS)})",
        )  # fmt: skip
    return joint_names, glob, rest, leg, fmt


def _kinect_v2_name(name: str) -> str:
    for side in ("Left", "Right"):
        if name.endswith(side) and name not in ("HandTipLeft", "HandTipRight"):
            part = name[: -len(side)]
            return side + {"Foot": "Toe", "Ankle": "Ankle", "Wrist": "Wrist"}.get(part, part)
    return name
