"""The standard MusclePose skeleton: 18 segments, 47 degrees of freedom.

Conventions
-----------
- World and every segment frame are Y-up, right-handed: X anterior, Y superior, Z to the
  subject's right (ISB, Wu et al. 2002/2005). In the neutral pose (standing, arms at the
  sides, palms forward) every segment frame is parallel to the world frame, so each joint
  offset is a pure translation.
- Each segment's origin is its proximal joint centre; the pelvis origin is the midpoint of
  the two hip joint centres and is the root.
- ``q`` (47) = root translation (3, m, world X/Y/Z), root rotation (3, intrinsic ZXY about
  the pelvis axes), then 41 rotational DoF in segment order. A joint's rotation is the
  product, in Z, X, Y order, of rotations about the joint's present axes (a 2-DoF joint
  uses two of them, the knee one). Each DoF's axis carries a sign chosen so that a positive
  angle is the motion its name says (flexion, adduction, internal rotation, ...), mirrored
  on the left side like OpenSim's models. The signed axes are what the MJCF export writes,
  so MuJoCo's ``qpos`` equals ``q``.

Ranges of motion (degrees) come from published normal values:
AAOS = American Academy of Orthopaedic Surgeons, *Joint Motion: Method of Measuring and
Recording* (1965), as tabulated by Greene & Heckman, *The Clinical Measurement of Joint
Motion* (AAOS, 1994); W&P = White & Panjabi, *Clinical Biomechanics of the Spine*, 2nd ed.
(1990), regional sums of segmental motion; Ludewig = Ludewig et al. (2009) *J Bone Joint
Surg Am* 91:378-389, clavicle elevation/protraction during arm elevation.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DOF_NAMES", "DOFS", "JOINTS", "SEGMENTS", "Dof", "Joint", "N_DOF", "N_SEGMENTS"]

SEGMENTS: tuple[str, ...] = (
    "pelvis", "lumbar", "thorax", "head",
    "scapula_r", "upperarm_r", "forearm_r", "hand_r",
    "scapula_l", "upperarm_l", "forearm_l", "hand_l",
    "thigh_r", "shank_r", "foot_r",
    "thigh_l", "shank_l", "foot_l",
)  # fmt: skip
N_SEGMENTS = len(SEGMENTS)

PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 2, 4, 5, 6, 2, 8, 9, 10, 0, 12, 13, 0, 15, 16)


@dataclass(frozen=True)
class Dof:
    """One degree of freedom: its name, signed axis in the joint frame, range and source."""

    name: str
    kind: str  # "slide" or "hinge"
    axis: tuple[float, float, float]
    lower: float  # rad (hinge) or m (slide)
    upper: float
    source: str


@dataclass(frozen=True)
class Joint:
    """The joint between a segment and its parent, with its DoF in Z, X, Y order."""

    name: str
    segment: int
    dofs: tuple[Dof, ...]


_X, _Y, _Z = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)


def _neg(a: tuple[float, float, float]) -> tuple[float, float, float]:
    return (-a[0], -a[1], -a[2])


def _deg(x: float) -> float:
    return x * 3.141592653589793 / 180.0


def _h(name: str, axis, lo: float, hi: float, src: str) -> Dof:
    return Dof(name, "hinge", axis, _deg(lo), _deg(hi), src)


_INF = float("inf")
_ROOT = (
    Dof("pelvis_tx", "slide", _X, -_INF, _INF, "free"),
    Dof("pelvis_ty", "slide", _Y, -_INF, _INF, "free"),
    Dof("pelvis_tz", "slide", _Z, -_INF, _INF, "free"),
    _h("pelvis_tilt", _Z, -180, 180, "free"),
    _h("pelvis_list", _X, -180, 180, "free"),
    _h("pelvis_rotation", _Y, -180, 180, "free"),
)


def _spine(prefix: str, flex: tuple[float, float], bend: float, rot: float, src: str):
    # Flexion (forward bending) is a rotation about -Z; bending and rotation positive to the right.
    return (
        _h(f"{prefix}_flexion", _neg(_Z), -flex[1], flex[0], src),
        _h(f"{prefix}_bending", _X, -bend, bend, src),
        _h(f"{prefix}_rotation", _neg(_Y), -rot, rot, src),
    )


def _arm(side: str) -> tuple[tuple[Dof, ...], ...]:
    m = 1.0 if side == "r" else -1.0  # mirror the X and Y axes on the left

    def s(a):
        return tuple(m * c for c in a)

    scapula = (
        _h(f"scapula_elevation_{side}", s(_neg(_X)), -10, 40, "Ludewig 2009"),
        _h(f"scapula_protraction_{side}", s(_Y), -25, 25, "Ludewig 2009"),
    )
    shoulder = (
        _h(f"shoulder_flexion_{side}", _Z, -60, 180, "AAOS: flexion 180, extension 60"),
        _h(f"shoulder_abduction_{side}", s(_neg(_X)), -30, 180, "AAOS: abduction 180, adduction 30"),
        _h(f"shoulder_rotation_{side}", s(_Y), -90, 70, "AAOS: internal 70, external 90"),
    )
    elbow = (
        _h(f"elbow_flexion_{side}", _Z, -5, 150, "AAOS: flexion 150, hyperextension 5"),
        # Zero is the anatomical position (palm forward = fully supinated), so the AAOS
        # 80 + 80 degrees measured from thumb-up span 0..160 here.
        _h(f"elbow_pronation_{side}", s(_Y), -5, 165, "AAOS: pronation 80, supination 80 (from thumb-up)"),
    )
    wrist = (
        _h(f"wrist_flexion_{side}", _Z, -70, 80, "AAOS: flexion 80, extension 70"),
        _h(f"wrist_deviation_{side}", s(_X), -20, 30, "AAOS: ulnar 30, radial 20"),
    )
    return scapula, shoulder, elbow, wrist


def _leg(side: str) -> tuple[tuple[Dof, ...], ...]:
    m = 1.0 if side == "r" else -1.0

    def s(a):
        return tuple(m * c for c in a)

    hip = (
        _h(f"hip_flexion_{side}", _Z, -30, 130, "AAOS: flexion 120 active (130 passive, knee flexed), extension 30"),
        _h(f"hip_adduction_{side}", s(_X), -45, 30, "AAOS: abduction 45, adduction 30"),
        _h(f"hip_rotation_{side}", s(_Y), -45, 45, "AAOS: internal 45, external 45"),
    )
    knee = (_h(f"knee_flexion_{side}", _neg(_Z), -10, 150, "AAOS: flexion 135-150, hyperextension 10"),)
    ankle = (
        _h(
            f"ankle_dorsiflexion_{side}",
            _Z,
            -50,
            45,
            "AAOS: plantarflexion 50; weight-bearing dorsiflexion up to 45 (Bennell et al. 1998)",
        ),  # fmt: skip
        _h(f"ankle_inversion_{side}", s(_X), -15, 35, "AAOS: inversion 35, eversion 15"),
        # The 1-DoF knee has no axial rotation, so this DoF also carries the tibia's: ~30
        # degrees each way at 90 degrees of knee flexion (Kapandji, The Physiology of the Joints).
        _h(f"ankle_adduction_{side}", s(_Y), -30, 30, "AAOS forefoot 20/10 plus tibial rotation 30/30 (Kapandji)"),
    )
    return hip, knee, ankle


def _build_joints() -> tuple[Joint, ...]:
    seg = {n: i for i, n in enumerate(SEGMENTS)}
    joints = [
        Joint("root", 0, _ROOT),
        Joint("lumbar", seg["lumbar"], _spine("lumbar", (55, 20), 15, 5, "W&P: lumbar L1-S1")),
        Joint("thoracic", seg["thorax"], _spine("thoracic", (30, 15), 30, 35, "W&P: thoracic T1-T12")),
        Joint("neck", seg["head"], _spine("neck", (45, 45), 45, 60, "AAOS: cervical")),
    ]
    for side in ("r", "l"):
        names = ("scapula", "shoulder", "elbow", "wrist")
        segs = ("scapula", "upperarm", "forearm", "hand")
        for jname, sname, dofs in zip(names, segs, _arm(side), strict=True):
            joints.append(Joint(f"{jname}_{side}", seg[f"{sname}_{side}"], dofs))
    for side in ("r", "l"):
        names = ("hip", "knee", "ankle")
        segs = ("thigh", "shank", "foot")
        for jname, sname, dofs in zip(names, segs, _leg(side), strict=True):
            joints.append(Joint(f"{jname}_{side}", seg[f"{sname}_{side}"], dofs))
    return tuple(joints)


JOINTS: tuple[Joint, ...] = _build_joints()
DOFS: tuple[Dof, ...] = tuple(d for j in JOINTS for d in j.dofs)
DOF_NAMES: tuple[str, ...] = tuple(d.name for d in DOFS)
N_DOF = len(DOFS)
assert N_DOF == 47 and N_SEGMENTS == 18
