"""Parameter tables of the muscle torque generators and :func:`mtg_parameters`.

Every number here carries its source. Conventions (angles, signs, the 82-generator layout)
are documented in :mod:`.muscles`, which owns the curves that use these parameters.

Sources
-------
- **Anderson 2007**: Anderson DE, Madigan ML, Nussbaum MA (2007) Maximum voluntary joint
  torque as a function of joint angle and angular velocity: model development and
  application to the lower limb. *J Biomech* 40:3105-3113, Table 3 (means; 34 subjects:
  young 18-25, middle-aged 55-65, old > 65 years; male and female). Numbers as transcribed
  in RBDL's muscle addon (``Anderson2007Table3Mean``, Millard et al.), which also documents
  the meaning of the constants: ``C1`` peak isometric torque / (body weight x height),
  ``C2 = pi / (theta_max - theta_min)``, ``C3`` angle of peak torque (rad), ``C4``/``C5``
  the angular velocities (rad/s) at which torque falls to 75 % / 50 % of isometric, ``C6``
  the eccentric slope term, ``B1, k1, B2, k2`` the passive torque ``B1 e^(k1 theta) +
  B2 e^(k2 theta)`` in N m.
- **Thelen 2003**: Thelen DG (2003) Adjustment of muscle mechanics model parameters to
  simulate dynamic contractions in older adults. *J Biomech Eng* 125:70-77: Hill
  force-velocity with ``Af = 0.25`` and maximum lengthening force ``Flen = 1.4`` (young),
  ``1.8`` (old).
- **Millard 2019**: Millard M, Kleesattel AL, Harant M, Mombaur K (2019) A reduced muscle
  model and planar musculoskeletal model fit for the synthesis of whole-body movements.
  *J Biomech* 89:11-20 (RBDL ``Millard2016TorqueMuscle``): normalised damping
  ``beta = 0.1``; the "Gymnast" set's maximum angular velocities (shoulder, elbow, forearm
  and wrist from Jackson 2010 / Kentel et al. 2011; lumbar from erector spinae and rectus
  abdominis architecture, 433 and 1102 deg/s).
- **Miller 1993**: Miller AEJ, MacDougall JD, Tarnopolsky MA, Sale DG (1993) Gender
  differences in strength and muscle fiber characteristics. *Eur J Appl Physiol* 66:254-262:
  women reached 52 % (upper body) and 66 % (lower body) of men's strength.
- **Beimborn 1988**: Beimborn DS, Morrissey MC (1988) A review of the literature related to
  trunk muscle performance. *Spine* 13:655-660: trunk extensor:flexor strength ~1.3:1.
- **GENERIC**: no table was at hand for peak isometric torque of the DoFs outside
  Anderson's hip/knee/ankle; those values (N m per kg body mass, young male) are generic
  defaults of the order of normative dynamometry (e.g. Holzbaur et al. 2007 *J Biomech*
  40:2442 report 67.9 N m shoulder adduction and 10.2 N m wrist extension as means of 5
  men and 5 women), not numbers read from a table. Treat them as placeholders to be
  replaced by subject data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .model import Body
from .skeleton import DOFS

__all__ = ["AGES", "PASSIVE_MODELS", "MTGParameters", "MTGTensors", "mtg_parameters"]

AGES = ("young", "middle", "old")
PASSIVE_MODELS = ("rom", "anderson")
GRAVITY_NORM = 9.81  # m/s^2: Anderson 2007 normalised torque by body weight (m g) x height
N_ROT = 41

# --------------------------------------------------------------------------- Anderson 2007
# Table 3 means, (C1, C2, C3, C4, C5, C6) per (joint, exertion) and sex, rows young / middle / old.
# Angles (C3) in rad: hip flexion +, knee flexion + (0 = straight), ankle dorsiflexion +
# (0 = foot perpendicular to the shank). C4, C5 in rad/s (concentric positive).
_ANDERSON_ACTIVE: dict[tuple[str, str], dict[str, tuple[tuple[float, ...], ...]]] = {
    ("hip", "extension"): {
        "male": (
            (0.161, 0.958, 0.932, 1.578, 3.190, 0.242),
            (0.171, 0.922, 1.176, 1.601, 3.236, 0.320),
            (0.144, 0.896, 1.125, 1.561, 3.152, 0.477),
        ),
        "female": (
            (0.181, 0.697, 1.242, 1.567, 3.164, 0.164),
            (0.140, 0.830, 1.241, 1.444, 2.919, 0.317),
            (0.138, 0.707, 1.542, 1.613, 3.256, 0.360),
        ),
    },
    ("hip", "flexion"): {
        "male": (
            (0.113, 0.738, -0.214, 2.095, 4.267, 0.218),
            (0.107, 0.712, -0.192, 2.038, 4.145, 0.206),
            (0.101, 0.762, -0.269, 1.875, 3.819, 0.296),
        ),
        "female": (
            (0.127, 0.650, -0.350, 2.136, 4.349, 0.156),
            (0.091, 0.812, -0.196, 2.145, 4.366, 0.186),
            (0.081, 0.625, -0.422, 2.084, 4.245, 0.196),
        ),
    },
    ("knee", "extension"): {
        "male": (
            (0.163, 1.258, 1.133, 1.517, 3.952, 0.095),
            (0.156, 1.225, 1.173, 1.518, 3.954, 0.266),
            (0.137, 1.310, 1.067, 1.141, 3.152, 0.386),
        ),
        "female": (
            (0.159, 1.187, 1.274, 1.393, 3.623, 0.173),
            (0.128, 1.286, 1.141, 1.332, 3.469, 0.233),
            (0.124, 1.347, 1.140, 1.066, 2.855, 0.464),
        ),
    },
    ("knee", "flexion"): {
        "male": (
            (0.087, 0.869, 0.522, 2.008, 5.233, 0.304),
            (0.081, 0.986, 0.523, 1.830, 4.777, 0.230),
            (0.069, 0.838, 0.437, 1.718, 4.476, 0.414),
        ),
        "female": (
            (0.080, 0.873, 0.635, 1.698, 4.412, 0.175),
            (0.060, 0.967, 0.402, 1.693, 4.410, 0.349),
            (0.060, 0.897, 0.445, 1.121, 2.922, 0.389),
        ),
    },
    ("ankle", "extension"): {  # plantarflexion
        "male": (
            (0.095, 1.391, 0.408, 0.987, 3.558, 0.295),
            (0.114, 1.444, 0.551, 0.593, 2.128, 0.350),
            (0.106, 1.465, 0.498, 0.490, 1.767, 0.571),
        ),
        "female": (
            (0.104, 1.399, 0.424, 0.862, 3.109, 0.189),
            (0.093, 1.504, 0.381, 0.860, 3.126, 0.349),
            (0.125, 1.299, 0.580, 0.587, 1.819, 0.348),
        ),
    },
    ("ankle", "flexion"): {  # dorsiflexion
        "male": (
            (0.033, 1.510, -0.187, 0.699, 1.940, 0.828),
            (0.028, 1.293, -0.284, 0.634, 1.759, 0.999),
            (0.029, 1.419, -0.174, 0.561, 1.558, 1.198),
        ),
        "female": (
            (0.027, 1.079, -0.302, 0.864, 2.399, 0.771),
            (0.024, 1.308, -0.254, 0.596, 1.654, 1.006),
            (0.022, 1.096, -0.369, 0.458, 1.242, 1.401),
        ),
    },
}

# Table 3 passive terms (B1 N m, k1 1/rad, B2 N m, k2 1/rad) of the *extension* exertion, in
# the extension direction; the flexion exertion's row is the same curve with B1, B2 negated.
_ANDERSON_PASSIVE: dict[str, dict[str, tuple[tuple[float, ...], ...]]] = {
    "hip": {
        "male": ((-1.210, -6.351, 0.476, 5.910), (-2.160, -8.073, 0.108, 4.593), (-2.671, -7.850, 0.092, 5.192)),
        "female": ((-1.753, -6.358, 0.239, 3.872), (-1.361, -7.128, 0.013, 6.479), (-0.758, -7.545, 0.018, 6.061)),
    },
    "knee": {
        "male": ((0.0, 0.0, -6.250, -4.521), (0.0, 0.0, -12.830, -5.127), (0.0, 0.0, -10.519, -5.662)),
        "female": ((0.0, 0.0, -8.033, -5.250), (0.0, 0.0, -6.576, -4.466), (0.0, 0.0, -8.800, -6.763)),
    },
    "ankle": {
        "male": (
            (-5.781e-4, -5.819, 0.967, 6.090),
            (-1.311e-3, -10.943, 0.377, 8.916),
            (-5.693e-5, -21.088, 0.488, 7.309),
        ),
        "female": (
            (-5.218e-3, -4.875, 0.470, 6.425),
            (-2.888e-5, -17.189, 0.523, 7.888),
            (-2.350e-5, -12.567, 0.331, 6.629),
        ),
    },
}

# Our DoF (without side) -> Anderson joint. The DoF's positive direction is Anderson's
# "flexion" exertion (hip flexion, knee flexion, ankle dorsiflexion) and its angle equals
# Anderson's joint angle (same zero, same sign, radians); see the Notes of muscles.max_torques.
_ANDERSON_DOFS = {"hip_flexion": "hip", "knee_flexion": "knee", "ankle_dorsiflexion": "ankle"}

# --------------------------------------------------------------------------- other DoFs
# DoF (without side) -> (positive-direction, negative-direction) peak isometric torque in
# N m/kg for a young man [GENERIC unless noted], (positive, negative) maximum concentric
# angular velocity in rad/s [source], and whether the DoF belongs to the upper body (for the
# sex ratio of Miller 1993).
_W_TRUNK = (19.23, 7.56)  # Millard 2019: lumbar flexors 1102 deg/s, extensors 433 deg/s
_W_GENERIC = 10.0  # GENERIC: rad/s where no velocity data was at hand
_GENERIC: dict[str, tuple[tuple[float, float], tuple[float, float], bool]] = {
    # Trunk: extension:flexion 2.9:2.2 = 1.3 (Beimborn 1988); magnitudes GENERIC.
    "lumbar_flexion": ((2.2, 2.9), _W_TRUNK, False),
    "lumbar_bending": ((2.0, 2.0), (_W_GENERIC, _W_GENERIC), False),
    "lumbar_rotation": ((1.0, 1.0), (_W_GENERIC, _W_GENERIC), False),
    "thoracic_flexion": ((2.2, 2.9), _W_TRUNK, False),
    "thoracic_bending": ((2.0, 2.0), (_W_GENERIC, _W_GENERIC), False),
    "thoracic_rotation": ((1.0, 1.0), (_W_GENERIC, _W_GENERIC), False),
    "neck_flexion": ((0.25, 0.45), (_W_GENERIC, _W_GENERIC), True),  # flexion, extension
    "neck_bending": ((0.30, 0.30), (_W_GENERIC, _W_GENERIC), True),
    "neck_rotation": ((0.15, 0.15), (_W_GENERIC, _W_GENERIC), True),
    "scapula_elevation": ((0.80, 0.50), (_W_GENERIC, _W_GENERIC), True),  # elevation, depression
    "scapula_protraction": ((0.60, 0.60), (_W_GENERIC, _W_GENERIC), True),
    # Velocities from the Gymnast set (Millard 2019): shoulder flexion 19.08, extension
    # 16.25, internal rotation 19.47, external 18.0 rad/s; abduction/adduction not in the set
    # (GENERIC 18.0, the set's shoulder mean).
    "shoulder_flexion": ((0.90, 1.10), (19.08, 16.25), True),
    "shoulder_abduction": ((0.80, 1.10), (18.0, 18.0), True),  # abduction, adduction
    "shoulder_rotation": ((0.65, 0.50), (19.47, 18.0), True),  # internal, external
    # Gymnast set: elbow flexion 18.1, extension 18.45; pronation 27.88, supination 35.45;
    # wrist flexion 36.39, extension 36.55; ulnar deviation 18.02, radial 21.77 rad/s.
    "elbow_flexion": ((1.00, 0.70), (18.10, 18.45), True),
    "elbow_pronation": ((0.13, 0.15), (27.88, 35.45), True),  # pronation, supination
    "wrist_flexion": ((0.18, 0.13), (36.39, 36.55), True),
    "wrist_deviation": ((0.15, 0.15), (18.02, 21.77), True),  # ulnar, radial
    "hip_adduction": ((1.60, 1.50), (_W_GENERIC, _W_GENERIC), False),  # adduction, abduction
    "hip_rotation": ((0.60, 0.70), (_W_GENERIC, _W_GENERIC), False),  # internal, external
    "ankle_inversion": ((0.35, 0.30), (_W_GENERIC, _W_GENERIC), False),  # inversion, eversion
    "ankle_adduction": ((0.20, 0.20), (_W_GENERIC, _W_GENERIC), False),
}

THELEN_AF = 0.25  # Thelen 2003
THELEN_FLEN = {"young": 1.4, "middle": 1.4, "old": 1.8}  # Thelen 2003 (young 1.4, old 1.8)
MILLARD_BETA = 0.1  # Millard 2019: damping torque = beta * tau_iso * omega / omega_max
UPPER_TO_LOWER_SEX_RATIO = 0.52 / 0.66  # Miller 1993
# GENERIC: torque-angle width such that a generic generator keeps half its peak at the ROM
# limits; passive stop = 5 % of the DoF's mean peak torque at the limit, growing e-fold
# every 1/8 rad (~7 deg) beyond it (Anderson's own k1, k2 are 4-21 /rad).
GENERIC_LIMIT_FRACTION = 0.5
LIMIT_TORQUE_FRACTION = 0.05
LIMIT_STIFFNESS = 8.0  # 1/rad


@dataclass(frozen=True)
class MTGTensors:
    """Torch views of :class:`MTGParameters` in one dtype and device (82 = generators, 41 = DoF)."""

    tau_iso: torch.Tensor  # (82,) N m
    angle_scale: torch.Tensor  # (82,) 1/rad  (Anderson C2)
    angle_opt: torch.Tensor  # (82,) rad     (Anderson C3)
    conc_b: torch.Tensor  # (82,) s/rad: concentric (1 + b x) / (1 + d x)
    conc_d: torch.Tensor
    conc_linear_from: torch.Tensor  # (82,) rad/s
    omega_max: torch.Tensor  # (82,) rad/s
    ecc_b: torch.Tensor  # (82,) eccentric (1 + b y)(1 + c y) / (1 + d y), y held at ecc_hold
    ecc_c: torch.Tensor
    ecc_d: torch.Tensor
    ecc_hold: torch.Tensor
    passive_b: torch.Tensor  # (41, 2) N m
    passive_k: torch.Tensor  # (41, 2) 1/rad
    lower: torch.Tensor  # (41,) rad
    upper: torch.Tensor
    limit_torque_lower: torch.Tensor  # (41,) N m
    limit_torque_upper: torch.Tensor
    damping: torch.Tensor  # (41,) N m s/rad


@dataclass(frozen=True, eq=False)
class MTGParameters:
    """Parameters of the 82 muscle torque generators of one body (build with :func:`mtg_parameters`).

    Arrays are float64 numpy, read-only. Generator ``i < 41`` acts in the positive
    direction of rotational DoF ``i`` (``q[6 + i]``), generator ``41 + i`` in its negative
    direction. See :mod:`musclepose.body.muscles` for the curves.

    Attributes
    ----------
    dof_names : 41 names of the rotational DoF (``body.dof_names[6:]``).
    sex, age, mass_kg, height_m : the subject the parameters were scaled to.
    passive : ``"rom"`` or ``"anderson"`` (see :func:`mtg_parameters`).
    sources : 82 strings, where each generator's numbers come from.
    tau_iso : (82,) peak isometric torque, N m (>= 0).
    angle_scale, angle_opt : (82,) torque-angle ``cos(angle_scale (theta - angle_opt))``.
    conc_b, conc_d, conc_linear_from, omega_max : (82,) concentric torque-velocity.
    ecc_b, ecc_c, ecc_d, ecc_hold : (82,) eccentric torque-velocity.
    passive_b, passive_k : (41, 2) Anderson passive terms, N m and 1/rad (zero elsewhere).
    lower, upper : (41,) range-of-motion limits (rad, from :mod:`.skeleton`).
    limit_torque_lower, limit_torque_upper : (41,) passive stop torque at each limit, N m.
    limit_stiffness : growth rate of the stops beyond the limits, 1/rad.
    damping : (41,) passive joint damping, N m s/rad.
    """

    dof_names: tuple[str, ...]
    sex: str
    age: str
    passive: str
    mass_kg: float
    height_m: float
    sources: tuple[str, ...]
    tau_iso: np.ndarray
    angle_scale: np.ndarray
    angle_opt: np.ndarray
    conc_b: np.ndarray
    conc_d: np.ndarray
    conc_linear_from: np.ndarray
    omega_max: np.ndarray
    ecc_b: np.ndarray
    ecc_c: np.ndarray
    ecc_d: np.ndarray
    ecc_hold: np.ndarray
    passive_b: np.ndarray
    passive_k: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    limit_torque_lower: np.ndarray
    limit_torque_upper: np.ndarray
    limit_stiffness: float
    damping: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def generator_names(self) -> tuple[str, ...]:
        """82 names, the activation layout: ``"<dof>+"`` for the 41 positive-direction generators,
        then ``"<dof>-"`` for the 41 negative-direction ones (e.g. ``knee_flexion_r+`` = knee flexors)."""
        return tuple(f"{n}+" for n in self.dof_names) + tuple(f"{n}-" for n in self.dof_names)

    def tensors(self, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu") -> MTGTensors:
        """The parameters as torch tensors in ``dtype`` on ``device`` (cached)."""
        key = (dtype, str(torch.device(device)))
        hit = self._cache.get(key)
        if hit is None:
            names = [f for f in MTGTensors.__dataclass_fields__]
            hit = MTGTensors(**{n: torch.tensor(getattr(self, n), dtype=dtype, device=device) for n in names})
            self._cache[key] = hit
        return hit


def _anderson_velocity(c4: float, c5: float, c6: float) -> tuple[float, ...]:
    """Concentric/eccentric coefficients of Anderson's torque-velocity curve (see muscles docstring)."""
    a = 2.0 * c4 * c5
    b, d = (c5 - 3.0 * c4) / a, (2.0 * c5 - 4.0 * c4) / a
    if d <= 0:
        raise ValueError(f"Anderson C4={c4}, C5={c5}: denominator 2 C5 - 4 C4 must be positive")
    omega_max = 1.0 / abs(b)  # = 2 C4 C5 / |C5 - 3 C4|, Millard et al.'s definition (RBDL)
    # With C5 > 3 C4 (plantarflexors) the curve levels off above zero instead of crossing it;
    # like Millard et al. (RBDL), end it with a straight line from 0.8 omega_max to zero.
    linear_from = omega_max if b < 0 else 0.8 * omega_max
    # Eccentric g(y) = (1 + b y)(1 + C6 y)/(1 + d y). Where it starts upwards it reaches a
    # maximum and then falls (to large negative values, Millard 2019): hold it at that
    # maximum. Where it starts downwards (g'(0) ~ b + C6 - d <= 0: young men's knee
    # extensors, the plantarflexors) hold it at isometric. g'(y) = 0 is the quadratic
    # b C6 d y^2 + 2 b C6 y + (b + C6 - d) = 0.
    hold = 0.0
    if b + c6 - d > 0:
        roots = np.roots([b * c6 * d, 2.0 * b * c6, b + c6 - d])  # np.roots drops leading zeros
        positive = [float(r.real) for r in roots if abs(r.imag) < 1e-12 and r.real > 0]
        if not positive:
            raise ValueError(f"Anderson C4={c4}, C5={c5}, C6={c6}: eccentric torque grows without bound")
        hold = min(positive)
    return b, d, linear_from, omega_max, b, c6, d, hold


def _generic_velocity(omega_max: float, flen: float) -> tuple[float, ...]:
    """Thelen 2003 force-velocity at full activation, per unit angular velocity.

    Concentric ``(1 - x/w)/(1 + x/(Af w))``; eccentric ``(c + Flen y/w)/(c + y/w)`` with
    ``c = (Flen - 1)/(2 + 2/Af)`` (twice the concentric slope at zero, plateau ``Flen``).
    """
    c = (flen - 1.0) / (2.0 + 2.0 / THELEN_AF)
    conc_b, conc_d = -1.0 / omega_max, 1.0 / (THELEN_AF * omega_max)
    ecc_b, ecc_d = flen / (c * omega_max), 1.0 / (c * omega_max)
    return conc_b, conc_d, omega_max, omega_max, ecc_b, 0.0, ecc_d, math.inf


def _age_sex_factor(sex: str, age: str) -> float:
    """Mean of Anderson's six C1 ratios (this group / young men): scales the GENERIC torques."""
    ia = AGES.index(age)
    ratios = [rows[sex][ia][0] / rows["male"][0][0] for rows in _ANDERSON_ACTIVE.values()]
    return float(np.mean(ratios))


def mtg_parameters(body: Body, age: str = "young", passive: str = "rom") -> MTGParameters:
    """Muscle torque generator parameters for ``body`` (its mass, height, sex and ROM).

    Hip flexion/extension, knee and ankle dorsi/plantarflexion use Anderson 2007 Table 3
    for ``body.sex`` and ``age`` (peak torque ``C1 m g h``); every other rotational DoF uses
    the GENERIC per-kg defaults of this module scaled by body mass, by Anderson's mean
    group/young-male strength ratio for the sex and age, and for the upper body by
    Miller 1993's upper/lower sex ratio.

    Parameters
    ----------
    body
        The body; ``body.sex`` picks Anderson's male or female rows.
    age
        ``"young"`` (18-25 years), ``"middle"`` (55-65) or ``"old"`` (> 65): Anderson's groups.
    passive
        ``"rom"`` (default): passive torque is an exponential stop at each cited ROM limit
        of every DoF (near zero mid-range). ``"anderson"``: hip, knee and ankle use
        Anderson's published passive curves (Table 3 B1, k1, B2, k2), plus the stops on the
        sides they do not resist. Anderson's curves were measured in his dynamometer
        postures and contain two-joint muscles stretched there: the knee curve pulls
        6-13 N m into flexion at full extension (hamstrings, seated), the hip curve resists
        flexion with ~110 N m at 53 deg and ~1e4 N m at 100 deg for young men (hamstrings
        over a straight knee), the ankle curve 20-90 N m of plantarflexion at 35 deg of
        dorsiflexion (gastrocnemius). A one-joint generator cannot relax them when the other
        joint moves, so use ``"anderson"`` only for postures like his.
    """
    if age not in AGES:
        raise ValueError(f"age must be one of {AGES}; got {age!r}")
    if passive not in PASSIVE_MODELS:
        raise ValueError(f"passive must be one of {PASSIVE_MODELS}; got {passive!r}")
    if body.sex not in ("male", "female"):
        raise ValueError(f"body.sex must be 'male' or 'female'; got {body.sex!r}")
    sex, ia = body.sex, AGES.index(age)
    dofs = DOFS[6:]
    assert len(dofs) == N_ROT
    mgh = body.mass_kg * GRAVITY_NORM * body.height_m
    lower = np.array([d.lower for d in dofs])
    upper = np.array([d.upper for d in dofs])
    n = 2 * N_ROT
    tau_iso, scale, opt = np.zeros(n), np.zeros(n), np.zeros(n)
    vel = np.zeros((n, 8))
    sources = [""] * n
    passive_b, passive_k = np.zeros((N_ROT, 2)), np.zeros((N_ROT, 2))
    anderson = np.zeros(N_ROT, dtype=bool)
    factor = _age_sex_factor(sex, age)
    for j, dof in enumerate(dofs):
        base = dof.name[:-2] if dof.name[-2:] in ("_r", "_l") else dof.name
        if base in _ANDERSON_DOFS:
            joint = _ANDERSON_DOFS[base]
            anderson[j] = True
            for g, exertion in ((j, "flexion"), (N_ROT + j, "extension")):
                c1, c2, c3, c4, c5, c6 = _ANDERSON_ACTIVE[(joint, exertion)][sex][ia]
                tau_iso[g], scale[g], opt[g] = c1 * mgh, c2, c3
                vel[g] = _anderson_velocity(c4, c5, c6)
                sources[g] = f"Anderson 2007 Table 3: {joint} {exertion}, {sex}, {age}"
            if passive == "anderson":
                b1, k1, b2, k2 = _ANDERSON_PASSIVE[joint][sex][ia]
                # Positive direction = flexion exertion = the extension row negated.
                passive_b[j], passive_k[j] = (-b1, -b2), (k1, k2)
        else:
            (tp, tn), (wp, wn), upper_body = _GENERIC[base]
            f = factor * (UPPER_TO_LOWER_SEX_RATIO if (upper_body and sex == "female") else 1.0)
            mid = 0.5 * (lower[j] + upper[j])
            width = math.acos(GENERIC_LIMIT_FRACTION) / (0.5 * (upper[j] - lower[j]))
            for g, t, w in ((j, tp, wp), (N_ROT + j, tn, wn)):
                tau_iso[g], scale[g], opt[g] = t * body.mass_kg * f, width, mid
                vel[g] = _generic_velocity(w, THELEN_FLEN[age])
                sources[g] = (
                    f"GENERIC {t:g} N m/kg (young male) x {f:.3f} ({sex}, {age}); Thelen 2003 curves, "
                    f"omega_max {w:g} rad/s"
                )
    omega_max = vel[:, 3]
    damping = MILLARD_BETA * (tau_iso[:N_ROT] / omega_max[:N_ROT] + tau_iso[N_ROT:] / omega_max[N_ROT:])
    # Passive stops at the ROM limits, on every side that Anderson's passive curve does not
    # already resist with at least the stop torque.
    stop = LIMIT_TORQUE_FRACTION * 0.5 * (tau_iso[:N_ROT] + tau_iso[N_ROT:])
    at_lo = (passive_b * np.exp(passive_k * lower[:, None])).sum(-1)  # positive = pushes up
    at_hi = -(passive_b * np.exp(passive_k * upper[:, None])).sum(-1)  # positive = pushes down
    limit_lo = np.where(anderson & (at_lo >= stop), 0.0, stop)
    limit_hi = np.where(anderson & (at_hi >= stop), 0.0, stop)
    arrays = {
        "tau_iso": tau_iso,
        "angle_scale": scale,
        "angle_opt": opt,
        "conc_b": vel[:, 0],
        "conc_d": vel[:, 1],
        "conc_linear_from": vel[:, 2],
        "omega_max": omega_max,
        "ecc_b": vel[:, 4],
        "ecc_c": vel[:, 5],
        "ecc_d": vel[:, 6],
        "ecc_hold": vel[:, 7],
        "passive_b": passive_b,
        "passive_k": passive_k,
        "lower": lower,
        "upper": upper,
        "limit_torque_lower": limit_lo,
        "limit_torque_upper": limit_hi,
        "damping": damping,
    }
    frozen = {k: np.array(v, dtype=np.float64) for k, v in arrays.items()}
    for a in frozen.values():
        a.setflags(write=False)
    return MTGParameters(
        dof_names=tuple(d.name for d in dofs),
        sex=sex,
        age=age,
        passive=passive,
        mass_kg=float(body.mass_kg),
        height_m=float(body.height_m),
        sources=tuple(sources),
        limit_stiffness=LIMIT_STIFFNESS,
        **frozen,
    )
