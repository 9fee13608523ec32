"""Joint kinetics of a motion: measured or estimated ground reactions, inverse dynamics, residuals.

:func:`compute_kinetics` is the kinetic chain after inverse kinematics: low-pass the
coordinates, differentiate, apply the external loads (force plates when there are any,
otherwise ground reactions estimated from the kinematics by :mod:`musclepose.body.grf`, over the
feet and the other supports :mod:`musclepose.body.supports` finds: a seat, the hands, a box),
run inverse dynamics (:func:`musclepose.body.inverse_dynamics`), and report the root residual.

Conventions (documented in docs/validation_kinetics.md as well):

- Joint moments are **internal** net moments (what muscles and passive tissues exert on the
  distal segment), positive in the direction of the DoF's name: ``hip_flexion`` > 0 is a
  flexor moment, ``knee_flexion`` > 0 a knee flexor moment, ``ankle_dorsiflexion`` > 0 a
  dorsiflexor moment. OpenSim reports the same (generalised forces of its coordinates), with
  the coordinate's own sign: its ``knee_angle`` is positive in extension, so its knee moment
  is minus ours. Vicon's Plug-in Gait reports internal moments in the distal segment's frame
  with its own axis signs (see the validation script).
- Normalisation: N m per kg of body mass (``Kinetics.per_kg``).
- The residual is the wrench on the pelvis that no joint can supply: force (N) and moment
  (N m) about the pelvis origin, world axes, like OpenSim's pelvis residuals.
- Loads and coordinates are filtered with the same low-pass cut-off by default: filtering
  only the kinematics makes impact artefacts in the joint moments (Bisseling & Hof 2006,
  J Biomech 39:2438; Kristianslund, Krosshaug & van den Bogert 2012, J Biomech 45:666).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from scipy.signal import butter, sosfiltfilt

from ..body import ExternalWrench, forward_kinematics, inverse_dynamics
from ..body.contact import foot_contact as contact_weights
from ..body.dynamics import root_residual
from ..body.muscles import mtg_parameters, static_optimization
from ..body.supports import detect_supports, supported_grf
from ..memory import bound_heap, release
from .core import Motion

__all__ = [
    "FEET",
    "Kinetics",
    "assign_feet",
    "centre_of_pressure",
    "compute_kinetics",
    "feet_on_floor",
    "wrenches_at",
]

FEET = ("foot_r", "foot_l")
# Long recordings run in windows (compute_kinetics(window_s=)): bounded memory. Context on each
# side of a window: the 6 Hz Butterworth's impulse response and the contact detection's
# smoothing have died out well within 5 s.
WINDOW_S = 120.0
MARGIN_S = 5.0


@dataclass
class Kinetics:
    """Result of :func:`compute_kinetics` for a motion of ``T`` frames.

    Attributes
    ----------
    motion : Motion
        The (filtered) motion the kinetics were computed on.
    qd, qdd : torch.Tensor (T, 47)
    tau : torch.Tensor (T, 47)
        Generalised forces: residual (0:6) and joint moments (6:), N m.
    grf : dict of str to np.ndarray (T, 3)
        Ground reaction force on each foot (N, world).
    cop : dict of str to np.ndarray (T, 3)
        Centre of pressure on each foot (m; NaN while the foot carries under 20 N).
    residual_force, residual_moment : np.ndarray (T, 3)
        Root residual (N; N m about the pelvis origin), world axes.
    source : str
        ``"force plates"`` or ``"estimated"``.
    notes : list of str
        What was assumed or could not be done (e.g. loads outside the motion's time span).
    ambiguous : np.ndarray (T,) bool
        Frames where a plate carried both feet, so its split between them is a guess.
    activations : np.ndarray (T, 82) or None
        Minimal muscle activations that produce the joint moments (static optimisation over
        Anderson 2007 / generic torque generators, :mod:`musclepose.body.muscles`): columns
        ``0:41`` the positive-direction generators of ``dof_names[6:]``, ``41:82`` the negative.
    muscle_residual : np.ndarray (T, 41) or None
        Joint moment (N m) the generators cannot produce even fully active.
    supports : dict of str to np.ndarray (T, 3)
        Force (N, world) on each support other than the feet that the estimate found
        (``"seat"``, ``"hand_r"``, ``"hand_l"``; :mod:`musclepose.body.supports`); empty with
        force plates or when the feet carry everything.
    """

    motion: Motion
    qd: torch.Tensor
    qdd: torch.Tensor
    tau: torch.Tensor
    grf: dict[str, np.ndarray]
    cop: dict[str, np.ndarray]
    residual_force: np.ndarray
    residual_moment: np.ndarray
    source: str
    notes: list[str] = field(default_factory=list)
    ambiguous: np.ndarray | None = None
    activations: np.ndarray | None = None
    muscle_residual: np.ndarray | None = None
    supports: dict[str, np.ndarray] = field(default_factory=dict)

    def activation(self, generator: str) -> np.ndarray:
        """One generator's activation over time, e.g. ``"knee_flexion_r-"`` (the knee extensors)."""
        if self.activations is None:
            raise ValueError("no activations: compute_kinetics(..., muscles=False) was used")
        return self.activations[:, generator_index(self.motion.body, generator)]

    @property
    def mass_kg(self) -> float:
        return float(self.motion.body.mass_kg)

    @property
    def per_kg(self) -> np.ndarray:
        """Joint moments ``(T, 47)`` in N m/kg (the first six columns are the residual)."""
        return self.tau.detach().cpu().numpy() / self.mass_kg

    def moment(self, dof: str) -> np.ndarray:
        """One DoF's internal joint moment over time, N m/kg."""
        return self.tau[:, self.motion.body.dof_index(dof)].detach().cpu().numpy() / self.mass_kg


def generator_index(body, generator: str) -> int:
    """Column of a torque generator (``"<dof>+"`` or ``"<dof>-"``) in the 82 activations."""
    dof, sign = generator[:-1], generator[-1:]
    if sign not in "+-" or not sign:
        raise KeyError(f"generator names end in + or -: {generator!r}")
    return body.dof_index(dof) - 6 + (41 if sign == "-" else 0)


def _lowpass(x: np.ndarray, fps: float, cutoff_hz: float | None) -> np.ndarray:
    if cutoff_hz is None or not 0 < cutoff_hz < 0.5 * fps or len(x) <= 27:
        return x
    return sosfiltfilt(butter(4, cutoff_hz / (0.5 * fps), output="sos"), x, axis=0)


def centre_of_pressure(force: np.ndarray, moment0: np.ndarray, floor_y: float, min_force: float = 20.0):
    """CoP ``(…, 3)`` on the plane ``y = floor_y`` and vertical free moment from a wrench.

    ``moment0`` is the moment about the world origin. With ``p = (x, h, z)``:
    ``M = p x F + T e_y`` gives ``x = (M_z + h F_x) / F_y`` and ``z = (h F_z - M_x) / F_y``.
    NaN where ``F_y < min_force``.
    """
    fy = force[..., 1]
    ok = fy >= min_force
    safe = np.where(ok, fy, 1.0)
    x = (moment0[..., 2] + floor_y * force[..., 0]) / safe
    z = (floor_y * force[..., 2] - moment0[..., 0]) / safe
    cop = np.stack([x, np.full_like(x, floor_y), z], axis=-1)
    cop[~ok] = np.nan
    return cop


def wrenches_at(records: Sequence, times: np.ndarray, cutoff_hz: float | None = None) -> list[ExternalWrench]:
    """Measured loads resampled at ``times`` (s) as one :class:`ExternalWrench` per segment.

    Each record's force and moment about the world origin (smooth even where the centre of
    pressure is undefined) are low-passed at their own rate (``cutoff_hz``, zero-phase 4th
    order Butterworth; None: not filtered), linearly interpolated at ``times`` (zero outside
    the record) and summed per segment. The wrench is applied as that force at the origin plus
    that moment, which is mechanically the force at the centre of pressure plus the free moment.
    """
    acc: dict[str, list[np.ndarray]] = {}
    for rec in records:
        if rec.segment is None:
            raise ValueError(f"load {rec.name!r} is not assigned to a segment (see assign_feet)")
        rate = 1.0 / float(np.median(np.diff(rec.times)))
        wrench = np.concatenate([np.nan_to_num(rec.force), rec.moment_about_origin()], axis=1)
        wrench = _lowpass(wrench, rate, cutoff_hz)
        # Snap times within half a frame of the record's ends onto them (clock rounding).
        half = 0.5 * float(np.median(np.diff(times))) if len(times) > 1 else 0.0
        lo, hi = float(rec.times[0]), float(rec.times[-1])
        tt = np.where((times < lo) & (times >= lo - half), lo, np.where((times > hi) & (times <= hi + half), hi, times))
        out = np.stack([np.interp(tt, rec.times, wrench[:, k], left=0.0, right=0.0) for k in range(6)], -1)
        acc.setdefault(rec.segment, []).append(out)
    result = []
    for seg, parts in acc.items():
        w = torch.as_tensor(np.sum(parts, axis=0))
        result.append(ExternalWrench(seg, w[:, 0:3], torch.zeros_like(w[:, 0:3]), w[:, 3:6]))
    return result


_HEEL_TOE = {"foot_r": ("RHEE", "RTOE"), "foot_l": ("LHEE", "LTOE")}


def _heel_toe(motion: Motion) -> dict[str, np.ndarray]:
    """Heel and toe landmarks of each foot over time ``(T, 2, 3)``."""
    body = motion.body
    fk = forward_kinematics(body, motion.q)
    return {f: fk.landmarks[:, body.landmark_indices(list(n))].detach().cpu().numpy() for f, n in _HEEL_TOE.items()}


def _inside(points: np.ndarray, corners: np.ndarray, margin: float) -> np.ndarray:
    """Whether horizontal (x, z) points ``(..., 3)`` lie in the convex quad ``corners (4, 3)`` grown by ``margin``."""
    c = corners[:, [0, 2]]
    centre = c.mean(0)
    p = points[..., [0, 2]]
    inside = np.ones(p.shape[:-1], dtype=bool)
    for k in range(4):
        a, b = c[k], c[(k + 1) % 4]
        edge = b - a
        normal = np.array([edge[1], -edge[0]]) / np.linalg.norm(edge)
        if normal @ (centre - a) > 0:
            normal = -normal  # outward
        inside &= (p - a) @ normal <= margin
    return inside


def feet_on_floor(motion: Motion, qd: torch.Tensor | None = None) -> dict[str, np.ndarray]:
    """Which feet touch the (static) floor, per frame ``(T,)`` bool: the smooth contact weight
    of :func:`musclepose.body.contact.foot_contact` above one half."""
    if qd is None:
        qd = motion.velocity()
    w = contact_weights(motion.body, motion.q, qd).weight.detach().cpu().numpy()
    return {foot: w[:, k] > 0.5 for k, foot in enumerate(FEET)}


def _intervals(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[0::2], edges[1::2], strict=True))


def assign_feet(
    records: Sequence, motion: Motion, start_time: float = 0.0, min_force: float = 20.0, share: float = 0.95
) -> tuple[list, list[tuple[float, float]]]:
    """Give each unassigned load (a C3D plate) to the foot standing on it.

    Each sample goes to the foot whose mid-foot point is horizontally nearest to the centre
    of pressure. A contact interval (normal force above ``min_force`` N) in which one foot
    owns at least ``share`` of the samples goes to that foot whole. Otherwise both feet stood
    on the plate during the interval (one landing before the other left): the samples stay
    split by nearest foot, which is only right when one foot carries the load, and the
    interval is returned as *shared* so that comparisons can leave it out (Vicon's
    Plug-in Gait leaves such frames out too). ``start_time`` is the time (s, in the loads'
    clock) of the motion's first frame.

    When the record knows its plate's corners (C3D), samples where the owning foot stands
    with its heel or toe off the plate (2 cm margin) are returned as shared too: part of its
    load then went to the floor, unmeasured.

    Returns the records (a plate stepped on by both feet becomes two) and the shared
    intervals ``(t_start, t_end)`` in seconds.
    """
    if all(rec.segment is not None for rec in records):
        return list(records), []
    heel_toe = _heel_toe(motion)
    feet = {f: p.mean(1) for f, p in heel_toe.items()}
    contact = feet_on_floor(motion)
    t_motion = start_time + motion.times
    out, shared = [], []
    for rec in records:
        if rec.segment is not None:
            out.append(rec)
            continue
        loaded = np.nan_to_num(rec.force[:, 1]) > min_force
        tm = np.clip(rec.times, t_motion[0], t_motion[-1])
        dist = []
        for foot in FEET:
            pos = np.stack([np.interp(tm, t_motion, feet[foot][:, k]) for k in range(3)], -1)
            dist.append(np.hypot(pos[:, 0] - rec.point[:, 0], pos[:, 2] - rec.point[:, 2]))
        nearest = np.where(np.nan_to_num(dist[0], nan=np.inf) <= np.nan_to_num(dist[1], nan=np.inf), 0, 1)
        owner = np.full(len(rec.times), -1)
        for a, b in _intervals(loaded):
            frac = np.mean(nearest[a:b] == 0)
            if max(frac, 1.0 - frac) >= share:
                owner[a:b] = 0 if frac >= 0.5 else 1
                continue
            # Both feet used this plate in turn: a sample belongs to the only foot on the
            # floor; where both are down the split is unknown (shared).
            down = np.stack([np.interp(tm[a:b], t_motion, contact[f].astype(float)) > 0.5 for f in FEET])
            one = down.sum(0) == 1
            owner[a:b] = np.where(one, np.argmax(down, axis=0), nearest[a:b])
            for c, d in _intervals(~one):
                shared.append((float(rec.times[a + c]), float(rec.times[a + d - 1])))
        if rec.region is not None:
            # A foot standing partly off the plate puts part of its load on the floor: unmeasured.
            for k, foot in enumerate(FEET):
                ht = np.stack(
                    [np.interp(tm, t_motion, heel_toe[foot][:, j, c]) for j in range(2) for c in range(3)], -1
                )
                off = ~_inside(ht.reshape(-1, 2, 3), rec.region, margin=0.02).all(-1)
                down = np.interp(tm, t_motion, contact[foot].astype(float)) > 0.5
                for c, d in _intervals((owner == k) & off & down):
                    shared.append((float(rec.times[c]), float(rec.times[d - 1])))
        for k, foot in enumerate(FEET):
            sel = owner == k
            if sel.any():
                keep = sel[:, None]
                out.append(
                    replace(
                        rec,
                        name=f"{rec.name}:{foot}",
                        segment=foot,
                        force=np.where(keep, rec.force, 0.0),
                        point=np.where(keep, rec.point, np.nan),
                        torque=np.where(keep, rec.torque, 0.0),
                    )
                )
    return out, shared


def compute_kinetics(
    motion: Motion,
    loads: Sequence | None = None,
    cutoff_hz: float | None = 6.0,
    load_cutoff_hz: float | str | None = "same",
    start_time: float | None = None,
    muscles: bool = True,
    age: str = "young",
    floor_velocity: str | None = "auto",
    window_s: float | None = WINDOW_S,
) -> Kinetics:
    """Joint moments, ground reactions and residuals of ``motion``.

    Parameters
    ----------
    motion
        Joint angles (e.g. from inverse kinematics).
    loads
        Measured :class:`~musclepose.io.loads.ForceRecord` s (force plates). Unassigned ones
        are given to the feet by :func:`assign_feet`. None: ground reactions are estimated
        from the kinematics (:mod:`musclepose.body.grf`).
    cutoff_hz
        Low-pass cut-off for the coordinates (None: use them as they are).
    load_cutoff_hz
        Cut-off for the loads; ``"same"`` = ``cutoff_hz`` (recommended, see the module notes).
    start_time
        Time (s) of the motion's first frame in the loads' clock; default
        ``motion.metadata["start_time"]`` or 0.
    muscles, age
        Also solve the minimal muscle activations (static optimisation) with the torque
        generators of that age group (``"young"``, ``"middle"``, ``"old"``; sex from the body).
    floor_velocity
        For estimated ground reactions: ``"auto"`` detects a treadmill belt from the stance
        feet (:func:`musclepose.body.contact.foot_contact`), None is a static floor.
    window_s
        A motion longer than 1.5 windows is processed in windows of this many seconds (each with
        :data:`MARGIN_S` of context on both sides, so that filtering and differentiation see the
        same neighbourhood as in one pass) and stitched, with moments, velocities, accelerations and
        muscle activations kept in float32: a 1-hour recording at 100 Hz then needs a few hundred MB
        instead of 5 GB. None: one pass.
    """
    t_start = float(motion.metadata.get("start_time", 0.0)) if start_time is None else float(start_time)
    if window_s and motion.n_frames > 1.5 * window_s * motion.fps:
        kw = dict(loads=loads, cutoff_hz=cutoff_hz, load_cutoff_hz=load_cutoff_hz, muscles=muscles, age=age,
                  floor_velocity=floor_velocity)  # fmt: skip
        return _in_windows(motion, t_start, window_s, kw)
    body = motion.body
    notes: list[str] = []
    if cutoff_hz is not None and cutoff_hz >= 0.4 * motion.fps:
        # A slow recording (e.g. 10 Hz) holds nothing above its Nyquist rate to remove at 6 Hz.
        notes.append(f"{motion.fps:g} Hz is too slow to low-pass at {cutoff_hz:g} Hz: the motion is not filtered")
        cutoff_hz = None
    mf = motion.filtered(cutoff_hz) if cutoff_hz is not None and motion.n_frames > 27 else motion
    qd, qdd = mf.velocities()
    q = mf.q
    ambiguous = np.zeros(mf.n_frames, dtype=bool)
    extra_forces: dict[str, np.ndarray] = {}
    t0 = float(motion.metadata.get("start_time", 0.0)) if start_time is None else float(start_time)
    times = t0 + mf.times
    if loads:
        lc = cutoff_hz if load_cutoff_hz == "same" else load_cutoff_hz
        records, shared = assign_feet(loads, mf, t0)
        for a, b in shared:
            notes.append(f"{a:.3f}-{b:.3f} s: a plate shared by both feet or a foot partly off its plate")
            ambiguous |= (times >= a) & (times <= b)
        lo = min(float(r.times[0]) for r in records)
        hi = max(float(r.times[-1]) for r in records)
        half = 0.5 / mf.fps
        if times[0] < lo - half or times[-1] > hi + half:
            notes.append(f"loads cover {lo:.3f}-{hi:.3f} s, the motion {times[0]:.3f}-{times[-1]:.3f} s; zero outside")
        external = wrenches_at(records, times, lc)
        source = "force plates"
        tau = inverse_dynamics(body, q, qd, qdd, external=external)
    else:
        # Estimated over the feet and the other supports the dynamics reveal (a seat, the hands, a
        # box under the feet: musclepose.body.supports); tau with the estimated wrenches applied.
        supports = detect_supports(body, q, qd, qdd, mf.fps)
        external, tau, support_forces, est = supported_grf(body, q, qd, qdd, supports, floor_velocity)
        extra_forces = {s.name: support_forces[s.name] for s in supports.extra}
        notes += supports.notes
        source = "estimated"
        belt = est.contact.floor_velocity.detach().reshape(-1, 3)[0].cpu().numpy()
        if np.any(belt != 0):
            notes.append(f"moving floor (treadmill belt) detected: {np.linalg.norm(belt):.2f} m/s")
    force, moment = root_residual(body, q, tau)
    floor = _floor_height(loads, external)
    grf, cop = {}, {}
    for foot in FEET:
        ws = [e for e in external if e.segment == foot]
        if not ws:
            grf[foot] = np.zeros((mf.n_frames, 3))
            cop[foot] = np.full((mf.n_frames, 3), np.nan)
            continue
        f = sum(w.force.detach().cpu().numpy() for w in ws)
        m0 = sum(np.cross(w.point.detach().cpu().numpy(), w.force.detach().cpu().numpy())
                 + (0.0 if w.torque is None else w.torque.detach().cpu().numpy()) for w in ws)  # fmt: skip
        grf[foot] = f
        cop[foot] = centre_of_pressure(f, m0, floor)
    activations = muscle_residual = None
    if muscles:
        so = static_optimization(mtg_parameters(body, age=age), q, qd, tau.detach())
        activations = so.activations.detach().cpu().numpy()
        muscle_residual = so.residual.detach().cpu().numpy()
    return Kinetics(
        mf,
        qd,
        qdd,
        tau,
        grf,
        cop,
        force.detach().cpu().numpy(),
        moment.detach().cpu().numpy(),
        source,
        notes,
        ambiguous,
        activations,
        muscle_residual,
        extra_forces,
    )


def _in_windows(motion: Motion, t_start: float, window_s: float, kw: dict) -> Kinetics:
    """:func:`compute_kinetics` window by window (with :data:`MARGIN_S` of context), stitched."""
    bound_heap()  # the windows' arrays in their own mappings, returned when freed
    n_t, fps = motion.n_frames, float(motion.fps)
    step, margin = int(round(window_s * fps)), int(round(MARGIN_S * fps))
    out: dict[str, Any] = {}
    notes: list[str] = []
    source = ""
    for a in range(0, n_t, step):
        b = min(a + step, n_t)
        lo, hi = max(0, a - margin), min(n_t, b + margin)
        k = compute_kinetics(motion[lo:hi], start_time=t_start + lo / fps, window_s=None, **kw)
        core = slice(a - lo, b - lo)
        if not out:
            out = _allocate(k, n_t)
        source = source or k.source
        notes += [n for n in k.notes if n not in notes]
        out["q"][a:b] = k.motion.q[core]
        for name in ("qd", "qdd", "tau"):
            out[name][a:b] = getattr(k, name)[core].to(out[name].dtype)
        for name in ("residual_force", "residual_moment", "ambiguous", "activations", "muscle_residual"):
            if out[name] is not None:
                out[name][a:b] = getattr(k, name)[core]
        for group in ("grf", "cop", "supports"):
            for key, v in getattr(k, group).items():
                dst = out[group].get(key)
                if dst is None:  # a support first found in this window: absent (zero force) before
                    dst = out[group][key] = np.full((n_t, 3), np.nan if group == "cop" else 0.0)
                dst[a:b] = v[core]
        del k
        release()  # the window's temporaries, back to the system before the next one
    history = [*motion.metadata.get("history", []), f"kinetic chain in {-(-n_t // step)} windows of {window_s:g} s"]
    mf = replace(motion, q=out["q"], metadata={**motion.metadata, "history": history})
    return Kinetics(mf, out["qd"], out["qdd"], out["tau"], out["grf"], out["cop"], out["residual_force"],
                    out["residual_moment"], source, notes, out["ambiguous"], out["activations"],
                    out["muscle_residual"], out["supports"])  # fmt: skip


def _allocate(k: Kinetics, n_t: int) -> dict[str, Any]:
    """Empty stitched arrays shaped like window ``k``'s for ``n_t`` frames: the bulky per-DoF ones in float32
    (angles to 1e-7 rad, moments to 1e-7 of their size), the per-muscle ones in float16 (activations in
    [0, 1] to 2.4e-4, residual moments to 5e-4 of their size; what is reported of them is a repetition's
    peak, to two decimals). For an hour at 100 Hz these are 470 MB instead of 1.1 GB in float64."""

    def like(x, dtype=None):
        if x is None:
            return None
        if torch.is_tensor(x):
            return torch.zeros((n_t, *x.shape[1:]), dtype=dtype or x.dtype)
        return np.zeros((n_t, *x.shape[1:]), dtype=dtype or x.dtype)

    return {
        "q": like(k.motion.q, torch.float32),
        "qd": like(k.qd, torch.float32),
        "qdd": like(k.qdd, torch.float32),
        "tau": like(k.tau, torch.float32),
        "residual_force": like(k.residual_force),
        "residual_moment": like(k.residual_moment),
        "ambiguous": like(k.ambiguous),
        "activations": like(k.activations, np.float16),
        "muscle_residual": like(k.muscle_residual, np.float16),
        "grf": {},
        "cop": {},
        "supports": {},
    }


def _floor_height(loads, external) -> float:
    pts = [r.point[:, 1] for r in (loads or []) if np.isfinite(r.point[:, 1]).any()]
    if pts:
        return float(np.nanmedian(np.concatenate(pts)))
    ys = [e.point[..., 1].detach().cpu().numpy().ravel() for e in external]
    return float(np.median(np.concatenate(ys))) if ys else 0.0
