"""Plug-in Gait (Vicon) lower-body files: joint centres and inverse kinematics on our body.

A C3D processed by Vicon's Plug-in Gait carries 16 lower-body markers (ASIS, PSIS, thigh and
tibia wands, knee, ankle, heel, toe) and the subject measurements of the model
(``PROCESSING`` group: leg length, inter-ASIS distance, ASIS-trochanter distance, knee and
ankle widths). Generic landmark positions fit these markers poorly (a thigh wand sits
wherever the clinician put it), so the joints are located the way Plug-in Gait locates them
(:func:`pig_joint_centres`: hips by the Davis et al. 1991 regression, knees and ankles as stored).
:func:`pig_motion` then scales our body to those joint centres (thigh and shank lengths,
hip width, the subject's height and mass), and solves inverse kinematics with the joint
centres as heavily weighted virtual markers plus the pelvis and foot markers, registered on
the subject's own upright frames. Its output joint centres then coincide with Vicon's,
which is what joint moments depend on.
"""

from __future__ import annotations

import numpy as np

from ..body import Body, forward_kinematics
from ..body.anthropometry import standard_lengths
from ..motion.core import Motion
from ..motion.ik import solve_ik
from ..motion.marker_set import MarkerSet
from ..motion.scaling import scale_to_static
from .c3d import C3DData
from .errors import FormatError
from .opensim import TRC_UNITS

__all__ = ["JOINT_CENTRE_SEGMENTS", "pig_joint_centres", "pig_motion"]

# Virtual marker -> the MusclePose segment whose origin it is.
JOINT_CENTRE_SEGMENTS = {
    "RHJC": "thigh_r", "LHJC": "thigh_l", "RKJC": "shank_r", "LKJC": "shank_l", "RAJC": "foot_r", "LAJC": "foot_l",
}  # fmt: skip
_MARKER_RADIUS_MM = 7.0
_JC_WEIGHT = 25.0  # joint centres dominate the fit; skin markers fix the rotations about them


def _param(data: C3DData, name: str) -> float | None:
    v = data.parameters.get("PROCESSING", {}).get(name)
    if v is None:
        return None
    v = float(np.ravel(v)[0])
    return v if np.isfinite(v) and v != 0 else None


def _point(data: C3DData, name: str) -> np.ndarray:
    """A stored point (marker or modelled output) in metres and the data's axes."""
    if name in data.markers.names:
        return data.markers.marker(name)
    if name not in data.model_outputs:
        raise FormatError(data.path, f"Plug-in Gait point {name!r} not in the file", field=f"POINT:LABELS {name}")
    raw = np.asarray(data.model_outputs[name], dtype=np.float64) * TRC_UNITS[data.markers.units_in_file.lower()]
    return np.stack([raw[..., 0], raw[..., 2], -raw[..., 1]], -1) if data.up_axis == "y" else raw


def pig_joint_centres(data: C3DData) -> dict[str, np.ndarray]:
    """Hip (Davis 1991), knee and ankle joint centres ``name -> (T, 3)`` m, in the data's axes.

    Hip joint centres come from the pelvis markers by the Davis et al. (1991) regression that
    Plug-in Gait uses (Davis RB, Õunpuu S, Tyburski D, Gage JR, *Hum Mov Sci* 10:575-587;
    constants as in the Plug-in Gait reference guide: ``C = 0.115 L - 15.3`` mm, ``theta = 0.5``
    rad, ``beta = 0.314`` rad, ASIS-trochanter distance ``0.1288 L - 48.56`` mm when not
    measured, marker radius 7 mm); knee and ankle joint centres are the ``LKJC``, ``RKJC``,
    ``LAJC``, ``RAJC`` modelled markers the file stores (Plug-in Gait's chord function).

    Raises
    ------
    FormatError
        Pelvis markers, the ``PROCESSING`` leg lengths / inter-ASIS distance, or the
        modelled knee/ankle centres are missing.
    """
    lasi, rasi, lpsi, rpsi = (_point(data, n) for n in ("LASI", "RASI", "LPSI", "RPSI"))
    legs = [_param(data, "LLegLength"), _param(data, "RLegLength")]
    if None in legs:
        raise FormatError(data.path, "Plug-in Gait needs PROCESSING:LLegLength and RLegLength", field="PROCESSING")
    leg = 0.5 * (legs[0] + legs[1])
    asis = _param(data, "InterAsisDistance")
    mid_asis, sacrum = 0.5 * (lasi + rasi), 0.5 * (lpsi + rpsi)
    if asis is None:
        asis = float(np.nanmedian(np.linalg.norm(lasi - rasi, axis=-1))) * 1e3
    # Plug-in Gait pelvis: y from RASI to LASI, x forward in the ASIS-sacrum plane, z up.
    ey = lasi - rasi
    ey /= np.linalg.norm(ey, axis=-1, keepdims=True)
    fwd = mid_asis - sacrum
    ex = fwd - (fwd * ey).sum(-1, keepdims=True) * ey
    ex /= np.linalg.norm(ex, axis=-1, keepdims=True)
    ez = np.cross(ex, ey)
    c = 0.115 * leg - 15.3
    theta, beta = 0.5, 0.314
    out = {}
    for side, sgn in (("L", 1.0), ("R", -1.0)):
        troc = _param(data, f"{side}AsisTrocanterDistance") or (0.1288 * legs[0 if side == "L" else 1] - 48.56)
        x = c * np.cos(theta) * np.sin(beta) - (troc + _MARKER_RADIUS_MM) * np.cos(beta)
        y = sgn * -(c * np.sin(theta) - 0.5 * asis)
        z = -c * np.cos(theta) * np.cos(beta) - (troc + _MARKER_RADIUS_MM) * np.sin(beta)
        out[f"{side}HJC"] = mid_asis + 1e-3 * (x * ex + y * ey + z * ez)
    for name in ("LKJC", "RKJC", "LAJC", "RAJC"):
        out[name] = _point(data, name)
    return out


def pig_motion(data: C3DData, mass_kg: float | None = None, height_m: float | None = None, sex: str = "male"):
    """Joint angles of a Plug-in Gait trial on a MusclePose body scaled to the subject.

    ``data`` from :func:`~musclepose.io.c3d.read_c3d` (converted to Y-up here). Mass and
    height default to the file's ``PROCESSING:Bodymass`` / ``Height``. Returns a
    :class:`Motion` whose ``metadata`` holds ``start_time`` (the file's clock), the segment
    lengths and the marker fit.
    """
    data = data.to_y_up()
    mass = mass_kg or data.subject_mass_kg
    height = height_m or data.subject_height_m
    if not mass or not height:
        raise FormatError(data.path, "subject mass and height are needed (PROCESSING:Bodymass, Height)")
    jc = pig_joint_centres(data)
    with np.errstate(invalid="ignore"):
        dist = {k: float(np.nanmedian(np.linalg.norm(jc[a] - jc[b], axis=-1))) for k, a, b in (
            ("thigh_r", "RHJC", "RKJC"), ("thigh_l", "LHJC", "LKJC"), ("shank_r", "RKJC", "RAJC"),
            ("shank_l", "LKJC", "LAJC"), ("hip_width", "RHJC", "LHJC"))}  # fmt: skip
    lengths = standard_lengths(height)
    lengths["thigh"] = 0.5 * (dist["thigh_r"] + dist["thigh_l"])
    lengths["shank"] = 0.5 * (dist["shank_r"] + dist["shank_l"])
    lengths["hip_width"] = dist["hip_width"]
    body = Body.from_segment_lengths(lengths, float(mass), sex, float(height))

    names = list(JOINT_CENTRE_SEGMENTS) + [n for n in data.markers.names if n in _SKIN]
    pos = np.concatenate(
        [np.stack([jc[n] for n in JOINT_CENTRE_SEGMENTS], axis=1), data.markers.positions[:, [
            data.markers.names.index(n) for n in names[len(JOINT_CENTRE_SEGMENTS):]]]], axis=1)  # fmt: skip
    markers = _initial_marker_set(body, names)
    frames = _upright_frames(pos)
    scaled, placed, factors, _ = scale_to_static(body, markers, names, pos[frames], mass_kg=float(mass), register=True)
    # scale_to_static may rescale the thigh/shank groups; the joint centres define them, so
    # keep our lengths and only take the registered skin-marker positions.
    placed = MarkerSet(placed.names, placed.segments, placed.local, _weights(placed.names))
    res = solve_ik(scaled, placed, names, pos, data.markers.fps, metadata={"source": str(data.path)})
    meta = {
        **res.motion.metadata,
        "start_time": float(data.markers.times[0]),
        "marker_set": "Plug-in Gait markers + Davis hip and stored knee/ankle joint centres",
        "marker_rms_m": float(np.nanmedian(res.rms_m)),
        "segment_lengths_m": {k: round(v, 4) for k, v in dist.items()},
        "scale_factors": factors,
    }
    return Motion(res.motion.q, res.motion.fps, scaled, meta)


_SKIN = ("LASI", "RASI", "LPSI", "RPSI", "LKNE", "RKNE", "LANK", "RANK", "LHEE", "RHEE", "LTOE", "RTOE",
         "LTHI", "RTHI", "LTIB", "RTIB")  # fmt: skip


def _weights(names) -> np.ndarray:
    return np.array([_JC_WEIGHT if n in JOINT_CENTRE_SEGMENTS else 1.0 for n in names])


def _initial_marker_set(body: Body, names: list[str]) -> MarkerSet:
    """Joint centres at segment origins; skin markers at our Plug-in Gait landmarks (wands:
    at the thigh/shank mid-length laterally) as a starting guess for registration."""
    segs, local = [], []
    q = body.neutral_q()
    fk = forward_kinematics(body, q)
    rot, org, lms = fk.rotations.numpy(), fk.origins.numpy(), fk.landmarks.numpy()
    lm_index = {n: i for i, n in enumerate(body.landmark_names)}
    for n in names:
        if n in JOINT_CENTRE_SEGMENTS:
            segs.append(body.segment_index(JOINT_CENTRE_SEGMENTS[n]))
            local.append(np.zeros(3))
            continue
        seg_name, _ = body.landmarks[n]
        i = int(seg_name) if not isinstance(seg_name, str) else body.segment_index(seg_name)
        segs.append(i)
        local.append(rot[i].T @ (lms[lm_index[n]] - org[i]))
    return MarkerSet(tuple(names), np.array(segs), np.array(local), _weights(names))


def _upright_frames(pos: np.ndarray, n: int = 5) -> np.ndarray:
    """Frames where every point is seen and the body is tallest (mid-stance, nearest to standing)."""
    seen = np.isfinite(pos).all(-1).all(-1)
    with np.errstate(invalid="ignore"):
        span = np.where(seen, np.nanmax(pos[..., 1], 1) - np.nanmin(pos[..., 1], 1), -np.inf)
    k = int(np.argmax(span))
    lo = max(0, min(k - n // 2, len(pos) - n))
    return np.arange(lo, lo + n)
