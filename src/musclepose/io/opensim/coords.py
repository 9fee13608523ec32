"""OpenSim model coordinates (Rajagopal 2015/2016, gait2392, gait10dof18musc) mapped onto our ``q``.

:func:`motion_from_opensim` turns an inverse-kinematics table (``.mot``, read with
:func:`musclepose.io.opensim.read_table`) into a :class:`~musclepose.motion.core.Motion`;
:func:`opensim_from_motion` maps back (a round trip returns the source columns). OpenSim's bodies
are Y-up, X anterior, Z right in the neutral pose like our segments, and its ``CustomJoint``
applies ``rotation1..3`` as successive body-fixed rotations, the intrinsic order we use, so each
coordinate maps onto one DoF with a sign (:data:`OPENSIM_COORDINATE_MAP`; the evidence is in the
Notes of :func:`coordinate_signs`). What does not map one to one (spine, pelvis origin, patella
and toes) is in the Notes of :func:`motion_from_opensim`. Units: m and rad in ``q``.

The DoFs no OpenSim coordinate carries (neck, shoulder girdle, wrists, the feet's turn:
:data:`EXTRA_DOFS`) travel in columns of their own, ``musclepose_<dof>`` in the table's units,
which :func:`write_motion_opensim` adds when they move and :func:`motion_from_opensim` reads
back; OpenSim ignores columns that name no coordinate of its model, so the file stays a
valid OpenSim table, and a ``.mot`` written by MusclePose keeps a knee valgus made by turning
the feet, or a shrug.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...body import Body
from ...body.rotations import euler_zxy_to_matrix, matrix_to_euler_zxy
from ...body.skeleton import DOFS
from ...motion.core import Motion
from .functions import OsimFunction
from .joints import read_osim_joints
from .table import OpenSimTable, write_table

__all__ = [
    "LUMBAR_SHARE",
    "OPENSIM_COORDINATE_MAP",
    "RAJAGOPAL_HIP_MIDPOINT_M",
    "OsimCoordinateAxis",
    "EXTRA_DOFS",
    "EXTRA_PREFIX",
    "coordinate_signs",
    "motion_from_opensim",
    "opensim_from_motion",
    "write_motion_opensim",
    "read_osim_coordinate_axes",
    "root_offset",
]


def _sides(stem: str, ours: str, sign: float, note: str) -> dict[str, tuple[str, float, str]]:
    return {f"{stem}_{s}": (f"{ours}_{s}", sign, note) for s in ("r", "l")}


#: OpenSim coordinate -> (our DoF name, sign, note). ``our = sign * opensim`` (rad or m).
OPENSIM_COORDINATE_MAP: dict[str, tuple[str, float, str]] = {
    "pelvis_tilt": ("pelvis_tilt", 1.0, "ground_pelvis rotation1 about +Z = our root Z"),
    "pelvis_list": ("pelvis_list", 1.0, "rotation2 about +X = our root X"),
    "pelvis_rotation": ("pelvis_rotation", 1.0, "rotation3 about +Y = our root Y"),
    **{f"pelvis_t{a}": (f"pelvis_t{a}", 1.0, f"ground {a}; shifted to the hip midpoint") for a in "xyz"},
    **_sides("hip_flexion", "hip_flexion", 1.0, "+Z in the pelvis frame, flexion positive"),
    **_sides("hip_adduction", "hip_adduction", 1.0, "+X right / -X left, adduction positive"),
    **_sides("hip_rotation", "hip_rotation", 1.0, "+Y right / -Y left, internal rotation positive"),
    **_sides("knee_angle", "knee_flexion", 1.0, "walker knee about ~-Z: flexion positive; gait2392 +Z: sign -1"),
    **_sides("ankle_angle", "ankle_dorsiflexion", 1.0, "talocrural axis ~+Z: dorsiflexion positive"),
    **_sides("subtalar_angle", "ankle_inversion", 1.0, "oblique subtalar axis, X component 0.79: inversion"),
    "lumbar_extension": ("lumbar_flexion", -1.0, "back +Z is extension; our flexion axis is -Z; split"),
    "lumbar_bending": ("lumbar_bending", 1.0, "back +X = our +X (right bending); split"),
    "lumbar_rotation": ("lumbar_rotation", -1.0, "back +Y; our rotation axis is -Y; split"),
    **_sides("arm_flex", "shoulder_flexion", 1.0, "acromial +Z: flexion positive"),
    **_sides("arm_add", "shoulder_abduction", -1.0, "acromial +X right / -X left is adduction"),
    **_sides("arm_rot", "shoulder_rotation", 1.0, "acromial +Y right / -Y left: internal rotation"),
    **_sides("elbow_flex", "elbow_flexion", 1.0, "humero-ulnar axis ~+Z: flexion positive"),
    **_sides("pro_sup", "elbow_pronation", 1.0, "radio-ulnar axis ~+Y right / -Y left: pronation"),
}

_SPINE = ("lumbar_extension", "lumbar_bending", "lumbar_rotation")
_AXES3 = ("flexion", "bending", "rotation")
_TRANSLATIONS = ("pelvis_tx", "pelvis_ty", "pelvis_tz")
EXTRA_PREFIX = "musclepose_"
#: Rajagopal generic model: hip joint centre midpoint in the pelvis frame (m), stature 1.70 m.
RAJAGOPAL_HIP_MIDPOINT_M = (-0.056276, -0.07849, 0.0)
RAJAGOPAL_STATURE_M = 1.70


def _lumbar_share() -> tuple[float, float, float]:
    rom = {d.name: d.upper - d.lower for d in DOFS}
    return tuple(rom[f"lumbar_{k}"] / (rom[f"lumbar_{k}"] + rom[f"thoracic_{k}"]) for k in _AXES3)  # type: ignore


#: Fraction of the back joint's (flexion, bending, rotation) given to the lumbar joint.
LUMBAR_SHARE: tuple[float, float, float] = _lumbar_share()
#: Our DoFs that no coordinate of :data:`OPENSIM_COORDINATE_MAP` drives (the thoracic joint takes
#: its share of the back's); a table carries them as ``musclepose_<dof>`` columns.
EXTRA_DOFS: tuple[str, ...] = tuple(
    d.name
    for d in DOFS
    if d.name not in {v[0] for v in OPENSIM_COORDINATE_MAP.values()} and not d.name.startswith("thoracic_")
)


# ============================================================================ .osim axes
@dataclass(frozen=True)
class OsimCoordinateAxis:
    """How one coordinate of an ``.osim`` model moves its body.

    Attributes
    ----------
    joint : str
    kind : str
        ``"rotation"`` or ``"translation"``.
    axis : np.ndarray, (3,)
        Unit axis in the parent *body* frame, signed by the transform's slope at 0 (for a
        coordinate driving several rotations, the one with the largest slope).
    range : tuple of float
        The coordinate's range (rad or m).
    location : np.ndarray, (3,)
        The joint's location in the parent body frame (m).
    function : OsimFunction or None
        The transform function of that axis (None: the coordinate itself); the joint turns
        (or slides) by ``function(q)`` about the *unsigned* axis ``axis * sign(slope)``.
    slope : float
        ``function'(0)``.
    """

    joint: str
    kind: str
    axis: np.ndarray
    range: tuple[float, float]
    location: np.ndarray
    function: OsimFunction | None = None
    slope: float = 1.0

    def along_axis(self, q: np.ndarray) -> np.ndarray:
        """Angle (rad) or displacement (m) about/along the signed :attr:`axis` for coordinate values ``q``.

        ``function(q) * sign(slope)``: ``q`` itself for ``LinearFunction(1, 0)`` and for a mirrored
        ``LinearFunction(-1, 0)`` (whose signed axis is flipped instead), ``a q + b`` scaled and
        offset as the model says otherwise, a spline's value for a spline coupling.
        """
        q = np.asarray(q, dtype=np.float64)
        if self.function is None:
            return q
        return self.function(q) * (-1.0 if self.slope < 0 else 1.0)


def read_osim_coordinate_axes(path: str | Path) -> dict[str, OsimCoordinateAxis]:
    """Coordinate name -> :class:`OsimCoordinateAxis` for every joint of an OpenSim 4 or 3 model.

    Joints come from :func:`~musclepose.io.opensim.joints.read_osim_joints` (OpenSim 4
    ``PhysicalOffsetFrame`` parent frames, OpenSim 3 ``location_in_parent`` /
    ``orientation_in_parent`` and ``<function>``-wrapped transform functions). Frame
    orientations are body-fixed X-Y-Z Euler angles, as OpenSim writes them. Raises
    :class:`~musclepose.io.errors.FormatError` (a ``ValueError``) naming the model.
    """
    try:
        joints = read_osim_joints(path)
    except OSError as err:  # ValueError: the CLI reports it with the file name, exit 2
        raise ValueError(f"{path}: not a readable OpenSim model: {err}") from None
    out: dict[str, OsimCoordinateAxis] = {}
    for joint in joints:
        rot, loc = joint.parent_offset
        ranges = {c.name: c.range for c in joint.coordinates}
        best: dict[str, float] = {}
        for ta in joint.axes:
            name = ta.coordinate
            if name not in ranges:
                continue
            slope = ta.slope(0.0)
            if ta.kind == "rotation":
                better = abs(slope) > best.get(name, -1.0)
            else:
                better = name not in best  # any rotation wins over a translation
            if better:
                vec = rot @ ta.axis * (np.sign(slope) if slope else 1.0)
                out[name] = OsimCoordinateAxis(joint.name, ta.kind, vec, ranges[name], loc, ta.function, slope)
                best[name] = abs(slope) if ta.kind == "rotation" else -0.5
    return out


def root_offset(path: str | Path) -> np.ndarray:
    """The fixed part of the ground-to-pelvis translation (m, ground frame): the joint's offset
    on the ground plus its translation axes held by a Constant (no coordinate), e.g.
    gait10dof18musc's pelvis ``z = 0.02``."""
    for joint in read_osim_joints(path):
        if joint.parent == "ground":
            rot, p = joint.parent_offset
            for ta in joint.axes:
                if ta.kind == "translation" and ta.coordinate is None:
                    p = p + rot @ ta.axis * float(ta.value({}))
            return p
    return np.zeros(3)


# ============================================================================ signs
_OUR_AXES = {d.name: np.asarray(d.axis, float) for d in DOFS}


def coordinate_signs(
    columns: dict[str, np.ndarray], osim_path: str | Path | None = None, axes: dict | None = None
) -> tuple[dict[str, float], dict[str, str]]:
    """Sign of each mapped coordinate present in ``columns`` and the evidence for it.

    With ``osim_path``: ``sign(dot(OpenSim axis, our axis))`` (``ValueError`` if the axes are
    not within 60 deg of parallel). Without: :data:`OPENSIM_COORDINATE_MAP`'s sign, the knee's
    from its data (see the Notes). ``axes`` saves re-reading the model.

    Notes
    -----
    A coordinate maps onto the DoF whose signed axis is parallel to its rotation axis, with sign
    ``+1`` if the axes point the same way and ``-1`` if opposite. The axis of each coordinate,
    expressed in the parent body frame, is the ``TransformAxis`` axis (or a ``PinJoint``'s
    joint-frame ``z``) rotated by the joint's parent ``PhysicalOffsetFrame`` orientation
    (body-fixed X-Y-Z Euler angles) and signed by the slope of its transform function. Computed from
    ``addbiomechanics_expert1/generic.osim`` (Rajagopal-based) by :func:`read_osim_coordinate_axes`:

    =====================  =======================  ======================  ====  ==========================
    OpenSim coordinate      axis in parent (right)   our DoF and axis        sign  evidence / remark
    =====================  =======================  ======================  ====  ==========================
    pelvis_tilt/list/rot.   +Z, +X, +Y (ground)      root ZXY: +Z, +X, +Y    +1    same order and axes
    hip_flexion_r           +Z (pelvis)              hip_flexion +Z          +1    range -30..120 deg
    hip_adduction_r / _l    +X / -X (slope -1 on l)  hip_adduction +X / -X   +1    range -50..30
    hip_rotation_r / _l     +Y / -Y                  hip_rotation +Y / -Y    +1
    knee_angle_r (walker)   (0, -.07, -.997) femur   knee_flexion -Z         +1    range 0..140: flexion > 0
    knee_angle_r (gait2392) +Z (femur)               knee_flexion -Z         -1    range -120..10: flexion < 0
    ankle_angle_r / _l      (-.10, -.17, .98)        ankle_dorsiflexion +Z   +1    range -50..50
    subtalar_angle_r        (.79, .61, -.12) talus   ankle_inversion +X      +1    oblique (Inman) axis
    lumbar_extension        +Z (pelvis)              lumbar_flexion -Z       -1    extension is positive
    lumbar_bending          +X                       lumbar_bending +X       +1
    lumbar_rotation         +Y                       lumbar_rotation -Y      -1
    arm_flex_r / _l         +Z / +Z (torso)          shoulder_flexion +Z     +1
    arm_add_r / _l          +X / -X                  shoulder_abduction -X   -1    adduction vs abduction
    arm_rot_r / _l          +Y / -Y                  shoulder_rotation +Y    +1    internal rotation > 0
    elbow_flex_r / _l       (.23, .02, .97) humerus  elbow_flexion +Z        +1    range 0..150
    pro_sup_r / _l          (.06, 1.0, 0) / mirrored elbow_pronation +Y      +1    range 0..120: 0 = supinated
    =====================  =======================  ======================  ====  ==========================

    Left-side axes are mirrored (``X``, ``Y`` negated) in both models, so both sides share signs.
    Given ``osim_path`` the signs are recomputed from that model (dot product of the two axes,
    at least 0.5 in magnitude) with the evidence in ``metadata["opensim"]["evidence"]``. Without
    a model the table's signs hold (Rajagopal, gait2392) except the knee's, read from the data:
    a knee column whose largest magnitude is negative is gait2392-style (flexion negative).
    """
    if axes is None:
        axes = read_osim_coordinate_axes(osim_path) if osim_path is not None else {}
    signs, evidence = {}, {}
    for name, values in columns.items():
        if name not in OPENSIM_COORDINATE_MAP:
            continue
        dof, sign, note = OPENSIM_COORDINATE_MAP[name]
        if name in axes and name not in _TRANSLATIONS:
            a = axes[name]
            d = float(np.dot(a.axis, _OUR_AXES[dof]) / max(np.linalg.norm(a.axis), 1e-12))
            if abs(d) < 0.5:
                raise ValueError(f"{osim_path}: axis {a.axis.round(3)} of {name!r} is not parallel to {dof}'s")
            sign = float(np.sign(d))
            rng = np.degrees(a.range)
            evidence[name] = (
                f"{a.joint}: axis {np.round(a.axis, 3).tolist()} (parent frame) . our {dof} axis "
                f"{_OUR_AXES[dof].tolist()} = {d:+.3f}; range [{rng[0]:.0f}, {rng[1]:.0f}] deg"
            )
        elif name.startswith("knee_angle_"):
            v = np.asarray(values, float)
            sign = -1.0 if -np.min(v) > np.max(v) else 1.0
            evidence[name] = f"data: largest magnitude is {'negative' if sign < 0 else 'positive'} (no model)"
        else:
            evidence[name] = f"default: {note}"
        signs[name] = sign
    return signs, evidence


# ============================================================================ mapping
def _spine_axes_signs(prefix: str) -> np.ndarray:
    """Signs s with our joint rotation = E(s0 q0, s1 q1, s2 q2) (E = intrinsic ZXY)."""
    return np.array([_OUR_AXES[f"{prefix}_{n}"] @ e for n, e in zip(_AXES3, np.eye(3)[[2, 0, 1]], strict=True)])


def _hip_midpoint(axes: dict[str, OsimCoordinateAxis], body: Body) -> np.ndarray:
    """Hip joint centres' midpoint in the OpenSim pelvis frame (m): the model's, else Rajagopal's scaled."""
    if "hip_flexion_r" in axes and "hip_flexion_l" in axes:
        return 0.5 * (axes["hip_flexion_r"].location + axes["hip_flexion_l"].location)
    return np.asarray(RAJAGOPAL_HIP_MIDPOINT_M) * body.height_m / RAJAGOPAL_STATURE_M


def _in_degrees(table: OpenSimTable) -> bool:
    if table.in_degrees is not None:
        return bool(table.in_degrees)
    rot = [c for c in table.columns[1:] if c not in _TRANSLATIONS]
    return bool(rot) and float(np.max(np.abs(table.data[:, [table.columns.index(c) for c in rot]]))) > 2 * np.pi


def motion_from_opensim(
    table: OpenSimTable,
    body: Body | None = None,
    osim_path: str | Path | None = None,
    lumbar_share: tuple[float, float, float] = LUMBAR_SHARE,
) -> Motion:
    """A Motion from an OpenSim coordinates table (see the module docstring and the Notes).

    Parameters
    ----------
    table
        From :func:`musclepose.io.opensim.read_table`; uniformly sampled, ``time`` first.
    body
        The body to put the motion on (default ``Body.standard()``).
    osim_path
        The model the table belongs to: axes (signs), hip location. Optional.
    lumbar_share
        Fraction of the back's (flexion, bending, rotation) given to the lumbar joint.

    Returns
    -------
    Motion
        ``metadata["opensim"]`` holds the signs and their evidence, the hip offset,
        the lumbar share, ``in_degrees``, unmapped columns and unset DoFs.

    Notes
    -----
    Approximations (also recorded in ``metadata["opensim"]``):

    - **Spine.** OpenSim's ``back`` joint moves one rigid torso; we have lumbar and thoracic
      joints. The rotation is shared in proportion to each region's range of motion in our
      skeleton (White & Panjabi 1990: flexion 62.5 % lumbar, bending 33 %, axial rotation
      12.5 %; :data:`LUMBAR_SHARE`) and the thoracic angles solved so that the thorax's
      orientation relative to the pelvis equals OpenSim's torso's exactly
      (``R_lumbar R_thoracic = R_back``). ``lumbar_share=(1, 1, 1)`` puts it all in the lumbar.
    - **Pelvis translation.** OpenSim's pelvis origin lies near the midpoint of the anterior
      superior iliac spines, ~6 cm anterior and ~8 cm superior to the hip joint centres, not at
      our hip-centre midpoint. The root translation is ``p_osim + R_pelvis c``, ``c`` the
      midpoint of the ``hip_r``/``hip_l`` joint locations in the pelvis frame from ``osim_path``,
      else Rajagopal's generic ``(-0.0563, -0.0785, 0)`` m scaled by ``body.height_m / 1.70`` (the
      generic model's stature; Rajagopal et al. 2016, *IEEE TBME* 63:2068). Segment lengths are
      ``body``'s, not the subject's, so distal points (hands, feet) carry the length error.
    - **Unmapped.** ``knee_angle_*_beta`` (patella) and ``mtp_angle_*`` have no DoF here
      (``unmapped_columns``); neck, scapula, wrist and ``ankle_adduction`` stay 0 (``unset_dofs``).
      ``pro_sup`` spans 0 (supinated, palms forward: our zero) to 120 deg; values above our
      pronation limit are kept.
    """
    body = body if body is not None else Body.standard()
    dt = np.diff(np.asarray(table.time, float))
    step = float(np.median(dt)) if dt.size else 0.0
    if dt.size < 1 or np.any(dt <= 0) or np.max(np.abs(dt - step)) > 0.01 * step:
        raise ValueError(f"{table.path}: time must increase uniformly over two or more rows (resample first)")
    degrees = _in_degrees(table)
    cols = {c: np.asarray(table.column(c), float) for c in table.columns[1:]}
    axes = read_osim_coordinate_axes(osim_path) if osim_path is not None else {}
    signs, evidence = coordinate_signs(cols, osim_path, axes)
    n = dt.size + 1
    q = np.zeros((n, body.n_dof))

    def along(name: str) -> np.ndarray:  # about/along the signed axis, through the model's function
        v = cols[name] if name in _TRANSLATIONS or not degrees else np.radians(cols[name])
        return axes[name].along_axis(v) if name in axes else v

    for name, sign in signs.items():
        if name in _SPINE:
            continue
        q[:, body.dof_index(OPENSIM_COORDINATE_MAP[name][0])] = sign * along(name)

    present = any(c in signs for c in _SPINE)
    if present:
        total = np.zeros((n, 3))  # our (flexion, bending, rotation) of the whole back, rad
        for k, name in enumerate(_SPINE):
            if name in signs:
                total[:, k] = signs[name] * along(name)
        lumbar = total * np.asarray(lumbar_share)
        s_l, s_t = _spine_axes_signs("lumbar"), _spine_axes_signs("thoracic")
        r_total = euler_zxy_to_matrix(torch.as_tensor(total * s_l))
        r_lumbar = euler_zxy_to_matrix(torch.as_tensor(lumbar * s_l))
        thoracic = matrix_to_euler_zxy(r_lumbar.transpose(-1, -2) @ r_total).numpy() * s_t
        for k, axis in enumerate(_AXES3):
            q[:, body.dof_index(f"lumbar_{axis}")] = lumbar[:, k]
            q[:, body.dof_index(f"thoracic_{axis}")] = thoracic[:, k]

    hip = _hip_midpoint(axes, body)
    fixed = root_offset(osim_path) if osim_path is not None else np.zeros(3)
    if any(c in cols for c in _TRANSLATIONS):  # a missing one (planar models) is 0
        q[:, 0:3] += fixed + euler_zxy_to_matrix(torch.as_tensor(q[:, 3:6])).numpy() @ hip

    # Our own columns for the DoFs OpenSim has no coordinate for (written by write_motion_opensim).
    extra = [d for d in EXTRA_DOFS if EXTRA_PREFIX + d in cols and d in body.dof_names]
    for d in extra:
        v = cols[EXTRA_PREFIX + d]
        q[:, body.dof_index(d)] = np.radians(v) if degrees else v

    # The thoracic joint carries the back's share of each spine coordinate the table has, no other.
    driven = (
        {OPENSIM_COORDINATE_MAP[c][0] for c in signs}
        | set(extra)
        | {f"thoracic_{a}" for a, c in zip(_AXES3, _SPINE, strict=True) if c in signs}
    )
    meta: dict[str, Any] = {
        "source": str(table.path) if table.path is not None else "OpenSim table",
        "units": "m, rad",
        "history": [f"mapped from OpenSim coordinates ({'deg' if degrees else 'rad'})"],
        "opensim": {
            "signs": signs,
            "evidence": evidence,
            "hip_offset_m": hip.tolist(),
            "root_offset_m": fixed.tolist(),
            "couplings": {c: _coupling(axes[c]) for c in signs if c in axes and not _is_identity(axes[c])},
            "lumbar_share": list(lumbar_share),
            "in_degrees": degrees,
            "osim_path": str(osim_path) if osim_path is not None else None,
            "unmapped_columns": [
                c
                for c in table.columns[1:]
                if c not in OPENSIM_COORDINATE_MAP
                and not (c.startswith(EXTRA_PREFIX) and c[len(EXTRA_PREFIX) :] in extra)
            ],
            "unset_dofs": [d for d in body.dof_names if d not in driven],
        },
    }
    return Motion(q=torch.as_tensor(q, dtype=torch.float64), fps=1.0 / step, body=body, metadata=meta)


def opensim_from_motion(motion: Motion, degrees: bool | None = None, extra: bool = False) -> dict[str, np.ndarray]:
    """OpenSim coordinate columns from a Motion made by :func:`motion_from_opensim` (its inverse).

    Uses the signs, hip offset and units in ``motion.metadata["opensim"]`` (default: the
    table's signs, Rajagopal's hip offset, degrees). Returns ``name -> (T,)`` including
    ``"time"``; angles in degrees unless ``degrees`` is False. ``extra``: also the
    ``musclepose_<dof>`` columns of the :data:`EXTRA_DOFS` that move (not all zero).
    """
    info = motion.metadata.get("opensim", {})
    signs = info.get("signs") or {k: v[1] for k, v in OPENSIM_COORDINATE_MAP.items()}
    degrees = info.get("in_degrees", True) if degrees is None else degrees
    hip = np.asarray(info.get("hip_offset_m", _hip_midpoint({}, motion.body)))
    couplings = info.get("couplings", {})
    q = motion.q.detach().cpu().numpy().astype(np.float64)
    body = motion.body

    def ang(name: str, v: np.ndarray) -> np.ndarray:  # back through the coupling, then to degrees
        v = _uncouple(name, v, couplings.get(name))
        return np.degrees(v) if degrees and name not in _TRANSLATIONS else v

    out: dict[str, np.ndarray] = {"time": motion.times}
    for name, sign in signs.items():
        if name not in _SPINE and name not in _TRANSLATIONS:
            out[name] = ang(name, q[:, body.dof_index(OPENSIM_COORDINATE_MAP[name][0])] / sign)
    if any(c in signs for c in _SPINE):
        s_l, s_t = _spine_axes_signs("lumbar"), _spine_axes_signs("thoracic")
        lum, tho = (np.stack([q[:, body.dof_index(f"{r}_{a}")] for a in _AXES3], 1) for r in ("lumbar", "thoracic"))
        r = euler_zxy_to_matrix(torch.as_tensor(lum * s_l)) @ euler_zxy_to_matrix(torch.as_tensor(tho * s_t))
        total = matrix_to_euler_zxy(r).numpy() * s_l
        out.update({name: ang(name, total[:, k] / signs[name]) for k, name in enumerate(_SPINE) if name in signs})
    p = q[:, 0:3] - euler_zxy_to_matrix(torch.as_tensor(q[:, 3:6])).numpy() @ hip
    p = p - np.asarray(info.get("root_offset_m", np.zeros(3)))
    out.update({name: ang(name, p[:, k] / signs[name]) for k, name in enumerate(_TRANSLATIONS) if name in signs})
    if extra:
        for d in (d for d in EXTRA_DOFS if d in body.dof_names):
            v = q[:, body.dof_index(d)]
            if np.any(v != 0.0):
                out[EXTRA_PREFIX + d] = np.degrees(v) if degrees else v
    return out


def write_motion_opensim(path: str | Path, motion: Motion) -> dict[str, Any]:
    """``motion`` as an OpenSim coordinates table (``.mot``/``.sto``, degrees), written atomically,
    with the ``musclepose_<dof>`` columns of the DoFs OpenSim lacks that move; what was written."""
    cols = opensim_from_motion(motion, degrees=True, extra=True)
    names = list(cols)
    write_table(path, names, np.stack([cols[n] for n in names], axis=1), in_degrees=True, name=Path(path).stem)
    return {
        "columns": len(names),
        "in_degrees": True,
        "extra_columns": [n for n in names if n.startswith(EXTRA_PREFIX)],
    }


def _is_identity(axis: OsimCoordinateAxis) -> bool:
    f = axis.function
    return f is None or (f.kind == "LinearFunction" and abs(f.params["coefficients"][0]) == 1.0
                         and f.params["coefficients"][1] == 0.0)  # fmt: skip


def _coupling(axis: OsimCoordinateAxis) -> dict[str, Any]:
    """What :func:`opensim_from_motion` needs to undo ``along_axis``: a line, or a monotone table."""
    f = axis.function
    assert f is not None
    if f.is_linear:
        return {"function": f.kind, "scale": float(abs(axis.slope)), "offset": float(axis.along_axis(0.0))}
    lo, hi = (float(v) if np.isfinite(v) else d for v, d in zip(axis.range, (-np.pi, np.pi), strict=True))
    grid = np.linspace(lo, hi, 401)
    values = axis.along_axis(grid)
    if not np.all(np.diff(values) > 0):
        return {"function": f.kind, "invertible": False}
    return {"function": f.kind, "grid_q": grid.tolist(), "grid_value": values.tolist()}


def _uncouple(name: str, v: np.ndarray, coupling: dict[str, Any] | None) -> np.ndarray:
    if not coupling:
        return v
    if "scale" in coupling:
        return (v - coupling["offset"]) / coupling["scale"]
    if "grid_q" not in coupling:
        raise ValueError(f"{name}: its {coupling['function']} coupling is not monotone over the range; cannot invert")
    return np.interp(v, coupling["grid_value"], coupling["grid_q"])
