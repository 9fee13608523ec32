"""An OpenSim model's marker set carried onto the MusclePose body.

OpenSim models (Rajagopal 2015, gait2392, ...) attach markers to their own bodies. To use
those markers for inverse kinematics on our skeleton we need them in our segment frames:

1. Pose the OpenSim model at its default configuration (every coordinate 0: the anatomical
   standing pose, the same neutral pose as ours) by composing each joint's parent and
   child ``PhysicalOffsetFrame`` (translation + body-fixed XYZ orientation) with the
   joint's transform at zero (``CustomJoint`` transform axes evaluated at 0; pin and weld
   joints are the identity there). This gives every body's frame and every marker in the
   ground frame.
2. Read the joint centres (hip, knee, ankle, lumbar, shoulder, elbow, wrist = child body
   origins) and build our body with those segment lengths, so that joint centres coincide.
3. Express each marker in the frame of the MusclePose segment that corresponds to its
   OpenSim body (:data:`OSIM_TO_SEGMENT`), relative to our joint centres in the same pose.

Because both models define zero angles at the same anatomical pose, angles solved on our
body with these markers are comparable with the OpenSim model's coordinates.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import torch

from ...body import Body, forward_kinematics
from ...body.anthropometry import standard_lengths
from ...body.rotations import matrix_to_euler_zxy
from ...motion.marker_set import MarkerSet
from ..errors import FormatError
from .osim import read_osim_markers

__all__ = ["OSIM_TO_SEGMENT", "osim_default_frames", "osim_marker_set"]

OSIM_TO_SEGMENT = {
    "pelvis": "pelvis", "sacrum": "pelvis",
    "femur_r": "thigh_r", "tibia_r": "shank_r", "patella_r": "shank_r",
    "talus_r": "foot_r", "calcn_r": "foot_r", "toes_r": "foot_r",
    "femur_l": "thigh_l", "tibia_l": "shank_l", "patella_l": "shank_l",
    "talus_l": "foot_l", "calcn_l": "foot_l", "toes_l": "foot_l",
    "torso": "thorax", "head": "head",
    "humerus_r": "upperarm_r", "ulna_r": "forearm_r", "radius_r": "forearm_r", "hand_r": "hand_r",
    "humerus_l": "upperarm_l", "ulna_l": "forearm_l", "radius_l": "forearm_l", "hand_l": "hand_l",
}  # fmt: skip


def _rot_xyz(angles: np.ndarray) -> np.ndarray:
    # OpenSim offset-frame orientation: body-fixed X-Y-Z Euler angles, R = Rx Ry Rz.
    return _axis_rot([1, 0, 0], angles[0]) @ _axis_rot([0, 1, 0], angles[1]) @ _axis_rot([0, 0, 1], angles[2])


def _axis_rot(axis, angle: float) -> np.ndarray:
    a = np.asarray(axis, dtype=float)
    a = a / np.linalg.norm(a)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)


def _function_at_zero(el: ET.Element | None) -> float:
    """Value at coordinate = 0 of an OpenSim Function element."""
    if el is None:
        return 0.0
    tag = el.tag
    if tag == "LinearFunction":
        c = [float(v) for v in (el.findtext("coefficients") or "1 0").split()]
        return c[1] if len(c) > 1 else 0.0
    if tag == "Constant":
        return float(el.findtext("value") or 0.0)
    if tag == "PolynomialFunction":
        c = [float(v) for v in (el.findtext("coefficients") or "0").split()]
        return c[-1]  # highest order first: the constant term is last
    if tag in ("SimmSpline", "NaturalCubicSpline", "PiecewiseLinearFunction", "GCVSpline", "PiecewiseConstantFunction"):
        x = np.array([float(v) for v in (el.findtext("x") or "0").split()])
        y = np.array([float(v) for v in (el.findtext("y") or "0").split()])
        return float(np.interp(0.0, x, y))
    if tag == "MultiplierFunction":
        inner = next((c for c in el.find("function") or [] if isinstance(c.tag, str)), None)
        return float(el.findtext("scale") or 1.0) * _function_at_zero(inner)
    return 0.0


def _joint_at_zero(joint: ET.Element) -> tuple[np.ndarray, np.ndarray]:
    rot, trans = np.eye(3), np.zeros(3)
    st = joint.find("SpatialTransform")
    if st is None:
        return rot, trans
    for ax in st.findall("TransformAxis"):
        axis = np.array([float(v) for v in (ax.findtext("axis") or "0 0 1").split()])
        func = next((c for c in ax if c.tag not in ("coordinates", "axis")), None)
        value = _function_at_zero(func)
        if ax.get("name", "").startswith("rotation"):
            rot = rot @ _axis_rot(axis, value)
        else:
            trans = trans + value * axis
    return rot, trans


def _body_of(ref: str) -> str:
    parts = [p for p in ref.strip().split("/") if p and p != ".."]
    return parts[-1] if parts else ref


def _resolve(frames: dict, name: str | None):
    # A joint names its frames either as one of its own offset frames or as a body path.
    name = (name or "").strip()
    if name in frames:
        return frames[name]
    return _body_of(name), np.eye(3), np.zeros(3)


def osim_default_frames(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every body's frame ``(R (3,3), origin (3,))`` in ground at the default pose (all coordinates 0).

    Supports OpenSim 4 models (``JointSet`` with ``PhysicalOffsetFrame`` sockets).
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise FormatError(path, f"not valid XML: {err}") from None
    joints = [j for js in root.iter("JointSet") for objs in js.findall("objects") for j in objs]
    if not joints:
        raise FormatError(path, "no <JointSet> joints (OpenSim 4 model expected)", field="JointSet")
    edges = {}
    for j in joints:
        frames = {}
        for f in j.iter("PhysicalOffsetFrame"):
            t = np.array([float(v) for v in (f.findtext("translation") or "0 0 0").split()])
            o = np.array([float(v) for v in (f.findtext("orientation") or "0 0 0").split()])
            frames[f.get("name")] = (_body_of(f.findtext("socket_parent") or ""), _rot_xyz(o), t)

        parent = _resolve(frames, j.findtext("socket_parent_frame"))
        child = _resolve(frames, j.findtext("socket_child_frame"))
        edges[child[0]] = (parent, child, _joint_at_zero(j))
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {"ground": (np.eye(3), np.zeros(3))}

    def place(body: str, depth: int = 0):
        if body in out:
            return out[body]
        if body not in edges or depth > 64:
            raise FormatError(path, f"body {body!r} has no joint to ground", field=body)
        (pb, pr, pt), (_, cr, ct), (jr, jt) = edges[body]
        r_p, p_p = place(pb, depth + 1)
        # X_child = X_parent * X_parent_offset * X_joint * X_child_offset^-1
        r_off, p_off = r_p @ pr, p_p + r_p @ pt
        r_j, p_j = r_off @ jr, p_off + r_off @ jt
        r_c = r_j @ cr.T
        out[body] = (r_c, p_j - r_c @ ct)
        return out[body]

    for b in list(edges):
        place(b)
    return out


def osim_marker_set(
    path: str | Path, mass_kg: float = 70.0, sex: str = "male"
) -> tuple[Body, MarkerSet, dict[str, str]]:
    """Our body with the OpenSim model's joint centres, its markers in our segment frames.

    Returns the body, the marker set and, per marker, the OpenSim body it was attached to.
    Markers on bodies with no MusclePose counterpart are left out.
    """
    frames = osim_default_frames(path)
    markers = read_osim_markers(path)

    def origin(b: str) -> np.ndarray | None:
        return frames[b][1] if b in frames else None

    L = standard_lengths(1.75)
    hr, hl = origin("femur_r"), origin("femur_l")
    kr, ar = origin("tibia_r"), origin("talus_r")
    if hr is None or kr is None or ar is None or hl is None:
        raise FormatError(path, "model lacks femur_r/femur_l/tibia_r/talus_r bodies", field="BodySet")
    mid_hip = 0.5 * (hr + hl)
    L["hip_width"] = float(abs(hr[2] - hl[2]))
    L["thigh"] = float(np.linalg.norm(hr - kr))
    L["shank"] = float(np.linalg.norm(kr - ar))
    height = (L["thigh"] + L["shank"]) / (0.245 + 0.246)
    base = standard_lengths(height)
    for k in ("ankle_height", "foot", "foot_full", "heel_back", "head", "clavicle_drop", "clavicle_forward",
              "hand", "hand_full"):  # fmt: skip
        L[k] = base[k]
    if "calcn_r" in frames and "toes_r" in frames:
        L["foot"] = float(abs(frames["toes_r"][1][0] - ar[0]))
    if "torso" in frames:
        L["pelvis"] = float(frames["torso"][1][1] - mid_hip[1])
    sr, er, wr = origin("humerus_r"), origin("ulna_r"), origin("hand_r")
    if sr is not None and "torso" in frames:
        L["shoulder_drop"] = base["shoulder_drop"]
        L["torso"] = float(sr[1] - frames["torso"][1][1]) + L["shoulder_drop"]
        sl = origin("humerus_l")
        if sl is not None:
            L["shoulder_width"] = float(abs(sr[2] - sl[2]))
        if er is not None:
            L["upperarm"] = float(np.linalg.norm(sr - er))
        if er is not None and wr is not None:
            L["forearm"] = float(np.linalg.norm(er - wr))
    body = Body.from_segment_lengths({k: v for k, v in L.items()}, mass_kg, sex, height)

    q = body.neutral_q()
    q[0:3] = torch.tensor(mid_hip)
    fk = forward_kinematics(body, q)
    rot, org = fk.rotations.numpy(), fk.origins.numpy()
    names, segs, local, attached = [], [], [], {}
    for name, (obody, loc) in markers.items():
        seg = OSIM_TO_SEGMENT.get(obody)
        if seg is None or obody not in frames:
            continue
        r, p = frames[obody]
        world = p + r @ loc
        i = body.segment_index(seg)
        names.append(name)
        segs.append(i)
        local.append(rot[i].T @ (world - org[i]))
        attached[name] = obody
    if len(names) < 4:
        raise FormatError(path, f"only {len(names)} markers on bodies MusclePose knows", field="MarkerSet")
    # Generic models often park tracking-cluster markers at one placeholder location per body
    # (to be placed from a static trial): give markers that share a location zero weight.
    local_arr = np.array(local)
    weights = np.ones(len(names))
    for a in range(len(names)):
        for b in range(len(names)):
            if (
                a != b
                and attached[names[a]] == attached[names[b]]
                and np.allclose(markers[names[a]][1], markers[names[b]][1])
            ):
                weights[a] = 0.0
    return body, MarkerSet(tuple(names), np.array(segs), local_arr, weights), attached


def osim_foot_rotation_zxy(path: str | Path, ankle_deg: np.ndarray, subtalar_deg: np.ndarray, side: str) -> np.ndarray:
    """An OpenSim model's ankle and subtalar angles as MusclePose's ankle ZXY angles (degrees).

    OpenSim's talocrural and subtalar joints turn about oblique axes (Inman 1976), ours about
    the shank's Z, X, Y axes. To compare like with like, the foot's rotation relative to the
    tibia is composed from the model's ``ankle_<side>`` and ``subtalar_<side>`` pin joints,
    ``R = P_a Rz(ankle) C_a^T P_s Rz(subtalar) C_s^T`` (P, C: the joints' parent and child
    offset-frame orientations), and decomposed as intrinsic ZXY. Returns ``(T, 3)``
    (dorsiflexion about Z, then X, then Y, unsigned axes).
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise FormatError(path, f"not valid XML: {err}") from None

    def frames_of(name: str) -> tuple[np.ndarray, np.ndarray]:
        joint = next((j for j in root.iter() if j.get("name") == name and j.tag.endswith("Joint")), None)
        if joint is None:
            raise FormatError(path, f"no joint {name!r} in the model", field=name)
        fr = list(joint.iter("PhysicalOffsetFrame"))
        if len(fr) < 2:
            raise FormatError(path, f"joint {name!r} lacks parent/child offset frames", field=name)
        rots = [_rot_xyz(np.array([float(v) for v in (f.findtext("orientation") or "0 0 0").split()])) for f in fr[:2]]
        return rots[0], rots[1]

    pa, ca = frames_of(f"ankle_{side}")
    ps, cs = frames_of(f"subtalar_{side}")
    out = []
    for a, s in zip(np.radians(ankle_deg), np.radians(subtalar_deg), strict=True):
        out.append(pa @ _axis_rot([0, 0, 1], a) @ ca.T @ ps @ _axis_rot([0, 0, 1], s) @ cs.T)
    return np.degrees(matrix_to_euler_zxy(torch.tensor(np.array(out))).numpy())
