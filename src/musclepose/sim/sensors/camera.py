"""Simulated video keypoints (a pinhole camera) and lab markers from body kinematics.

Camera conventions (OpenCV): camera coordinates have x to the right of the image, y down
and z forward along the optical axis (m); pixels are ``u = fx x / z + cx``,
``v = fy y / z + cy`` with the origin at the top-left corner of the image (pixel centres at
integers, as OpenCV), no lens distortion. The camera is placed in our Y-up world
(:mod:`musclepose.body.skeleton`) by a position and a look-at target (:meth:`PinholeCamera.look_at`).

:func:`simulate_keypoints` projects COCO-17 or MediaPipe-33 landmarks of
:func:`~musclepose.body.forward_kinematics` and imitates a video pose estimator:

- occlusion by the body itself: each segment is a capsule (radius from mean girths,
  :func:`body_capsules`); a keypoint is occluded when the line of sight from the camera
  centre to it passes through a capsule that does not contain it, other than its own
  segment's and its neighbours' (a joint centre always lies inside its own limb). Face
  points are also occluded when they face away from the camera (outward normal from the
  head centre). Segment-to-segment distances follow Ericson (2005), *Real-Time Collision
  Detection*, sec. 5.1.9;
- out-of-frame flags (outside the image, or behind the camera: NaN, confidence 0);
- confidence: high for visible points, lower when occluded, out of frame or blurred by
  fast image motion (pixels moved per frame), plus a little noise;
- pixel jitter (Gaussian), larger for occluded and fast points.

:meth:`CameraKeypoints.to_keypoint_data` gives :class:`musclepose.io.keypoints.KeypointData`
for :func:`~musclepose.io.keypoints.write_keypoints`: 2D pixels, normalised image
coordinates, or 3D camera coordinates in metres (what :func:`musclepose.io.load_motion`
lifts to a Motion).

Tensors are torch with any leading batch shape ``(..., T, ...)``; numpy only in the
``to_*`` converters. Soft-tissue artefact and the pose estimator's systematic (per-joint)
bias are not modelled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ...body import Body, FKResult, forward_kinematics
from ...body.landmarks import LANDMARK_SETS
from ...body.skeleton import PARENTS
from .seeding import randn, torch_generator

__all__ = [
    "CameraKeypoints",
    "PinholeCamera",
    "body_capsules",
    "simulate_keypoints",
]


@dataclass(frozen=True)
class PinholeCamera:
    """A pinhole camera: intrinsics in pixels, extrinsics as a world-to-camera rotation and centre.

    Attributes
    ----------
    fx, fy, cx, cy : float
        Focal lengths and principal point, pixels.
    width, height : int
        Image size, pixels.
    rotation : 3x3 tuple
        World-to-camera rotation: its rows are the camera x (right), y (down) and z
        (forward) axes in the world.
    position : (3,) tuple
        Camera centre in the world, m.
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    rotation: tuple[tuple[float, float, float], ...]
    position: tuple[float, float, float]

    @classmethod
    def look_at(
        cls,
        position: Sequence[float] = (3.5, 1.0, 0.0),
        target: Sequence[float] = (0.0, 0.9, 0.0),
        up: Sequence[float] = (0.0, 1.0, 0.0),
        width: int = 1280,
        height: int = 720,
        fov_deg: float = 60.0,
    ) -> PinholeCamera:
        """A camera at ``position`` looking at ``target`` with the image's up along ``up``.

        ``fov_deg`` is the horizontal field of view (square pixels, principal point at the
        image centre). The default faces the subject (who faces +X) from 3.5 m in front.
        """
        c, t, u = (np.asarray(v, dtype=np.float64) for v in (position, target, up))
        z = t - c
        if np.linalg.norm(z) < 1e-9:
            raise ValueError("camera position and target coincide")
        z /= np.linalg.norm(z)
        x = np.cross(z, u)  # forward x up = right
        if np.linalg.norm(x) < 1e-9:
            raise ValueError("the viewing direction is parallel to 'up'")
        x /= np.linalg.norm(x)
        y = np.cross(z, x)  # forward x right = down
        f = 0.5 * width / math.tan(math.radians(fov_deg) / 2)
        rot = tuple(tuple(float(v) for v in row) for row in (x, y, z))
        return cls(f, f, (width - 1) / 2, (height - 1) / 2, int(width), int(height), rot, tuple(float(v) for v in c))

    @property
    def K(self) -> np.ndarray:
        """3x3 intrinsic matrix."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def image_size(self) -> tuple[int, int]:
        return (self.width, self.height)

    def _rt(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        kw = {"dtype": like.dtype, "device": like.device}
        return torch.as_tensor(self.rotation, **kw), torch.as_tensor(self.position, **kw)

    def world_to_camera(self, points: torch.Tensor) -> torch.Tensor:
        """World points ``(..., 3)`` to camera coordinates ``(..., 3)`` (x right, y down, z forward)."""
        r, c = self._rt(points)
        return (points - c) @ r.T

    def camera_to_pixels(self, xyz: torch.Tensor) -> torch.Tensor:
        """Camera coordinates ``(..., 3)`` to pixels ``(..., 2)`` (NaN-free; z is not checked)."""
        z = xyz[..., 2:3]
        z = torch.where(z.abs() < 1e-9, torch.full_like(z, 1e-9), z)
        f = torch.as_tensor([self.fx, self.fy], dtype=xyz.dtype, device=xyz.device)
        c = torch.as_tensor([self.cx, self.cy], dtype=xyz.dtype, device=xyz.device)
        return xyz[..., :2] / z * f + c

    def project(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """World points ``(..., 3)`` to pixels ``(..., 2)`` and depth along the optical axis ``(...)``."""
        xyz = self.world_to_camera(points)
        return self.camera_to_pixels(xyz), xyz[..., 2]

    def in_frame(self, pixels: torch.Tensor, depth: torch.Tensor, near: float = 0.05) -> torch.Tensor:
        """True where a point lies in front of the camera and inside the image (pixel centres -0.5 .. size-0.5)."""
        u, v = pixels[..., 0], pixels[..., 1]
        return (depth > near) & (u >= -0.5) & (u <= self.width - 0.5) & (v >= -0.5) & (v <= self.height - 0.5)


# --------------------------------------------------------------------------- body capsules
# Radii as fractions of stature: mean circumference / (2 pi) of US Army men (ANSUR II,
# Gordon et al. 2014; stature 1.75 m) for the limbs and head; the trunk (an ellipse in
# section) is a capsule of its half-depth. Rough on purpose: they decide which keypoints
# hide behind which limbs, not contacts.
_RADIUS_FRACTION = {
    "pelvis": 0.055, "lumbar": 0.060, "thorax": 0.065, "thorax_chest": 0.060, "head": 0.050,
    "upperarm": 0.027, "forearm": 0.022, "hand": 0.016, "thigh": 0.045, "shank": 0.030, "foot": 0.020,
}  # fmt: skip


def body_capsules(body: Body) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Capsules approximating the body: segment index ``(C,)``, end points ``a, b (C, 3)`` in the
    segment frame (m) and radii ``(C,)`` (m). Scapulae are inside the thorax and have none."""
    L, h = body.lengths, body.height_m
    lengths = body.segment_lengths()
    seg, a, b, r = [], [], [], []

    def add(name: str, p0, p1, kind: str) -> None:
        seg.append(body.segment_index(name))
        a.append(p0)
        b.append(p1)
        r.append(_RADIUS_FRACTION[kind] * h)

    half_hip = 0.5 * L["hip_width"]
    add("pelvis", (0.0, 0.05 * h, -half_hip), (0.0, 0.05 * h, half_hip), "pelvis")
    add("lumbar", (0.0, 0.0, 0.0), tuple(body.offsets[body.segment_index("thorax")]), "lumbar")
    thorax_len = lengths["thorax"]
    add("thorax", (0.0, 0.0, 0.0), (0.0, 0.8 * thorax_len, 0.0), "thorax")
    sh = 0.5 * L["shoulder_width"] - _RADIUS_FRACTION["thorax_chest"] * h
    add("thorax", (0.0, 0.7 * thorax_len, -sh), (0.0, 0.7 * thorax_len, sh), "thorax_chest")
    lh = L["head"]
    add("head", (0.05 * lh, 0.35 * lh, 0.0), (0.05 * lh, 0.75 * lh, 0.0), "head")
    for s in ("r", "l"):
        add(f"upperarm_{s}", (0.0, 0.0, 0.0), (0.0, -L["upperarm"], 0.0), "upperarm")
        add(f"forearm_{s}", (0.0, 0.0, 0.0), (0.0, -L["forearm"], 0.0), "forearm")
        add(f"hand_{s}", (0.0, -0.2 * L["hand"], 0.0), (0.0, -0.8 * L["hand"], 0.0), "hand")
        add(f"thigh_{s}", (0.0, 0.0, 0.0), (0.0, -L["thigh"], 0.0), "thigh")
        add(f"shank_{s}", (0.0, 0.0, 0.0), (0.0, -L["shank"], 0.0), "shank")
        y = -0.6 * L["ankle_height"]
        add(
            f"foot_{s}",
            (-L["heel_back"] + 0.02 * h, y, 0.0),
            (L["foot_full"] - L["heel_back"] - 0.02 * h, y, 0.0),
            "foot",
        )
    return np.array(seg), np.array(a, dtype=np.float64), np.array(b, dtype=np.float64), np.array(r)


def _sight_distances(c: torch.Tensor, p: torch.Tensor, a: torch.Tensor, b: torch.Tensor, paired: bool = False):
    """For every landmark ``p (..., K, 3)`` and capsule axis ``[a, b] (..., C, 3)``: the distance
    of the axis from the line of sight ``[c, p]`` (``c (..., 1, 3)``, the camera) and from ``p``,
    both ``(..., K, C)``. ``paired``: ``c, p, a, b`` all ``(..., 3)`` are matched pairs instead,
    and the distances ``(...)``.

    Closest points of two segments as in Ericson 2005 (*Real-Time Collision Detection*, sec.
    5.1.9), on all pairs at once: every pairwise term is a dot product (one batched matrix
    product each) and the squared distances are expanded, so nothing of size ``(..., K, C, 3)``
    is formed (2.4x less time than with pairwise vectors for a 1000-frame clip, measured)."""
    eps = 1e-12

    def dot(x, y):  # a sum over a last axis of 3 is slow in torch; per component it is not
        return x[..., 0] * y[..., 0] + x[..., 1] * y[..., 1] + x[..., 2] * y[..., 2]

    if paired:
        pair = dot
        row = col = lambda x: x  # noqa: E731
    else:
        pair = lambda x, y: torch.einsum("...kx,...cx->...kc", x, y)  # noqa: E731
        row, col = (lambda x: x[..., :, None]), (lambda x: x[..., None, :])
    d1, d2, r = p - c, b - a, c - a  # (K), (C), (C)
    A, E = row(dot(d1, d1)), col(dot(d2, d2))
    F, R = col(dot(d2, r)), col(dot(r, r))
    B = pair(d1, d2)
    Cc = pair(d1, r)
    denom = A * E - B * B
    s = torch.where(denom > eps, ((B * F - Cc * E) / denom.clamp(min=eps)).clamp(0, 1), torch.zeros_like(B))
    t = (B * s + F) / E.clamp(min=eps)
    Ai = 1.0 / A.clamp(min=eps)
    s = torch.where(t < 0, (-Cc * Ai).clamp(0, 1), torch.where(t > 1, ((B - Cc) * Ai).clamp(0, 1), s))
    t = t.clamp(0, 1)
    point_axis = E <= eps  # a sphere: the closest point of the sight line to its centre
    s = torch.where(point_axis, (-Cc * Ai).clamp(0, 1), s)
    t = torch.where(point_axis, torch.zeros_like(t), t)
    # |r + s d1 - t d2|^2
    line2 = R + s * s * A + t * t * E + 2.0 * s * Cc - 2.0 * t * F - 2.0 * s * t * B
    # Point to axis: u = p - a; |u - t' d2|^2 with t' = clamp(u . d2 / E).
    ud2 = pair(p, d2) - col(dot(a, d2))
    uu = row(dot(p, p)) - 2.0 * pair(p, a) + col(dot(a, a))
    tp = (ud2 / E.clamp(min=eps)).clamp(0, 1)
    point2 = uu - 2.0 * tp * ud2 + tp * tp * E
    return line2.clamp(min=0).sqrt(), point2.clamp(min=0).sqrt()


# --------------------------------------------------------------------------- keypoints
@dataclass(frozen=True)
class CameraKeypoints:
    """Simulated detections of one camera, ``K`` keypoints over ``T`` frames (any leading batch shape).

    Attributes
    ----------
    layout : {"coco17", "mediapipe33"}
    names : tuple of str
    pixels : (..., T, K, 2)
        Detected image positions (jittered), pixels; NaN behind the camera.
    camera_xyz : (..., T, K, 3)
        Detected 3D positions in camera coordinates (jittered consistently with the
        pixels, plus depth noise), m; NaN behind the camera.
    true_pixels, true_camera_xyz
        The same without noise.
    confidence : (..., T, K)
        Detector confidence in [0, 1].
    occluded, in_frame : (..., T, K) bool
    fps : float
    camera : PinholeCamera
    """

    layout: str
    names: tuple[str, ...]
    pixels: torch.Tensor
    camera_xyz: torch.Tensor
    true_pixels: torch.Tensor
    true_camera_xyz: torch.Tensor
    confidence: torch.Tensor
    occluded: torch.Tensor
    in_frame: torch.Tensor
    fps: float
    camera: PinholeCamera

    def to_keypoint_data(self, kind: str = "pixels"):
        """Unbatched detections as :class:`~musclepose.io.keypoints.KeypointData` (numpy).

        ``kind``: ``"pixels"`` (2D, pixels), ``"normalized"`` (2D, fractions of the image
        size) or ``"camera"`` (3D camera coordinates in metres, x right, y down, z away
        from the camera: the axes :func:`musclepose.io.load_motion` expects).
        """
        from ...io.keypoints import KeypointData

        if self.pixels.ndim != 3:
            raise ValueError(f"to_keypoint_data needs unbatched keypoints (T, K, 2); got {tuple(self.pixels.shape)}")
        if kind == "pixels":
            pos, normalized = self.pixels, False
        elif kind == "normalized":
            pos, normalized = (
                self.pixels / torch.as_tensor([self.camera.width, self.camera.height]).to(self.pixels),
                True,
            )
        elif kind == "camera":
            pos, normalized = self.camera_xyz, False
        else:
            raise ValueError(f"kind must be 'pixels', 'normalized' or 'camera'; got {kind!r}")
        pos = pos.detach().cpu().numpy().astype(np.float64)
        conf = self.confidence.detach().cpu().numpy().astype(np.float64)
        conf = np.where(np.isnan(pos).any(-1), 0.0, conf)
        return KeypointData(
            path=None,
            layout=self.layout,  # type: ignore[arg-type]
            names=self.names,
            positions=pos,
            confidence=conf,
            normalized=normalized,
            image_size=self.camera.image_size,
            fps=float(self.fps),
        )


def _self_occlusion(body: Body, fk, idx: list[int], centre: torch.Tensor) -> torch.Tensor:
    """``(..., K)`` True where the line of sight to a landmark crosses a foreign capsule, or a face point faces away.

    A capsule can only hide a landmark if the sight line passes within its bounding sphere
    (centre of the axis, half the axis plus the radius), so that cheap test runs on every pair
    and the exact segment distances (:func:`_sight_distances`) only on the pairs it keeps, a
    few per cent of them (same result, 4x less time for a 1000-frame clip, measured)."""
    cap_seg, ca, cb, cr = body_capsules(body)
    kw = {"dtype": fk.origins.dtype, "device": fk.origins.device}
    rot, org = fk.rotations[..., cap_seg, :, :], fk.origins[..., cap_seg, :]
    a = org + (rot @ torch.as_tensor(ca, **kw)[..., None])[..., 0]  # (..., C, 3)
    b = org + (rot @ torch.as_tensor(cb, **kw)[..., None])[..., 0]
    radius = torch.as_tensor(cr, **kw)
    p = fk.landmarks[..., idx, :]  # (..., K, 3)
    lm_seg = [body.landmarks[body.landmark_names[i]][0] for i in idx]
    near = np.zeros((len(idx), len(cap_seg)), dtype=bool)  # own segment and its neighbours
    for k, s in enumerate(lm_seg):
        family = {s, PARENTS[s]} | {c for c, par in enumerate(PARENTS) if par == s}
        near[k] = np.isin(cap_seg, list(family))
    c = centre.to(**kw).expand(p.shape[:-2] + (1, 3))
    # Bounding spheres against the sight segments [c, p], all pairs (..., K, C), in float32 per
    # component (a sum over a last axis of 3 is slow in torch); the slack of 1 cm^2 covers
    # float32's rounding, since the exact test below decides.
    f32 = torch.float32
    d1 = (p - c).to(f32).unbind(-1)
    mc = (0.5 * (a + b) - c).to(f32).unbind(-1)
    reach = (0.5 * (b - a).norm(dim=-1) + radius).to(f32)  # (..., C)
    proj = sum(x[..., :, None] * y[..., None, :] for x, y in zip(d1, mc, strict=True))
    aa = sum(x * x for x in d1)[..., :, None].clamp(min=1e-12)  # (..., K, 1)
    s = (proj / aa).clamp_(0.0, 1.0)
    gap2 = sum(y * y for y in mc)[..., None, :] - s * (2.0 * proj - s * aa)
    maybe = (gap2 < (reach * reach)[..., None, :] + 1e-4) & ~torch.as_tensor(near, device=p.device)
    hits = maybe.nonzero()  # (n, nd): leading indices, landmark, capsule
    lead, kk, cc = tuple(hits[:, :-2].t()), hits[:, -2], hits[:, -1]
    dist, to_point = _sight_distances(
        c[(*lead, torch.zeros_like(kk))], p[(*lead, kk)], a[(*lead, cc)], b[(*lead, cc)], paired=True
    )  # (n,)
    r = radius[cc]
    hidden = torch.zeros_like(maybe)
    hidden[(*lead, kk, cc)] = (dist < r) & ~(to_point <= r)
    occluded = hidden.any(-1)
    c = c.expand(p.shape)
    # Face points facing away from the camera (normal: from the head centre outwards).
    head = body.segment_index("head")
    face = [k for k, s in enumerate(lm_seg) if s == head]
    if face:
        centre_local = torch.as_tensor([0.05 * body.lengths["head"], 0.55 * body.lengths["head"], 0.0], **kw)
        hc = fk.origins[..., head, :] + (fk.rotations[..., head, :, :] @ centre_local[..., None])[..., 0]
        n = p[..., face, :] - hc[..., None, :]
        view = c[..., face, :] - p[..., face, :]
        cos = (n * view).sum(-1) / (n.norm(dim=-1) * view.norm(dim=-1)).clamp(min=1e-12)
        occluded = occluded.clone()
        occluded[..., face] |= cos < -0.3
    return occluded


def simulate_keypoints(
    body: Body,
    q: torch.Tensor,
    camera: PinholeCamera | None = None,
    layout: str = "coco17",
    fps: float = 30.0,
    generator: torch.Generator | int | None = None,
    jitter_px: float = 2.0,
    depth_noise_m: float = 0.02,
    blur_px: float = 25.0,
    confidence_noise: float = 0.03,
    occlusion: bool = True,
    fk: FKResult | None = None,
) -> CameraKeypoints:
    """Keypoints a video pose estimator would report for motion ``q (..., T, 47)`` seen by ``camera``.

    Parameters
    ----------
    body, q
        The body and its states; frames on dimension -2.
    camera
        Default :meth:`PinholeCamera.look_at` (frontal, 3.5 m away, 1280x720, 60 deg).
    layout
        ``"coco17"`` or ``"mediapipe33"``.
    fps
        Frame rate of ``q`` (image speeds, the clip's rate).
    generator
        ``torch.Generator`` or integer seed.
    jitter_px
        Pixel noise (1 sigma) of a visible, still keypoint; x (1 + 2 occluded + speed / blur_px).
    depth_noise_m
        Extra noise (1 sigma) of the 3D depth, m.
    blur_px
        Image motion per frame (pixels) at which the confidence halves.
    confidence_noise
        Noise (1 sigma) added to the confidence before clipping to [0, 1].
    occlusion
        Model self-occlusion (else only the out-of-frame rule).
    fk
        ``forward_kinematics(body, q)`` if the caller has it already.
    """
    if layout not in ("coco17", "mediapipe33"):
        raise ValueError(f"layout must be 'coco17' or 'mediapipe33'; got {layout!r}")
    camera = camera or PinholeCamera.look_at()
    g = torch_generator(generator)
    names = LANDMARK_SETS[layout]
    idx = body.landmark_indices(layout)
    fk = fk if fk is not None else forward_kinematics(body, q)
    pts = fk.landmarks[..., idx, :]  # (..., T, K, 3)
    xyz = camera.world_to_camera(pts)
    uv = camera.camera_to_pixels(xyz)
    depth = xyz[..., 2]
    inside = camera.in_frame(uv, depth)
    front = depth > 0.05
    centre = torch.as_tensor(camera.position, dtype=q.dtype, device=q.device)
    occluded = _self_occlusion(body, fk, idx, centre) if occlusion else torch.zeros_like(inside)

    # Image speed (pixels per frame) by central differences of the true projections.
    if uv.shape[-3] > 1:
        step = torch.zeros_like(uv)
        step[..., 1:-1, :, :] = 0.5 * (uv[..., 2:, :, :] - uv[..., :-2, :, :])
        step[..., 0, :, :] = uv[..., 1, :, :] - uv[..., 0, :, :]
        step[..., -1, :, :] = uv[..., -1, :, :] - uv[..., -2, :, :]
        speed = step.norm(dim=-1)
    else:
        speed = torch.zeros_like(depth)
    blur = speed / blur_px
    conf = 0.95 * torch.where(occluded, 0.35, 1.0).to(depth) * torch.where(inside, 1.0, 0.1).to(depth) / (1.0 + blur**2)
    conf = (conf + confidence_noise * randn(g, conf.shape, conf)).clamp(0.0, 1.0)
    sigma = jitter_px * (1.0 + 2.0 * occluded.to(uv.dtype) + blur)
    noisy_uv = uv + sigma[..., None] * randn(g, uv.shape, uv)
    # 3D: the same image-plane error back-projected at the true depth, plus depth noise.
    z_noisy = depth + depth_noise_m * randn(g, depth.shape, depth)
    f = torch.as_tensor([camera.fx, camera.fy], dtype=uv.dtype, device=uv.device)
    c = torch.as_tensor([camera.cx, camera.cy], dtype=uv.dtype, device=uv.device)
    xy = (noisy_uv - c) / f * z_noisy[..., None]
    noisy_xyz = torch.cat([xy, z_noisy[..., None]], dim=-1)
    nan = torch.full_like(noisy_xyz, float("nan"))
    noisy_xyz = torch.where(front[..., None], noisy_xyz, nan)
    noisy_uv = torch.where(front[..., None], noisy_uv, nan[..., :2])
    conf = torch.where(front, conf, torch.zeros_like(conf))
    return CameraKeypoints(
        layout=layout,
        names=names,
        pixels=noisy_uv,
        camera_xyz=noisy_xyz,
        true_pixels=uv,
        true_camera_xyz=xyz,
        confidence=conf,
        occluded=occluded,
        in_frame=inside,
        fps=float(fps),
        camera=camera,
    )
