"""Camera geometry for the video fitter: time grids, translations, depths, the floor from foot contacts.

Helpers of :mod:`.video_fit`: frames resampled onto a uniform grid (variable frame rates), the per-frame
camera translation that reprojects metric landmarks onto their pixels (linear least squares through a
pinhole camera), depth offsets that put a flat 2-D person's right side in front of or behind its left,
projection in the fitter's working frame, and the turn of a fitted motion into the world: the floor plane
through the resting feet (the camera's pitch and roll), the subject facing +X, the floor at ``y = 0``.
Camera axes: x right, y down, z away (OpenCV). Working frame: Y-up, X image-right, Z toward the camera.
World: Y-up, X anterior, Z right, metres (:mod:`musclepose.body.skeleton`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from scipy.ndimage import median_filter

from ..body import Body, forward_kinematics
from ..body.rotations import euler_zxy_to_matrix, matrix_to_euler_zxy

__all__ = [
    "MAX_TILT_DEG",
    "fill_frames",
    "fill_from",
    "project_working",
    "resample",
    "side_depths",
    "to_world",
    "translations",
    "uniform_grid",
]

MAX_TILT_DEG = 35.0  # a floor plane tilted more than this from the camera's level is not believed


def uniform_grid(times: np.ndarray, fps: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Grid times, and for each the left source frame and the interpolation weight toward the next."""
    if len(times) == 1:
        return times.copy(), np.zeros(1, dtype=int), np.zeros(1), float(fps or 30.0)
    rate = float(fps) if fps else 1.0 / float(np.median(np.diff(times)))
    n = int(np.floor((times[-1] - times[0]) * rate + 1e-6)) + 1
    grid = times[0] + np.arange(n) / rate
    i = np.clip(np.searchsorted(times, grid, side="right") - 1, 0, len(times) - 2)
    a = np.clip((grid - times[i]) / (times[i + 1] - times[i]), 0.0, 1.0)
    return grid, i, a, rate


def resample(x: np.ndarray, i: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Linear interpolation on the grid; where a neighbour is missing, the nearer sample (or NaN)."""
    if x.shape[0] == 1:
        return x.copy()
    w = a.reshape((-1,) + (1,) * (x.ndim - 1))
    lo, hi = x[i], x[i + 1]
    out = (1.0 - w) * lo + w * hi
    near = np.where(w < 0.5, lo, hi)
    return np.where(np.isnan(lo) | np.isnan(hi), near, out)


def translations(world: np.ndarray, pixels: np.ndarray, f: float, c: np.ndarray) -> np.ndarray:
    """Per frame, the camera-frame translation ``t`` that best reprojects ``world + t`` onto ``pixels``.

    For a point ``X``: ``f (X_x + t_x) = (u - c_x)(X_z + t_z)`` and likewise for y, linear in ``t``;
    least squares over the frame's points (NaN where fewer than 2 points)."""
    T = world.shape[0]
    out = np.full((T, 3), np.nan)
    for k in range(T):
        ok = np.isfinite(world[k]).all(-1) & np.isfinite(pixels[k]).all(-1)
        if ok.sum() < 2:
            continue
        X, uv = world[k, ok], pixels[k, ok] - c
        n = len(X)
        A = np.zeros((2 * n, 3))
        b = np.zeros(2 * n)
        A[:n, 0], A[:n, 2], b[:n] = f, -uv[:, 0], uv[:, 0] * X[:, 2] - f * X[:, 0]
        A[n:, 1], A[n:, 2], b[n:] = f, -uv[:, 1], uv[:, 1] * X[:, 2] - f * X[:, 1]
        out[k] = np.linalg.lstsq(A, b, rcond=None)[0]
    return out


def fill_frames(x: np.ndarray, good: np.ndarray) -> np.ndarray:
    """Values of bad frames (axis 0) linearly interpolated from good ones (held at the ends)."""
    if good.all() or not good.any():
        return x
    t = np.arange(len(x))
    flat = x.reshape(len(x), -1).copy()
    for j in range(flat.shape[1]):
        flat[~good, j] = np.interp(t[~good], t[good], flat[good, j])
    return flat.reshape(x.shape)


def side_depths(names: Sequence[str], xy_m: np.ndarray, model_pts: np.ndarray, px: np.ndarray) -> np.ndarray:
    """Depth offsets (m, camera z) that put each right-side point in front of or behind its left twin.

    A flat person (every point at one depth) has both hips at one depth, so the pelvis' left-right axis
    is lost in a side view. The body's heading ``phi`` (about the vertical, 0 = facing image-right) is
    read from how far apart the hips and shoulders appear against the body's widths (``sin phi``) and
    which way the nose points from the ears (the sign of ``cos phi``); each side then sits
    ``cos phi * half width`` toward or away from the camera. Per frame, median-filtered over time."""
    idx = {n: i for i, n in enumerate(names)}
    T = xy_m.shape[0]
    num, den = np.zeros(T), np.zeros(T)
    for a, b in (("right_hip", "left_hip"), ("right_shoulder", "left_shoulder")):
        if a in idx and b in idx:
            d = xy_m[:, idx[a], 0] - xy_m[:, idx[b], 0]
            width = float(np.linalg.norm(model_pts[idx[a]] - model_pts[idx[b]]))
            ok = np.isfinite(d)
            num[ok] += -d[ok]
            den[ok] += width
    sin_phi = np.where(den > 0, np.clip(num / np.where(den > 0, den, 1.0), -1.0, 1.0), 0.0)
    sin_phi = median_filter(sin_phi, size=min(9, T), mode="nearest")
    # Facing: the nose lies on the side the person faces (image x), relative to the ears or shoulders.
    ref = [idx[n] for n in ("right_ear", "left_ear") if n in idx] or [
        idx[n] for n in ("right_shoulder", "left_shoulder") if n in idx
    ]
    facing = 1.0
    if "nose" in idx and ref:
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ahead = np.nanmedian(px[:, idx["nose"], 0] - np.nanmean(px[:, ref, 0], axis=1))
        facing = -1.0 if np.isfinite(ahead) and ahead < 0 else 1.0
    cos_phi = facing * np.sqrt(1.0 - sin_phi**2)
    # Working frame Z (toward the camera) = -camera z; a right-side point sits at +cos(phi) * lateral
    # offset along working Z, i.e. -cos(phi) * offset in camera z.
    lateral = model_pts[:, 2] - 0.5 * (model_pts[idx["right_hip"], 2] + model_pts[idx["left_hip"], 2])
    return -cos_phi[:, None] * lateral[None, :]


def fill_from(q_sub: np.ndarray, sub: np.ndarray, n: int) -> np.ndarray:
    """``q`` at all ``n`` frames from its values at frames ``sub``, by linear interpolation."""
    t = np.arange(n)
    return np.stack([np.interp(t, sub, q_sub[:, j]) for j in range(q_sub.shape[1])], 1)


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking unit vector ``a`` onto ``b`` (Rodrigues)."""
    v, c = np.cross(a, b), float(np.dot(a, b))
    if np.linalg.norm(v) < 1e-12:
        return np.eye(3)
    vx = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)


def project_working(x_w0: torch.Tensor, f: float, c: np.ndarray) -> torch.Tensor:
    """Pixels of working-frame points (Y-up, camera at the origin looking along -Z)."""
    z = (-x_w0[..., 2]).clamp(min=0.05)
    u = f * x_w0[..., 0] / z + float(c[0])
    v = f * (-x_w0[..., 1]) / z + float(c[1])
    return torch.stack([u, v], -1)


def _floor_normal(pts: np.ndarray, rate: float, passes: int = 3) -> np.ndarray | None:
    """The floor's upward normal in the working frame from the sole points ``(T, 4, 3)`` (heels, toes).

    Resting frames (the lowest sole point slower than 0.3 m/s and within 5 cm of the lowest level)
    give candidate contact points; a plane ``h = a u + b w + d`` is fitted to them, points more than
    3 cm off it are dropped, and the heights and the selection are redone against the new normal
    (heights along a level camera's up would cut a tilted floor short on its high side: a 10.5 deg
    pitch was found as 5.0 deg that way). A slope is only believed along a direction the points
    span by 20 cm or more."""
    up = np.array([0.0, 1.0, 0.0])
    for _ in range(passes):
        r = _rotation_between(up, np.array([0.0, 1.0, 0.0]))
        p = pts @ r.T  # heights along the current up are p[..., 1]
        low = p[np.arange(len(p)), p[..., 1].argmin(1)]
        speed = np.linalg.norm(np.gradient(low, axis=0), axis=-1) * rate if len(low) > 1 else np.zeros(1)
        rest = (speed < 0.3) & (low[:, 1] < np.percentile(low[:, 1], 30) + 0.05)
        cand = p[rest].reshape(-1, 3)
        if len(cand) < 4:
            return None
        keep = np.ones(len(cand), dtype=bool)
        for _ in range(2):  # fit, drop the points off the plane (a lifted heel, a toe in the air), refit
            A = np.column_stack([cand[:, 0], cand[:, 2], np.ones(len(cand))])
            span = np.ptp(cand[keep][:, [0, 2]], axis=0)
            A[:, [j for j in range(2) if span[j] < 0.2]] = 0.0
            coef = np.linalg.lstsq(A[keep], cand[keep, 1], rcond=None)[0]
            keep = np.abs(A @ coef - cand[:, 1]) < 0.03
            if keep.sum() < 4:
                return None
        n = np.array([-coef[0], 1.0, -coef[1]])
        up = r.T @ (n / np.linalg.norm(n))
    return up


def to_world(body: Body, q: np.ndarray, feet: list[str], rate: float) -> tuple[np.ndarray, str, float]:
    """Turn the working-frame motion so that the floor (from foot contacts) is ``y = 0`` and the
    subject faces +X; returns the new ``q``, where the floor came from, and the camera tilt (deg)."""
    qt = torch.tensor(q)
    with torch.no_grad():
        fk = forward_kinematics(body, qt)
    up = np.array([0.0, 1.0, 0.0])
    floor_from, tilt = "level camera", 0.0
    sole = body.landmark_indices(["right_heel", "left_heel", "right_foot_index", "left_foot_index"])
    if feet:
        found = _floor_normal(fk.landmarks[:, sole].numpy(), rate)
        if found is not None:
            n = found
            ang = math.degrees(math.acos(float(np.clip(n[1], -1, 1))))
            if ang <= MAX_TILT_DEG:
                up, floor_from, tilt = n, "foot contacts", ang
    r_up = _rotation_between(up, np.array([0.0, 1.0, 0.0]))
    pelvis_x = fk.rotations[:, 0, :, 0].numpy() @ r_up.T
    heading = np.arctan2(-np.median(pelvis_x[:, 2]), np.median(pelvis_x[:, 0]))  # angle about +Y from +X
    cy, sy = math.cos(-heading), math.sin(-heading)
    r_head = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    R = r_head @ r_up
    out = q.copy()
    out[:, 0:3] = q[:, 0:3] @ R.T
    root = euler_zxy_to_matrix(torch.tensor(q[:, 3:6])).numpy()
    out[:, 3:6] = np.unwrap(matrix_to_euler_zxy(torch.tensor(R @ root)).numpy(), axis=0)
    with torch.no_grad():
        low = forward_kinematics(body, torch.tensor(out)).landmarks[:, sole, 1].min(-1).values.numpy()
    if floor_from == "foot contacts":
        out[:, 1] -= float(np.median(np.sort(low)[: max(1, len(low) // 3)]))
    elif feet:
        out[:, 1] -= float(np.percentile(low, 2))
    else:
        # No foot in the picture: nothing says the feet ever leave the floor or slide, while the hips'
        # place from the pixels sways with the trunk; the (unseen, standing) feet are held where they
        # stand on average, on the floor, in every frame.
        out[:, 1] -= low
        with torch.no_grad():
            org = forward_kinematics(body, torch.tensor(out)).origins.numpy()
        feet_xz = 0.5 * (org[:, body.segment_index("foot_r")] + org[:, body.segment_index("foot_l")])[:, [0, 2]]
        out[:, [0, 2]] -= feet_xz - np.median(feet_xz, axis=0)
    return out, floor_from, tilt
