"""Joint moments against real inverse dynamics: OpenSim's example gait and a Vicon Plug-in Gait trial.

- :func:`validate_opensim_gait`: OpenSim's ``gait10dof18musc`` example (subject01). Our body
  takes the scaled model's joint centres and markers (:func:`~musclepose.io.opensim.model.osim_marker_set`),
  the force plates are applied as its ``ExternalLoads`` XML says, and our sagittal hip, knee
  and ankle moments are compared with OpenSim's ``subject01_walk_ID.sto`` over the trial.
  Kinematics come from (a) our IK on ``subject01_walk.trc`` restricted to the DoF the
  OpenSim model has (it is planar: no hip ab/adduction or rotation, no pelvis list), (b) our
  unrestricted 3-D IK, (c) OpenSim's own IK coordinates mapped onto our body. Settings match
  OpenSim's inverse dynamics tool: coordinates low-passed at 6 Hz, loads not filtered.
- :func:`validate_vicon_gait`: the Kinetics Toolkit Plug-in Gait walk: our IK
  (:func:`~musclepose.io.plugin_gait.pig_motion`) and the C3D's force plates, compared with
  the hip, knee and ankle moments Vicon stored in the file, per joint and plane, leaving out
  frames where a plate carried both feet (Vicon leaves them out as well).
- :func:`estimated_vs_plates`, run by both: our kinetics twice on the same kinematics, with
  ground reactions estimated from the motion (:func:`musclepose.body.grf.estimate_grf`) and
  with the plates, correlated per sagittal joint moment and side, over all frames where the
  plates measured every load, away from the trial's ends, and in single and double support.

Sign and normalisation: ours are internal moments, N m/kg, positive in the direction of the
DoF name (:mod:`musclepose.motion.kinetics`). OpenSim's knee coordinate is positive in
extension, so its knee moment is compared with the sign flipped. Plug-in Gait stores
N mm/kg; each of its three components equals minus ours for the hip and knee (internal
extensor, abductor and external-rotator moments positive), which the data confirm with
r < -0.9 in every hip plane. Its foot frame has its long axis along the foot, so its ankle
frontal and transverse components are not the same axes as our shank-based ankle
inversion and adduction; they are reported with that caveat.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..body import forward_kinematics
from ..io.c3d import read_c3d
from ..io.loads import c3d_loads, opensim_loads
from ..io.opensim import read_osim_bodies, read_table, read_trc
from ..io.opensim.coords import motion_from_opensim
from ..io.opensim.model import osim_marker_set
from ..io.plugin_gait import pig_motion
from ..motion.ik import solve_ik
from ..motion.kinetics import compute_kinetics, feet_on_floor
from ..motion.residuals import reduce_residuals

__all__ = [
    "EstimateAgreement",
    "JointAgreement",
    "agreement",
    "estimated_vs_plates",
    "validate_opensim_gait",
    "validate_vicon_gait",
]

# (our DoF, OpenSim coordinate, sign of theirs relative to ours)
_SAGITTAL = (
    ("hip_flexion", "hip_flexion", 1.0),
    ("knee_flexion", "knee_angle", -1.0),
    ("ankle_dorsiflexion", "ankle_angle", 1.0),
)


def agreement(ours: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """Pearson r and RMSE of two series over the frames where both are finite."""
    ok = np.isfinite(ours) & np.isfinite(ref)
    a, b = ours[ok], ref[ok]
    return float(np.corrcoef(a, b)[0, 1]), float(np.sqrt(np.mean((a - b) ** 2)))


@dataclass
class JointAgreement:
    """One compared series: ``joint`` (our DoF), ``side``, ``plane``, Pearson r, RMSE (N m/kg)."""

    joint: str
    side: str
    plane: str
    r: float
    rmse: float
    peak_ours: float
    peak_ref: float


@dataclass
class EstimateAgreement:
    """Estimated-GRF against force-plate kinetics for one joint and side (N m/kg; see :func:`estimated_vs_plates`).

    ``r`` over every frame where the plates measured all loads, ``r_inner`` without the first
    and last ``edge_s`` of the trial, ``r_single`` / ``r_double`` in single / double support;
    ``residual_single`` is the RMS sagittal root residual of the plate solution in single support
    (N m/kg), the part of the body's dynamics the plates and the kinematics disagree on.
    """

    joint: str
    side: str
    r: float
    r_inner: float
    r_single: float
    r_double: float
    rmse: float
    rmse_single: float
    residual_single: float
    frames: int


@dataclass
class GaitValidation:
    """Agreement rows per kinematics source, residual peaks, timings, and the series for plots.

    ``estimated`` holds, per kinematics source, :func:`estimated_vs_plates`'s rows, and
    ``estimated_series`` its moment curves (time, estimated, plates) per DoF.
    """

    rows: dict[str, list[JointAgreement]] = field(default_factory=dict)
    residuals: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    series: dict[str, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    estimated: dict[str, list[EstimateAgreement]] = field(default_factory=dict)
    estimated_series: dict[str, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]] = field(default_factory=dict)
    estimated_notes: dict[str, list[str]] = field(default_factory=dict)
    spine: dict[str, dict[str, float]] = field(default_factory=dict)


def _masked_r(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    return agreement(np.where(mask, a, np.nan), b)[0] if mask.sum() > 2 else float("nan")


def estimated_vs_plates(
    motion, loads, *, cutoff_hz: float = 6.0, edge_s: float = 0.1, min_force: float = 20.0
) -> tuple[list[EstimateAgreement], dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], list[str]]:
    """Our sagittal hip, knee and ankle moments with estimated ground reactions against those with the plates.

    Both runs take the same kinematics and settings (coordinates low-passed at ``cutoff_hz``,
    plates with the same cut-off, :func:`~musclepose.motion.kinetics.compute_kinetics`'s
    default; ground reactions estimated on a treadmill belt it detects). Frames are compared
    where the plates measured every load: not where a plate carried both feet, nor where a
    foot stood (:func:`~musclepose.motion.kinetics.feet_on_floor`) with under ``min_force`` N
    from the plates. Returns the rows, the curves ``dof -> (t, estimated, plates)`` and notes.
    """
    plates = compute_kinetics(motion, loads, cutoff_hz=cutoff_hz, muscles=False)
    est = compute_kinetics(motion, None, cutoff_hz=cutoff_hz, muscles=False)
    mf = plates.motion
    t = mf.times
    standing = feet_on_floor(mf)
    loaded = {f: np.abs(plates.grf[f][:, 1]) > min_force for f in plates.grf}
    valid = ~plates.ambiguous
    for foot, on in standing.items():
        valid &= ~(on & ~loaded[foot])
    inner = valid & (t >= t[0] + edge_s) & (t <= t[-1] - edge_s)
    n_loaded = sum(loaded.values())
    single, double = valid & (n_loaded == 1), valid & (n_loaded == 2)
    # The sagittal axis: the pelvis's medio-lateral axis, averaged over the trial (walking direction aside).
    axis = forward_kinematics(mf.body, mf.q).rotations[:, mf.body.segment_index("pelvis"), :, 2].mean(0).numpy()
    axis = axis / np.linalg.norm(axis)
    res = plates.residual_moment @ axis / mf.body.mass_kg
    residual_single = float(np.sqrt(np.mean(res[single] ** 2))) if single.any() else float("nan")
    rows, series = [], {}
    for side in "rl":
        for dof in ("hip_flexion", "knee_flexion", "ankle_dorsiflexion"):
            a, b = est.moment(f"{dof}_{side}"), plates.moment(f"{dof}_{side}")
            d = (a - b)[valid]
            rows.append(EstimateAgreement(
                dof, side, _masked_r(a, b, valid), _masked_r(a, b, inner), _masked_r(a, b, single),
                _masked_r(a, b, double), float(np.sqrt(np.mean(d**2))),
                float(np.sqrt(np.mean((a - b)[single] ** 2))) if single.any() else float("nan"),
                residual_single, int(valid.sum()),
            ))  # fmt: skip
            series[f"{dof}_{side}"] = (t + float(motion.metadata.get("start_time", 0.0)), a, np.where(valid, b, np.nan))
    notes = [*est.notes, f"{int(valid.sum())} of {len(t)} frames compared ({int(single.sum())} single support, "
             f"{int(double.sum())} double support, {int(inner.sum())} away from the ends)"]  # fmt: skip
    return rows, series, notes


def _row(joint, side, plane, ours, ref) -> JointAgreement:
    r, rmse = agreement(ours, ref)
    return JointAgreement(joint, side, plane, r, rmse, float(np.nanmax(np.abs(ours))), float(np.nanmax(np.abs(ref))))


def validate_opensim_gait(
    folder: str | Path,
    sources=("our IK, model DoF", "our IK, 3-D", "OpenSim IK"),
    extra_locked: dict[str, float] | None = None,
) -> GaitValidation:
    """Compare our sagittal joint moments with OpenSim's ``subject01_walk_ID.sto`` (see module docstring).
    ``extra_locked``: DoF held at these values in our IK as well (a sensitivity check, e.g. the
    thoracic joint at zero); ``spine`` records each source's mean lumbar and thoracic flexion."""
    folder = Path(folder)
    osim = folder / "subject01.osim"
    mass = sum(b.mass for b in read_osim_bodies(osim).values())
    body, markers, _ = osim_marker_set(osim, mass_kg=mass)
    loads = opensim_loads(folder / "subject01_walk_grf.xml")
    ids = read_table(folder / "subject01_walk_ID.sto")
    ik_table = read_table(folder / "subject01_walk_IK.mot")
    mapped = motion_from_opensim(ik_table, body, osim_path=osim)
    trc = read_trc(folder / "subject01_walk.trc")
    # The model's missing DoF (planar hips, no pelvis list/rotation/tz, no lumbar bending);
    # arms and neck carry no markers here and stay free (held by the prior).
    locked = {
        n: 0.0
        for n in mapped.metadata["opensim"]["unset_dofs"]
        if not n.startswith(("shoulder", "elbow", "wrist", "scapula", "neck"))
    }
    out = GaitValidation()
    out.notes.append(f"subject mass {mass:.1f} kg (sum of the model's bodies); {trc.n_frames} frames at {trc.fps:g} Hz")
    for source in sources:
        t0 = time.perf_counter()
        if source == "OpenSim IK":
            motion = mapped
        else:
            lock = {**(locked if source == "our IK, model DoF" else {}), **(extra_locked or {})}
            motion = solve_ik(body, markers, trc.names, trc.positions, trc.fps, locked=lock or None).motion
        out.spine[source] = {
            n: float(np.degrees(motion.q[:, body.dof_index(n)].mean())) for n in ("lumbar_flexion", "thoracic_flexion")
        }
        t_ik = time.perf_counter() - t0
        t1 = time.perf_counter()
        kin = compute_kinetics(motion, loads, cutoff_hz=6.0, load_cutoff_hz=None)
        out.seconds[source] = time.perf_counter() - t1
        out.seconds[f"{source} (IK)"] = t_ik
        rows, series = [], {}
        for side in "rl":
            for ours, col, sign in _SAGITTAL:
                o = sign * kin.moment(f"{ours}_{side}")
                ref = ids.column(f"{col}_{side}_moment") / mass
                rows.append(_row(ours, side, "sagittal", o, ref))
                series[f"{ours}_{side}"] = (kin.motion.times, o, ref)
        out.rows[source] = rows
        out.series[source] = series
        rr = reduce_residuals(motion, loads, cutoff_hz=6.0, load_cutoff_hz=None)
        out.residuals[source] = {
            **rr.peaks(),
            "adjustment": {"mass_kg": rr.mass_change_kg, "trunk_com_x_m": float(rr.trunk_com_shift_m[0]),
                           "trunk_com_z_m": float(rr.trunk_com_shift_m[2])},
        }  # fmt: skip
        est_rows, est_series, est_notes = estimated_vs_plates(motion, loads)
        out.estimated[source], out.estimated_series[source], out.estimated_notes[source] = (est_rows, est_series,
                                                                                             est_notes)  # fmt: skip
    out.residuals["OpenSim ID (reference)"] = {
        "before": {
            "Fx": float(np.abs(ids.column("pelvis_tx_force")).max()),
            "Fy": float(np.abs(ids.column("pelvis_ty_force")).max()),
            "Mz": float(np.abs(ids.column("pelvis_tilt_moment")).max()),
        }
    }
    return out


_VICON_PLANES = (
    ("hip", (("hip_flexion", "sagittal"), ("hip_adduction", "frontal"), ("hip_rotation", "transverse"))),
    ("knee", (("knee_flexion", "sagittal"),)),
    ("ankle", (("ankle_dorsiflexion", "sagittal"), ("ankle_inversion", "frontal"), ("ankle_adduction", "transverse"))),
)


def validate_vicon_gait(path: str | Path) -> GaitValidation:
    """Compare our joint moments with the Plug-in Gait moments stored in a C3D (see module docstring)."""
    data = read_c3d(path)
    t0 = time.perf_counter()
    motion = pig_motion(data)
    t_ik = time.perf_counter() - t0
    loads = c3d_loads(data)
    t1 = time.perf_counter()
    kin = compute_kinetics(motion, loads, cutoff_hz=6.0)
    out = GaitValidation()
    out.seconds["Plug-in Gait markers"] = time.perf_counter() - t1
    out.seconds["Plug-in Gait markers (IK)"] = t_ik
    out.notes += kin.notes
    out.notes.append(
        f"marker fit: median RMS {1000 * motion.metadata['marker_rms_m']:.1f} mm; subject {data.subject_mass_kg:g} kg, "
        f"{data.subject_height_m:g} m; {int(kin.ambiguous.sum())} of {motion.n_frames} frames left out (shared plate)"
    )
    out.notes.append("per side, frames where that foot stands but Vicon gave it no ground reaction are left out")
    rows, series = [], {}
    contact = feet_on_floor(kin.motion)
    for side, s in (("r", "R"), ("l", "L")):
        # Vicon computes moments without a ground reaction where it gave a foot no plate
        # (its GRF output is then missing): those reference values are not inverse dynamics
        # of the real loads, so frames where that foot stands without a Vicon GRF are left out.
        vicon_grf = data.model_outputs.get(f"{s}GroundReactionForce")
        no_grf = ~np.isfinite(vicon_grf).all(-1) if vicon_grf is not None else np.zeros(motion.n_frames, bool)
        excluded = kin.ambiguous | (contact[f"foot_{side}"] & no_grf)
        for joint, dofs in _VICON_PLANES:
            stored = data.model_outputs.get(f"{s}{joint.capitalize()}Moment")
            if stored is None:
                continue
            for c, (dof, plane) in enumerate(dofs):
                ref = -np.asarray(stored[:, c], dtype=np.float64) / 1000.0  # N mm/kg -> N m/kg, their sign
                ref = np.where(excluded, np.nan, ref)
                o = kin.moment(f"{dof}_{side}")
                rows.append(_row(dof, side, plane, o, ref))
                series[f"{dof}_{side}"] = (motion.metadata["start_time"] + kin.motion.times, o, ref)
    out.rows["Plug-in Gait markers"] = rows
    out.series["Plug-in Gait markers"] = series
    rr = reduce_residuals(motion, loads, cutoff_hz=6.0)
    out.residuals["Plug-in Gait markers"] = {
        **rr.peaks(),
        "adjustment": {"mass_kg": rr.mass_change_kg, "trunk_com_x_m": float(rr.trunk_com_shift_m[0]),
                       "trunk_com_z_m": float(rr.trunk_com_shift_m[2])},
    }  # fmt: skip
    rows, series, notes = estimated_vs_plates(motion, loads)
    out.estimated["Plug-in Gait markers"] = rows
    out.estimated_series["Plug-in Gait markers"] = series
    out.estimated_notes["Plug-in Gait markers"] = notes
    return out
