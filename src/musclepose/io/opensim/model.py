"""An OpenSim model's marker set carried onto the MusclePose body.

OpenSim models (Rajagopal 2015, gait2392, ...) attach markers to their own bodies. To use
those markers for inverse kinematics on our skeleton we need them in our segment frames:

1. Pose the OpenSim model (OpenSim 4 or 3, :mod:`.joints`) at its default configuration
   (every coordinate 0: the anatomical standing pose, the same neutral pose as ours) by
   composing each joint's parent and child frames (translation + body-fixed XYZ
   orientation) with the joint's transform at zero (``CustomJoint`` transform functions
   evaluated at 0; pin and weld joints are the identity there). This gives every body's
   frame and every marker in the ground frame.
2. Read the joint centres (hip, knee, ankle, lumbar, shoulder, elbow, wrist = child body
   origins) and build our body with those segment lengths, so that joint centres coincide.
3. Express each marker in the frame of the MusclePose segment that corresponds to its
   OpenSim body (:data:`OSIM_TO_SEGMENT`), relative to our joint centres in the same pose.

Because both models define zero angles at the same anatomical pose, angles solved on our
body with these markers are comparable with the OpenSim model's coordinates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ...body import Body, forward_kinematics
from ...body.anthropometry import standard_lengths
from ...body.rotations import matrix_to_euler_zxy
from ...motion.marker_set import MarkerSet
from ..errors import FormatError
from .joints import axis_rotation, read_osim_joints
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


def osim_default_frames(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every body's frame ``(R (3,3), origin (3,))`` in ground at the default pose (all coordinates 0).

    Reads OpenSim 4 and OpenSim 3 models (:func:`~musclepose.io.opensim.joints.read_osim_joints`);
    each joint's transform functions are evaluated at 0 (a Constant keeps its value).
    """
    path = Path(path)
    joints = read_osim_joints(path)
    if not joints:
        raise FormatError(path, "no joints: neither a <JointSet> (OpenSim 4) nor <Joint> in a <Body> (OpenSim 3)",
                          field="JointSet")  # fmt: skip
    by_child = {j.child: j for j in joints}
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {"ground": (np.eye(3), np.zeros(3))}

    def place(body: str, depth: int = 0) -> tuple[np.ndarray, np.ndarray]:
        if body in out:
            return out[body]
        if body not in by_child or depth > 64:
            raise FormatError(path, f"body {body!r} has no joint to ground", field=body)
        joint = by_child[body]
        r_p, p_p = place(joint.parent, depth + 1)
        r, p = joint.child_in_parent()
        out[body] = (r_p @ r, p_p + r_p @ p)
        return out[body]

    for b in by_child:
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
    joints = {j.name: j for j in read_osim_joints(path)}

    def frames_of(name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in joints:
            raise FormatError(path, f"no joint {name!r} in the model", field=name)
        return joints[name].parent_offset[0], joints[name].child_offset[0]

    pa, ca = frames_of(f"ankle_{side}")
    ps, cs = frames_of(f"subtalar_{side}")
    out = []
    for a, s in zip(np.radians(ankle_deg), np.radians(subtalar_deg), strict=True):
        out.append(pa @ axis_rotation([0, 0, 1], a) @ ca.T @ ps @ axis_rotation([0, 0, 1], s) @ cs.T)
    return np.degrees(matrix_to_euler_zxy(torch.tensor(np.array(out))).numpy())
