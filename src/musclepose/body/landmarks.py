"""Named virtual landmarks on the body: COCO-17, MediaPipe-33 and Plug-in Gait markers.

Each landmark is a point fixed in one segment frame (see :mod:`.skeleton` for the frame
conventions), placed from the segment lengths so that it scales with the subject. Video
keypoints of joints (shoulder, elbow, wrist, hip, knee, ankle) are placed at the joint
centres, which is what 2D/3D pose estimators are trained to approximate; face, hand and
foot points sit at typical anatomical offsets. Skin markers follow the Vicon Plug-in Gait
full-body placement (Vicon Plug-in Gait Reference Guide); the pelvis markers use Bell et
al. (1990): hip joint centres lie 19 %, 30 % and 36 % of the inter-ASIS width posterior,
inferior and medial to the ASIS. These positions are generic: subject-specific marker
offsets come from a static trial or an OpenSim marker set during inverse kinematics.
"""

from __future__ import annotations

__all__ = ["COCO17", "LANDMARK_SETS", "MEDIAPIPE33", "PLUG_IN_GAIT", "landmark_table"]

COCO17: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

MEDIAPIPE33: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip

PLUG_IN_GAIT: tuple[str, ...] = (
    "LFHD", "RFHD", "LBHD", "RBHD", "C7", "T10", "CLAV", "STRN", "RBAK",
    "LSHO", "LUPA", "LELB", "LFRM", "LWRA", "LWRB", "LFIN",
    "RSHO", "RUPA", "RELB", "RFRM", "RWRA", "RWRB", "RFIN",
    "LASI", "RASI", "LPSI", "RPSI",
    "LTHI", "LKNE", "LTIB", "LANK", "LHEE", "LTOE",
    "RTHI", "RKNE", "RTIB", "RANK", "RHEE", "RTOE",
)  # fmt: skip

LANDMARK_SETS: dict[str, tuple[str, ...]] = {
    "coco17": COCO17,
    "mediapipe33": MEDIAPIPE33,
    "plug_in_gait": PLUG_IN_GAIT,
}


def landmark_table(L: dict[str, float], offsets: dict[str, tuple[float, float, float]]):
    """Every landmark as ``name -> (segment name, (x, y, z) in that segment's frame, m)``.

    ``L`` are the segment lengths (see ``anthropometry.STATURE_FRACTIONS`` for the keys);
    ``offsets`` the joint offsets of the skeleton (child origin in the parent frame).
    """
    t: dict[str, tuple[str, tuple[float, float, float]]] = {}
    lh, lt, ls = L["head"], L["thigh"], L["shank"]
    lu, lf, lhand = L["upperarm"], L["forearm"], L["hand"]
    lth = L["torso"] * (1.0 - L["_lumbar_fraction"])
    w = L["hip_width"] / 0.72  # inter-ASIS width (Bell 1990: HJC 36 % medial of each ASIS)
    h = L["_height"]

    # Head (segment origin: cervical joint centre).
    t["nose"] = ("head", (0.42 * lh, 0.47 * lh, 0.0))
    t["RFHD"] = ("head", (0.40 * lh, 0.78 * lh, 0.20 * lh))
    t["RBHD"] = ("head", (-0.25 * lh, 0.72 * lh, 0.20 * lh))
    t["right_eye"] = ("head", (0.33 * lh, 0.59 * lh, 0.12 * lh))
    t["right_eye_inner"] = ("head", (0.35 * lh, 0.59 * lh, 0.07 * lh))
    t["right_eye_outer"] = ("head", (0.30 * lh, 0.59 * lh, 0.17 * lh))
    t["right_ear"] = ("head", (0.02 * lh, 0.52 * lh, 0.26 * lh))
    t["mouth_right"] = ("head", (0.36 * lh, 0.36 * lh, 0.09 * lh))
    # Thorax (origin: thoracolumbar joint centre; the cervical joint centre is at y = lth).
    t["C7"] = ("thorax", (-0.037 * h, lth, 0.0))
    t["T10"] = ("thorax", (-0.060 * h, 0.25 * lth, 0.0))
    t["CLAV"] = ("thorax", (0.032 * h, lth - 0.012 * h, 0.0))
    t["STRN"] = ("thorax", (0.060 * h, 0.35 * lth, 0.0))
    t["RBAK"] = ("thorax", (-0.060 * h, 0.60 * lth, 0.050 * h))
    # Arm.
    sjc = offsets["upperarm_r"]
    t["RSHO"] = ("scapula_r", (sjc[0], sjc[1] + 0.020 * h, sjc[2] + 0.012 * h))
    t["right_shoulder"] = ("upperarm_r", (0.0, 0.0, 0.0))
    t["RUPA"] = ("upperarm_r", (-0.05 * lu, -0.50 * lu, 0.17 * lu))
    t["RELB"] = ("upperarm_r", (0.0, -lu, 0.12 * lu))
    t["right_elbow"] = ("forearm_r", (0.0, 0.0, 0.0))
    t["RFRM"] = ("forearm_r", (0.0, -0.50 * lf, 0.15 * lf))
    t["RWRA"] = ("forearm_r", (0.0, -lf, 0.12 * lf))
    t["RWRB"] = ("forearm_r", (0.0, -lf, -0.12 * lf))
    t["right_wrist"] = ("hand_r", (0.0, 0.0, 0.0))
    t["RFIN"] = ("hand_r", (-0.15 * lhand, -lhand, 0.15 * lhand))
    t["right_pinky"] = ("hand_r", (0.0, -lhand, -0.35 * lhand))
    t["right_index"] = ("hand_r", (0.0, -1.05 * lhand, 0.30 * lhand))
    t["right_thumb"] = ("hand_r", (0.20 * lhand, -0.60 * lhand, 0.50 * lhand))
    # Pelvis (origin: midpoint of the hip joint centres).
    t["RASI"] = ("pelvis", (0.19 * w, 0.30 * w, 0.50 * w))
    t["RPSI"] = ("pelvis", (-0.46 * w, 0.33 * w, 0.18 * w))
    t["right_hip"] = ("thigh_r", (0.0, 0.0, 0.0))
    # Leg.
    t["RTHI"] = ("thigh_r", (0.0, -0.50 * lt, 0.33 * lt))
    t["RKNE"] = ("thigh_r", (0.0, -lt, 0.20 * lt))
    t["right_knee"] = ("shank_r", (0.0, 0.0, 0.0))
    t["RTIB"] = ("shank_r", (0.0, -0.50 * ls, 0.20 * ls))
    t["RANK"] = ("shank_r", (0.0, -ls, 0.08 * ls))
    t["right_ankle"] = ("foot_r", (0.0, 0.0, 0.0))
    ah = L["ankle_height"]
    t["RHEE"] = ("foot_r", (-L["heel_back"], -0.55 * ah, 0.0))
    t["RTOE"] = ("foot_r", (L["foot"], -0.55 * ah, 0.0))
    t["right_heel"] = ("foot_r", (-L["heel_back"], -ah, 0.0))
    t["right_foot_index"] = ("foot_r", (L["foot_full"] - L["heel_back"], -0.8 * ah, 0.0))

    # Mirror every right-side landmark onto the left (Z -> -Z).
    for name in list(t):
        seg, (x, y, z) = t[name]
        if name != "RBAK" and (seg.endswith("_r") or name.startswith(("R", "right_", "mouth_right"))):
            lname = _left_name(name)
            lseg = seg[:-2] + "_l" if seg.endswith("_r") else seg
            if lname not in t:
                t[lname] = (lseg, (x, y, -z))
    return t


def _left_name(name: str) -> str:
    if name.startswith("right_"):
        return "left_" + name[6:]
    if name == "mouth_right":
        return "mouth_left"
    if name[0] == "R" and name[1:].isupper():
        return "L" + name[1:]
    return name
