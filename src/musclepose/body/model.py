"""The static body model: skeleton geometry, inertial parameters and landmarks.

``Body`` is immutable (like Pinocchio's ``Model`` or MuJoCo's ``mjModel``); algorithms are
free functions that take it first (:func:`~musclepose.body.kinematics.forward_kinematics`,
:func:`~musclepose.body.dynamics.inverse_dynamics`). Its arrays are float64 numpy; the
algorithms fetch torch copies in the dtype/device they run in with :meth:`Body.tensors`,
which are cached. Conventions: see :mod:`.skeleton` (frames, q layout) and
:mod:`.anthropometry` (sources of every number).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np
import torch

from . import anthropometry as anth
from .landmarks import LANDMARK_SETS, landmark_table
from .mjcf import body_to_mjcf
from .skeleton import DOF_NAMES, DOFS, JOINTS, N_SEGMENTS, PARENTS, SEGMENTS

__all__ = ["Body", "BodyTensors"]

SEXES = ("male", "female")
REQUIRED_LENGTHS = tuple(k for k in anth.STATURE_FRACTIONS)


@dataclass(frozen=True)
class BodyTensors:
    """Torch views of a body's arrays in one dtype and device (see :meth:`Body.tensors`)."""

    offsets: torch.Tensor  # (18, 3) segment origin in the parent frame
    masses: torch.Tensor  # (18,)
    coms: torch.Tensor  # (18, 3) centre of mass in the segment frame
    inertias: torch.Tensor  # (18, 3, 3) about the CoM, segment frame
    axes: torch.Tensor  # (18, 3, 3) joint DoF slot axes (zero rows for unused slots)
    ancestors: torch.Tensor  # (18, 18) A[i, j] = 1 if j is i or an ancestor of i
    landmark_points: torch.Tensor  # (L, 3) in their segment frames
    landmark_segments: torch.Tensor  # (L,) long
    dof_lower: torch.Tensor  # (47,)
    dof_upper: torch.Tensor  # (47,)
    euler_signs: torch.Tensor  # (18, 3) sign of each joint's Z, X, Y axis
    slot_euler: torch.Tensor  # (18, 3) long: Euler axis of each joint slot, -1 if unused


@dataclass(frozen=True, eq=False)
class Body:
    """A human body on the standard 18-segment, 47-DoF skeleton.

    Build one with :meth:`standard` (stature- and Dumas-scaled) or
    :meth:`from_segment_lengths` (subject-specific lengths, e.g. from a static trial).

    Attributes
    ----------
    height_m, mass_kg, sex
        Stature, body mass and the sex of the BSIP table used.
    lengths
        Segment lengths (m) keyed as ``anthropometry.STATURE_FRACTIONS``.
    offsets
        ``(18, 3)`` position of each segment's origin in its parent's frame (m).
    masses, coms, inertias
        ``(18,)`` kg, ``(18, 3)`` m in the segment frame, ``(18, 3, 3)`` kg m^2 about the CoM.
    """

    height_m: float
    mass_kg: float
    sex: str
    lengths: MappingProxyType
    offsets: np.ndarray
    masses: np.ndarray
    coms: np.ndarray
    inertias: np.ndarray
    landmarks: MappingProxyType  # name -> (segment index, (3,) local position)
    corrected_inertias: tuple[str, ...] = ()  # segments whose published tensor was made physical
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    segment_names: tuple[str, ...] = SEGMENTS
    parents: tuple[int, ...] = PARENTS
    dof_names: tuple[str, ...] = DOF_NAMES

    # ----------------------------------------------------------------- constructors
    @classmethod
    def standard(cls, height_m: float = 1.75, mass_kg: float = 70.0, sex: str = "male") -> Body:
        """A body with segment lengths scaled from stature and Dumas (2007) inertia."""
        _check_positive(height_m=height_m, mass_kg=mass_kg)
        if not 0.5 <= height_m <= 2.6:
            raise ValueError(f"height_m={height_m} is not a human stature in metres (0.5-2.6)")
        return cls.from_segment_lengths(anth.standard_lengths(height_m), mass_kg, sex, height_m)

    @classmethod
    def from_segment_lengths(
        cls,
        lengths: dict[str, float],
        mass_kg: float,
        sex: str = "male",
        height_m: float | None = None,
    ) -> Body:
        """A body from explicit segment lengths (m), keys as ``STATURE_FRACTIONS``.

        Missing keys are filled from the stature fractions of ``height_m`` (or of the
        stature implied by the given thigh and shank lengths).
        """
        if sex not in SEXES:
            raise ValueError(f"sex must be one of {SEXES}; got {sex!r}")
        unknown = set(lengths) - set(REQUIRED_LENGTHS)
        if unknown:
            raise ValueError(f"unknown segment length(s) {sorted(unknown)}; known: {REQUIRED_LENGTHS}")
        _check_positive(mass_kg=mass_kg, **lengths)
        if height_m is None:
            legs = [lengths[k] / anth.STATURE_FRACTIONS[k] for k in ("thigh", "shank") if k in lengths]
            height_m = float(np.mean(legs)) if legs else 1.75
        L = anth.standard_lengths(height_m)
        L.update({k: float(v) for k, v in lengths.items()})
        return cls._build(L, float(mass_kg), sex, float(height_m))

    @classmethod
    def _build(cls, L: dict[str, float], mass: float, sex: str, height: float) -> Body:
        seg = {n: i for i, n in enumerate(SEGMENTS)}
        lumbar_len = anth.LUMBAR_LENGTH_FRACTION * L["torso"]
        thorax_len = L["torso"] - lumbar_len
        offsets = np.zeros((N_SEGMENTS, 3))
        offsets[seg["lumbar"]] = (0.0, L["pelvis"], 0.0)
        offsets[seg["thorax"]] = (0.0, lumbar_len, 0.0)
        offsets[seg["head"]] = (0.0, thorax_len, 0.0)
        scj_lateral = 0.06 * L["shoulder_width"]
        scj = np.array([L["clavicle_forward"], thorax_len - L["clavicle_drop"], scj_lateral])
        sjc = np.array(
            [
                -L["clavicle_forward"],
                -(L["shoulder_drop"] - L["clavicle_drop"]),
                0.5 * L["shoulder_width"] - scj_lateral,
            ]
        )
        ankle_mh = np.array([L["foot"], -0.75 * L["ankle_height"], 0.0])
        for side, m in (("r", 1.0), ("l", -1.0)):
            mirror = np.array([1.0, 1.0, m])
            offsets[seg[f"scapula_{side}"]] = scj * mirror
            offsets[seg[f"upperarm_{side}"]] = sjc * mirror
            offsets[seg[f"forearm_{side}"]] = (0.0, -L["upperarm"], 0.0)
            offsets[seg[f"hand_{side}"]] = (0.0, -L["forearm"], 0.0)
            offsets[seg[f"thigh_{side}"]] = (0.0, 0.0, 0.5 * m * L["hip_width"])
            offsets[seg[f"shank_{side}"]] = (0.0, -L["thigh"], 0.0)
            offsets[seg[f"foot_{side}"]] = (0.0, -L["shank"], 0.0)

        table = anth.DUMAS_2007[sex]
        masses = np.zeros(N_SEGMENTS)
        coms = np.zeros((N_SEGMENTS, 3))
        inertias = np.zeros((N_SEGMENTS, 3, 3))
        corrected: list[str] = []

        def put(i: int, row: anth.DumasSegment, length: float, origin_shift=(0.0, 0.0, 0.0), left=False, mass_pct=None):
            m = (row.mass_pct if mass_pct is None else mass_pct) / 100.0 * mass
            c = np.asarray(row.com_pct) / 100.0 * length + np.asarray(origin_shift)
            inertia, changed = anth.make_physical(anth.inertia_from_radii(m, length, row.radii_pct))
            if changed:
                corrected.append(SEGMENTS[i])
            if left:
                c, inertia = anth.mirror_left(c, inertia)
            masses[i], coms[i], inertias[i] = m, c, inertia

        put(seg["head"], table["head"], L["head"])
        # Pelvis: Dumas' origin is the lumbar joint centre, ours the hip midpoint below it.
        put(seg["pelvis"], table["pelvis"], L["pelvis"], origin_shift=(0.0, L["pelvis"], 0.0))
        # Torso split into lumbar and thorax parts (see anthropometry.DE_LEVA_TRUNK).
        mid, upper = anth.DE_LEVA_TRUNK[sex]
        torso = table["torso"]
        f_lumbar = mid / (mid + upper)
        scap_pct = 100.0 * anth.SCAPULA_MASS_FRACTION
        put(seg["lumbar"], torso, lumbar_len, (0.0, lumbar_len, 0.0), mass_pct=torso.mass_pct * f_lumbar)
        put(
            seg["thorax"], torso, thorax_len, (0.0, thorax_len, 0.0),
            mass_pct=torso.mass_pct * (1 - f_lumbar) - 2 * scap_pct,
        )  # fmt: skip
        for side in ("r", "l"):
            left = side == "l"
            put(seg[f"upperarm_{side}"], table["arm"], L["upperarm"], left=left)
            put(seg[f"forearm_{side}"], table["forearm"], L["forearm"], left=left)
            put(seg[f"hand_{side}"], table["hand"], L["hand"], left=left)
            put(seg[f"thigh_{side}"], table["thigh"], L["thigh"], left=left)
            put(seg[f"shank_{side}"], table["leg"], L["shank"], left=left)
            foot_len = float(np.linalg.norm(ankle_mh))
            put(seg[f"foot_{side}"], table["foot"], foot_len, left=left)
            # Scapula/clavicle: a slender rod from the sternoclavicular to the shoulder joint.
            i = seg[f"scapula_{side}"]
            d = offsets[seg[f"upperarm_{side}"]]
            length = float(np.linalg.norm(d))
            u = d / length
            ms = anth.SCAPULA_MASS_FRACTION * mass
            masses[i] = ms
            coms[i] = 0.5 * d
            radius = 0.2 * length
            inertias[i] = ms * length**2 / 12.0 * (np.eye(3) - np.outer(u, u)) + 0.5 * ms * radius**2 * np.eye(3)

        # Dumas' percentages do not sum to exactly 100 (male: 100.2): renormalise.
        scale = mass / masses.sum()
        masses *= scale
        inertias *= scale

        offs = {SEGMENTS[i]: tuple(offsets[i]) for i in range(N_SEGMENTS)}
        Lx = dict(L, _lumbar_fraction=anth.LUMBAR_LENGTH_FRACTION, _height=height)
        lms = {name: (seg[s], np.asarray(p, dtype=np.float64)) for name, (s, p) in landmark_table(Lx, offs).items()}
        for a in (offsets, masses, coms, inertias):
            a.setflags(write=False)
        return cls(
            height_m=height,
            mass_kg=mass,
            sex=sex,
            lengths=MappingProxyType(dict(L)),
            offsets=offsets,
            masses=masses,
            coms=coms,
            inertias=inertias,
            landmarks=MappingProxyType(lms),
            corrected_inertias=tuple(corrected),
        )

    # ----------------------------------------------------------------- derived data
    @property
    def n_dof(self) -> int:
        return len(self.dof_names)

    @property
    def n_segments(self) -> int:
        return len(self.segment_names)

    @cached_property
    def dof_lower(self) -> np.ndarray:
        """Lower range-of-motion limit per DoF (rad; m for the root translation)."""
        return np.array([d.lower for d in DOFS])

    @cached_property
    def dof_upper(self) -> np.ndarray:
        return np.array([d.upper for d in DOFS])

    @property
    def dof_sources(self) -> tuple[str, ...]:
        """Where each DoF's range of motion comes from."""
        return tuple(d.source for d in DOFS)

    @property
    def joints(self):
        return JOINTS

    @cached_property
    def landmark_names(self) -> tuple[str, ...]:
        return tuple(self.landmarks)

    def landmark_indices(self, names: str | tuple[str, ...] | list[str]) -> list[int]:
        """Indices into ``forward_kinematics(...).landmarks`` for a set name or names."""
        if isinstance(names, str):
            if names not in LANDMARK_SETS:
                raise KeyError(f"unknown landmark set {names!r}; known: {sorted(LANDMARK_SETS)}")
            names = LANDMARK_SETS[names]
        index = {n: i for i, n in enumerate(self.landmark_names)}
        missing = [n for n in names if n not in index]
        if missing:
            raise KeyError(f"unknown landmark(s) {missing}")
        return [index[n] for n in names]

    def segment_index(self, name: str) -> int:
        try:
            return self.segment_names.index(name)
        except ValueError:
            raise KeyError(f"unknown segment {name!r}; known: {self.segment_names}") from None

    def dof_index(self, name: str) -> int:
        try:
            return self.dof_names.index(name)
        except ValueError:
            raise KeyError(f"unknown DoF {name!r}") from None

    def segment_lengths(self) -> dict[str, float]:
        """Characteristic length of each segment (m): proximal joint to distal joint/end."""
        L = self.lengths
        lumbar = anth.LUMBAR_LENGTH_FRACTION * L["torso"]
        out = {
            "pelvis": L["pelvis"], "lumbar": lumbar, "thorax": L["torso"] - lumbar,
            "head": L["head"],
        }  # fmt: skip
        for s in ("r", "l"):
            out[f"scapula_{s}"] = float(np.linalg.norm(self.offsets[self.segment_index(f"upperarm_{s}")]))
            out.update({f"upperarm_{s}": L["upperarm"], f"forearm_{s}": L["forearm"], f"hand_{s}": L["hand"]})
            out.update({f"thigh_{s}": L["thigh"], f"shank_{s}": L["shank"], f"foot_{s}": L["foot"]})
        return {n: float(out[n]) for n in self.segment_names}

    def segment_table(self) -> list[dict[str, Any]]:
        """One row per segment: name, parent, mass (kg), length (m), CoM (m, segment frame)."""
        lengths = self.segment_lengths()
        return [
            {
                "segment": n,
                "parent": self.segment_names[p] if p >= 0 else None,
                "mass_kg": float(self.masses[i]),
                "length_m": lengths[n],
                "com_m": tuple(float(c) for c in self.coms[i]),
                "inertia_kgm2": self.inertias[i].tolist(),
            }
            for i, (n, p) in enumerate(zip(self.segment_names, self.parents, strict=True))
        ]

    def neutral_q(self, dtype=torch.float64) -> torch.Tensor:
        """Standing pose: the neutral skeleton with the feet on the floor (y = 0)."""
        q = torch.zeros(self.n_dof, dtype=dtype)
        q[1] = self.lengths["thigh"] + self.lengths["shank"] + self.lengths["ankle_height"]
        return q

    # ----------------------------------------------------------------- torch views
    def tensors(self, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu") -> BodyTensors:
        """The body's arrays as torch tensors in ``dtype`` on ``device`` (cached)."""
        key = (dtype, str(torch.device(device)))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        axes = np.zeros((N_SEGMENTS, 3, 3))
        for joint in JOINTS:
            hinges = [d for d in joint.dofs if d.kind == "hinge"]
            for k, d in enumerate(hinges):
                axes[joint.segment, k] = d.axis
        anc = np.zeros((N_SEGMENTS, N_SEGMENTS))
        for i in range(N_SEGMENTS):
            j = i
            while j >= 0:
                anc[i, j] = 1.0
                j = PARENTS[j]
        names = self.landmark_names
        lm_pts = np.stack([self.landmarks[n][1] for n in names])
        lm_seg = np.array([self.landmarks[n][0] for n in names])

        def t(a, dt=dtype):
            return torch.tensor(np.array(a), dtype=dt, device=device)

        out = BodyTensors(
            offsets=t(self.offsets),
            masses=t(self.masses),
            coms=t(self.coms),
            inertias=t(self.inertias),
            axes=t(axes),
            ancestors=t(anc),
            landmark_points=t(lm_pts),
            landmark_segments=t(lm_seg, torch.long),
            dof_lower=t(self.dof_lower),
            dof_upper=t(self.dof_upper),
            euler_signs=t(JOINT_EULER_SIGNS),
            slot_euler=t(JOINT_SLOT_EULER, torch.long),
        )
        self._cache[key] = out
        return out

    def to_mjcf(self, name: str = "musclepose_body", **options: Any) -> str:
        """MuJoCo MJCF XML of this body; ``qpos`` maps 1:1 onto ``q``; ``options`` add actuators (see :mod:`.mjcf`)."""
        return body_to_mjcf(self, name, **options)

    def __repr__(self) -> str:
        return f"Body(height_m={self.height_m:.3f}, mass_kg={self.mass_kg:.1f}, sex={self.sex!r})"


def _check_positive(**values: float) -> None:
    for k, v in values.items():
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"{k} must be a positive finite number; got {v!r}")


# Joint slot -> DoF index table, shared by kinematics and dynamics: for each segment, the
# indices into q of its joint's (up to 3) rotational DoF; -1 where the slot is unused.
def _joint_dof_slots() -> np.ndarray:
    slots = -np.ones((N_SEGMENTS, 3), dtype=np.int64)
    k = 0
    for joint in JOINTS:
        h = 0
        for d in joint.dofs:
            if d.kind == "hinge":
                slots[joint.segment, h] = k
                h += 1
            k += 1
    return slots


JOINT_DOF_SLOTS = _joint_dof_slots()


def _joint_euler() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per segment: DoF index of its Z, X, Y Euler angle (-1 if absent), the axis signs, and
    for each joint slot which Euler axis it is (-1 if unused)."""
    dofs = -np.ones((N_SEGMENTS, 3), dtype=np.int64)
    signs = np.ones((N_SEGMENTS, 3))
    slot_euler = -np.ones((N_SEGMENTS, 3), dtype=np.int64)
    k = 0
    for joint in JOINTS:
        h = 0
        for d in joint.dofs:
            if d.kind == "hinge":
                e = int(np.argmax(np.abs(d.axis)))  # 0 = x, 1 = y, 2 = z
                slot = {2: 0, 0: 1, 1: 2}[e]  # Euler order Z, X, Y
                dofs[joint.segment, slot] = k
                signs[joint.segment, slot] = float(np.sign(d.axis[e]))
                slot_euler[joint.segment, h] = slot
                h += 1
            k += 1
    return dofs, signs, slot_euler


JOINT_EULER_DOFS, JOINT_EULER_SIGNS, JOINT_SLOT_EULER = _joint_euler()
