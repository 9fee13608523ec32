"""One synthetic clip: a random labelled exercise motion with every modality, from ``(seed, index)``.

:func:`synthesize_clip` turns :class:`~.randomize.ClipParams` (a random exercise motion on a
random subject, :mod:`.randomize`, :mod:`.exercises`) into, at the motion's frame rate:

- physics ground truth: joint moments ``tau (T, 47)`` by inverse dynamics with ground
  reactions estimated from the planted contacts (the residual vanishes where the contacts
  can supply it), ``grf``/``cop (T, 2, 3)`` per foot, minimal muscle activations
  ``activations (T, 82)`` (static optimisation of the torque generators);
- sensors: a phone on the torso and a watch on the left wrist (accelerometer and gyroscope
  in the sensor frame, ``imu_acc``/``imu_gyro (T, 2, 3)``, m/s^2 and rad/s, with the
  phone/watch error models and a randomised placement), COCO-17 keypoints through a random
  pinhole camera with jitter, confidence and self-occlusion (``keypoints (T, 17, 3)``:
  pixel x, y, confidence);
- labels: the seven channels ``channels (T, 7)`` and wave features (the same code as for
  real recordings, :func:`musclepose.signals.waves.run_analysis`), repetitions and phases,
  the exercise, its faults with severity, side and the measured quantity that shows each,
  the quality grade, and the rule-based coach text (:mod:`musclepose.signals.coaching`).

A clip's parameters depend only on the run seed and its index (:func:`clip_params_for`), so
a dataset is the same whatever process makes which clip (:mod:`.dataset`). The coach text is
a training *target*: it is stored under the attribute ``language`` and must never be part of
a model's input.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..body import (
    GRAVITY,
    ExternalWrench,
    FKResult,
    forward_kinematics,
    mtg_parameters,
    segment_motion,
    static_optimization,
)
from ..body.contact_forces import distribute_contact_forces
from ..catalogue import SIDED_FAULTS
from ..io.clip import CLIP_CHANNELS
from ..motion import Motion
from ..motion.kinetics import centre_of_pressure
from ..signals.channels import motion_fk
from ..signals.coaching import CoachFacts, FaultFact, coach_text, peak_extensor_moments
from ..signals.waves import run_analysis
from .exercises import GENERATORS, observe
from .exercises.base import world_points
from .randomize import ClipParams, sample_body_params, sample_exercise_params, sample_faults
from .sensors import (
    PHONE,
    WATCH,
    PinholeCamera,
    corrupt_imu,
    imu_sites,
    perturb_sites,
    simulate_imu,
    simulate_keypoints,
)

__all__ = [
    "ARRAY_KEYS",
    "SPLITS",
    "STAGES",
    "ClipKinetics",
    "SyntheticClip",
    "clip_kinetics",
    "clip_params_for",
    "make_subjects",
    "synthesize_clip",
]

SPLITS = {"train": 0.8, "val": 0.1, "test": 0.1}
MAX_CONTACTS = 8  # "planted" is padded to this many columns; attrs["contact_names"] names the used ones
IMU_SITES = ("phone_torso", "watch_left")
ARRAY_KEYS = (
    "tau", "grf", "cop", "contact_force", "activations", "imu_acc", "imu_gyro", "keypoints", "channels", "planted",
)  # fmt: skip


@dataclass
class SyntheticClip:
    """One synthesised clip: the motion, per-frame arrays (:data:`ARRAY_KEYS`) and JSON-ready labels."""

    motion: Motion
    arrays: dict[str, np.ndarray]
    attrs: dict[str, Any]


def make_subjects(seed: int, n_subjects: int) -> list[dict[str, Any]]:
    """A pool of random subjects, each in one split (at least one subject in val and test when n >= 3)."""
    rng = np.random.default_rng([seed, 0])
    n_held = [max(1, round(SPLITS[s] * n_subjects)) if n_subjects >= 3 else 0 for s in ("val", "test")]
    labels = ["val"] * n_held[0] + ["test"] * n_held[1]
    labels = ["train"] * (n_subjects - len(labels)) + labels
    labels = [labels[i] for i in rng.permutation(n_subjects)]
    out = []
    for i in range(n_subjects):
        h, m, sex = sample_body_params(rng)
        out.append({"subject": f"s{seed}-{i:05d}", "height_m": h, "mass_kg": m, "sex": sex, "split": labels[i]})
    return out


def clip_params_for(
    seed: int,
    index: int,
    subjects: Sequence[dict[str, Any]],
    exercises: Sequence[str] | None = None,
    faults: Sequence[str] | None = None,
    fault_rate: float = 0.5,
    duration_s: float | None = 10.0,
    fatigue_rate: float = 0.0,
) -> tuple[ClipParams, dict[str, Any]]:
    """The parameters of clip ``index`` of a dataset (deterministic in ``seed`` and ``index``).

    ``faults``: restrict to these faults (each drawn clip gets one of them with probability
    ``fault_rate``); ``duration_s``: choose the repetition count so the clip lasts about this;
    ``fatigue_rate``: the share of clips whose concentric phase slows over the set (the last
    repetition's 15-50 % slower than the first), drawn from a stream of its own so that the other
    parameters do not change.
    """
    rng = np.random.default_rng([seed, 1, index])
    names = list(exercises) if exercises else sorted(GENERATORS)
    exercise = names[int(rng.integers(len(names)))]
    subject = subjects[int(rng.integers(len(subjects)))]
    params = sample_exercise_params(exercise, rng, subject["height_m"])
    if duration_s is not None:
        rep_s = sum(float(params.get(k, 0.0)) for k in ("eccentric_s", "concentric_s", "pause_s", "rest_s"))
        params["reps"] = int(np.clip(round(duration_s / max(rep_s, 0.5)), 1, 12))
    chosen = sample_faults(exercise, rng, fault_rate)
    if faults is not None:
        allowed = [f for f in faults if f in GENERATORS[exercise].faults]
        chosen = {}
        if allowed and rng.random() < fault_rate:
            name = allowed[int(rng.integers(len(allowed)))]
            chosen[name] = {"severity": float(rng.uniform(0.2, 1.0)), "side": "r" if rng.random() < 0.5 else "l"}
    if fatigue_rate > 0:
        tired = np.random.default_rng([seed, 16, index])
        if tired.random() < fatigue_rate:
            params["fatigue"] = float(tired.uniform(0.15, 0.5))
    cp = ClipParams(exercise, subject["height_m"], subject["mass_kg"], subject["sex"], params, chosen,
                    int(rng.integers(2**31 - 1)))  # fmt: skip
    return cp, subject


def _camera(rng: np.random.Generator, height_m: float):
    yaw = rng.uniform(-np.pi / 3, np.pi / 3)  # in front of the subject (+X), +-60 deg
    dist = rng.uniform(2.5, 4.0)
    pos = (dist * np.cos(yaw), rng.uniform(0.6, 1.4), dist * np.sin(yaw))
    return PinholeCamera.look_at(pos, (0.0, 0.5 * height_m, 0.0), fov_deg=float(rng.uniform(50, 70)))


def _fault_facts(cp: ClipParams, motion: Motion, fk: Any = None) -> tuple[list[Any], dict[str, Any]]:
    spec = GENERATORS[cp.exercise]
    observed = observe(motion, fk)
    facts, labels = [], {}
    for name, f in cp.faults.items():
        fs = spec.faults[name]
        value = float(fs.measure(observed))
        unit, what = fs.unit_and_what()
        side = f.get("side") if f.get("side") in ("r", "l") and name in SIDED_FAULTS else None
        facts.append(FaultFact(name, float(f["severity"]), value, unit, what, side))
        labels[name] = {"severity": float(f["severity"]), "side": f.get("side"), "measured": value, "shows": fs.shows}
    return facts, labels


STAGES = (
    "motion generation",
    "forward kinematics (once, shared)",
    "contact forces + inverse dynamics + static optimisation",
    "IMUs (2) + error model",
    "keypoints (COCO-17, camera, occlusion)",
    "channels + wave features",
    "faults, coach text, labels",
)


class _Clock:
    """Adds the CPU seconds since the last mark to ``timings[stage]`` (nothing if ``timings`` is None).

    CPU time of this process, not wall time: a clip runs on one thread, and other load on the
    machine then does not count as the clip's cost."""

    def __init__(self, timings: dict[str, float] | None):
        self.timings, self.t = timings, time.process_time()

    def mark(self, stage: str) -> None:
        if self.timings is not None:
            now = time.process_time()
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.t
            self.t = now


def synthesize_clip(
    cp: ClipParams,
    subject: dict[str, Any] | None = None,
    modalities: Sequence[str] = ("all",),
    timings: dict[str, float] | None = None,
    keypoints_fps: float | None = None,
) -> SyntheticClip:
    """One :class:`SyntheticClip` from its parameters (see the module docstring for its content).

    ``modalities``: ``"all"``, or any of ``"imu"``, ``"keypoints"`` (motion, kinetics and
    labels are always made). ``keypoints_fps``: the camera's frame rate (e.g. 30 Hz): the
    keypoints are taken at the motion frames nearest to its frame times, listed in the
    array ``keypoint_frames``; None: every motion frame. ``timings``: a dict to which the
    CPU seconds of each stage (:data:`STAGES`) are added.
    """
    every = "all" in modalities
    clock = _Clock(timings)
    rng = np.random.default_rng(cp.seed)
    motion = cp.generate()
    body, q = motion.body, motion.q
    clock.mark(STAGES[0])
    fk = motion_fk(motion)  # once, for the contacts, the IMUs, the keypoints, the channels and the fault measures
    clock.mark(STAGES[1])
    kin = clip_kinetics(motion, fk)
    arrays: dict[str, np.ndarray] = {
        "tau": kin.tau.numpy().astype(np.float32),
        "grf": np.stack([kin.grf["foot_r"], kin.grf["foot_l"]], 1).astype(np.float32),
        "cop": np.nan_to_num(np.stack([kin.cop["foot_r"], kin.cop["foot_l"]], 1)).astype(np.float32),
        "contact_force": _padded(kin.contact_force, MAX_CONTACTS).astype(np.float32),
        "activations": kin.activations.astype(np.float32),
        "planted": _padded(np.asarray(motion.metadata["contact"]["planted"], dtype=np.uint8), MAX_CONTACTS),
    }
    clock.mark(STAGES[2])
    gen = torch.Generator().manual_seed(int(rng.integers(2**31 - 1)))
    if every or "imu" in modalities:
        sites = perturb_sites(imu_sites(body, IMU_SITES), gen)
        clean = simulate_imu(body, q, kin.qd, kin.qdd, sites, fps=motion.fps, fk=fk, segment_state=kin.segment_state)
        noisy = corrupt_imu(clean, {"phone_torso": PHONE, "watch_left": WATCH}, generator=gen)
        arrays["imu_acc"] = noisy.acc.numpy().astype(np.float32)
        arrays["imu_gyro"] = noisy.gyro.numpy().astype(np.float32)
    clock.mark(STAGES[3])
    if every or "keypoints" in modalities:
        camera = _camera(rng, body.height_m)
        if keypoints_fps is None or keypoints_fps == motion.fps:
            kp = simulate_keypoints(body, q, camera=camera, fps=motion.fps, generator=gen, fk=fk)
        else:  # a camera's own rate: its frames are a subset of the motion's
            t = np.arange(0.0, motion.n_frames / motion.fps, 1.0 / keypoints_fps)
            frames = np.unique(np.minimum(np.round(t * motion.fps).astype(np.int64), motion.n_frames - 1))
            sub = torch.as_tensor(frames)
            fk_sub = FKResult(fk.rotations[sub], fk.origins[sub], fk.landmarks[sub])
            kp = simulate_keypoints(body, q[sub], camera=camera, fps=keypoints_fps, generator=gen, fk=fk_sub)
            arrays["keypoint_frames"] = frames.astype(np.int32)
        arrays["keypoints"] = torch.cat([kp.pixels, kp.confidence[..., None]], -1).numpy().astype(np.float32)
    clock.mark(STAGES[4])
    run = run_analysis(motion, exercise=cp.exercise, fk=fk)
    arrays["channels"] = np.stack([run.channels[c] for c in CLIP_CHANNELS], 1).astype(np.float32)
    clock.mark(STAGES[5])
    facts, fault_labels = _fault_facts(cp, motion, fk)
    reps = motion.metadata.get("reps", [])
    phases = [r.get("phases", {}) for r in reps]
    ecc = [p["eccentric_s"] for p in phases if isinstance(p, dict) and "eccentric_s" in p]
    con = [p["concentric_s"] for p in phases if isinstance(p, dict) and "concentric_s" in p]
    depth = float(np.degrees(q.numpy()[:, [body.dof_index("knee_flexion_r"), body.dof_index("knee_flexion_l")]].max()))
    peaks = peak_extensor_moments(kin.tau.numpy(), body.dof_names, body.mass_kg, cp.exercise)
    grade = run.features.grade
    facts_obj = CoachFacts(
        exercise=cp.exercise,
        n_reps=int(motion.metadata.get("n_reps", len(reps))),
        grade=grade,
        depth_deg=depth,
        eccentric_s=float(np.mean(ecc)) if ecc else None,
        concentric_s=float(np.mean(con)) if con else None,
        faults=tuple(facts),
        peak_moments=peaks,
    )
    attrs = {
        "exercise": cp.exercise,
        "faults": fault_labels,
        "grade": grade,
        "n_reps": facts_obj.n_reps,
        "reps": _jsonable(reps),
        "wave_features": run.features.to_dict(),
        "language": coach_text(facts_obj, rng),
        "params": cp.to_dict(),
        "subject": (subject or {}).get("subject", ""),
        "split": (subject or {}).get("split", "train"),
        "residual_max_n": float(np.abs(kin.residual_force[kin.supported]).max(initial=0.0)),
        "residual_max_nm": float(np.abs(kin.residual_moment[kin.supported]).max(initial=0.0)),
        "contact_names": list(motion.metadata["contact"]["names"]),
        "units": {
            "tau": "N m",
            "grf": "N",
            "cop": "m",
            "imu_acc": "m/s^2",
            "imu_gyro": "rad/s",
            "keypoints": "px, px, confidence",
            "channels": "see musclepose.signals.channels",
        },  # fmt: skip
    }
    clock.mark(STAGES[6])
    return SyntheticClip(motion, arrays, attrs)


def _padded(a: np.ndarray, width: int) -> np.ndarray:
    if a.shape[1] > width:
        raise ValueError(f"{a.shape[1]} contacts; at most {width} are stored")
    return np.pad(a, ((0, 0), (0, width - a.shape[1])) + ((0, 0),) * (a.ndim - 2))


def _load_wrenches(motion: Motion, fk: Any = None) -> list:
    """The external load (bar, dumbbells) as wrenches on the segments holding it: its weight and
    inertia, ``m (g - a)`` split equally over its points (accelerations by central differences)."""
    load = motion.metadata.get("load") or {}
    mass, segs, pts = float(load.get("mass_kg") or 0.0), load.get("segments") or [], load.get("points_local") or []
    if mass <= 0.0 or not segs:
        return []
    with torch.no_grad():
        p = world_points(motion.body, fk if fk is not None else forward_kinematics(motion.body, motion.q), segs, pts)
    a = np.gradient(np.gradient(p.numpy(), axis=0), axis=0) * motion.fps**2
    force = mass / len(segs) * (np.asarray(GRAVITY) - a)
    return [ExternalWrench(s, torch.as_tensor(force[:, k]), p[:, k]) for k, s in enumerate(segs)]


@dataclass
class ClipKinetics:
    """Ground-truth kinetics of a synthetic clip (see :func:`clip_kinetics`)."""

    tau: torch.Tensor
    qd: torch.Tensor
    qdd: torch.Tensor
    grf: dict[str, np.ndarray]
    cop: dict[str, np.ndarray]
    contact_force: np.ndarray
    activations: np.ndarray
    residual_force: np.ndarray
    residual_moment: np.ndarray
    supported: np.ndarray
    mass_kg: float
    segment_state: tuple[torch.Tensor, ...] | None = None  # w, alpha, a - g per segment (body.segment_motion)


def clip_kinetics(motion: Motion, fk: Any = None) -> ClipKinetics:
    """Joint moments of a generated clip with its known contacts and load.

    The load's weight and inertia act on the hands or back; the planted contact points
    (feet, hands, seat) share what the body then needs by
    :func:`musclepose.body.contact_forces.distribute_contact_forces`, so the root residual vanishes
    wherever the contacts can supply it (reported: ``residual_*`` over the ``supported``
    frames, those with a planted contact). Then inverse dynamics and static optimisation.
    """
    body, q = motion.body, motion.q
    qd, qdd = motion.velocities()
    c = motion.metadata["contact"]
    planted = torch.as_tensor(np.asarray(c["planted"]))
    ext = _load_wrenches(motion, fk)
    *state, free = segment_motion(body, q, qd, qdd, with_tau=True)  # one kernel: moments and IMU kinematics
    wrenches, forces, residual, tau = distribute_contact_forces(
        body, q, qd, qdd, list(c["segments"]), torch.tensor(c["points_local"]), planted, ext, fk=fk, return_tau=True,
        without_external=free,
    )  # fmt: skip
    so = static_optimization(mtg_parameters(body), q, qd, tau)
    grf, cop = {}, {}
    for foot in ("foot_r", "foot_l"):
        ws = [w for w in wrenches if w.segment == foot]
        f = sum((w.force for w in ws), torch.zeros_like(q[:, :3])).numpy()
        m0 = sum((torch.linalg.cross(w.point, w.force) + w.torque for w in ws), torch.zeros_like(q[:, :3])).numpy()
        grf[foot], cop[foot] = f, centre_of_pressure(f, m0, 0.0)
    res = residual.numpy()
    return ClipKinetics(tau.detach(), qd, qdd, grf, cop, forces.numpy(), so.activations.numpy(), res[:, :3],
                        res[:, 3:], planted.numpy().any(1), body.mass_kg, tuple(state))  # fmt: skip


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray | torch.Tensor):
        return np.asarray(x).tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x
