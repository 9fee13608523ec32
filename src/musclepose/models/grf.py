"""The learned ground reaction force model of the original design: a linear "spring" plus residuals.

The seed design (``IMPLEMENTATION_NOTES.md``, "GRF model") predicts each foot's vertical force
from a linear function of the foot's kinematics, ``F_Y = (Psi . eta_FY + delta_Y) BW contact``,
with the features ::

    Psi = [1, y, y_other, dy/dt, d2y/dt2, theta, dtheta/dt, d2theta/dt2]

(``y``: this foot's ankle joint centre height above the floor, m; ``y_other``: the other
ankle's; ``theta``: ankle dorsiflexion, rad), the centre of pressure along the foot from
``Psi . eta_zx``, and the shear inside a friction cone, ``mu = clamp(0.8 + delta_mu, 0.05,
2)``, ``F_X = delta_X mu F_Y``, ``F_Z = delta_Z sqrt(mu^2 F_Y^2 - F_X^2)``. The ``delta``
residuals come from an encoder head (the caller) and/or the small head here.

Choices made where the seed is silent (stated so that a reader can check them):

- Units: SI, Y-up, gravity (0, -9.81, 0), feet ordered (right, left). ``X`` is the foot's
  heading (heel to toe projected on the floor), ``Z`` the horizontal axis to its right; the
  outputs are world vectors, ready for :class:`~musclepose.body.dynamics.ExternalWrench`.
- The CoP is ``heel + s (toe - heel)`` on the floor with ``s = clamp(Psi . eta_zx +
  delta_cop, 0, 1)`` the fraction of the foot from heel (0) to toe tip (1). The heel and toe
  are the body's own (:func:`musclepose.body.contact.sole_points`), which replace the seed's
  fixed foot size ``[0.25, 0.10, 0.05]`` m.
- ``delta_X``, ``delta_Z`` are logits: ``tanh`` keeps them in (-1, 1), i.e. inside the cone.
  Then ``sqrt(mu^2 F_Y^2 - F_X^2) = mu F_Y sech(delta_X)`` exactly, so no square root is
  evaluated and the gradient is finite everywhere, including on the cone's boundary and at
  ``F_Y = 0`` (where the seed's square root has an infinite derivative).
- ``F_Y >= 0`` through a softplus of width ``fy_softness`` (body weights): smooth, and zero
  contact still gives exactly zero force because ``contact`` multiplies everything.
- ``eta`` are buffers (fixed) by default, or parameters initialised to the seed's values
  with ``learn_eta=True``. The optional head is an MLP ``Psi -> delta`` whose last layer is
  zero-initialised, so an untrained model is exactly the linear model.

What the seed coefficients give (honest assessment; they came from an unvalidated seed)
---------------------------------------------------------------------------------------
In quiet standing (``y = y_other =`` ankle height ``h``, everything else 0) each foot gets
``0.3116 + (3.1785 - 2.2963) h`` body weights: 0.372 BW at ``h = 6.8`` cm (a 1.75 m
stature), so both feet carry **0.74 BW, not 1 BW**; statics is violated by 26 %. The signs
are also implausible: raising this ankle *increases* its predicted load and raising the
other ankle decreases it. On the OpenSim gait example (treadmill walking, force plates;
``tests/models/test_grf.py``) the seed's vertical force correlates with the plates at only
r = 0.17 (both feet; RMSE 0.61 BW) and carries 0.47 BW on average; its CoP fraction reaches
r = 0.57 / 0.70. Least squares on the same eight features (:func:`fit_grf_coefficients`)
gives r = 0.994 in-sample and r = 0.987 (RMSE 0.07 BW) when the coefficients of one foot
predict the other foot; the CoP fraction reaches r = 0.98. Fitted coefficients are specific
to the activity they were fitted on (the gait fit predicts 1.17 BW in quiet standing).
Prefer coefficients fitted to the activity, or :func:`musclepose.body.grf.estimate_grf`
when the whole-body kinematics are known (r = 0.995 on the same trial, no fitting).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import jvp

from ..body import Body, ExternalWrench, forward_kinematics
from ..body.contact import sole_points

__all__ = [
    "ETA_COP_SEED",
    "ETA_FY_SEED",
    "FEATURE_NAMES",
    "GRFConfig",
    "GRFInputs",
    "GRFModel",
    "GRFOutput",
    "fit_grf_coefficients",
    "grf_inputs",
]

#: The seed's vertical-force coefficients (body weights per feature unit).
ETA_FY_SEED = (0.3116, 3.1785, -2.2963, 0.4151, 0.0088, 0.3374, -0.1206, -0.0089)
#: The seed's CoP coefficients (fraction of the foot, heel to toe).
ETA_COP_SEED = (0.68996, -3.1508, 0.5925, 0.21997, 0.0035, 0.18502, -0.03311, -0.00212)
FEATURE_NAMES = ("one", "ankle_y", "other_ankle_y", "ankle_vy", "ankle_ay", "ankle", "ankle_vel", "ankle_acc")
#: Residual channels, last axis of ``delta``.
DELTA_NAMES = ("fy", "fx", "fz", "mu", "cop")
FEET = ("foot_r", "foot_l")


@dataclass
class GRFConfig:
    """Everything that defines a :class:`GRFModel` (a checkpoint's ``config.json``)."""

    eta_fy: tuple[float, ...] = ETA_FY_SEED
    eta_cop: tuple[float, ...] = ETA_COP_SEED
    learn_eta: bool = False  # False: eta are fixed buffers; True: parameters initialised to eta
    mu: float = 0.8  # friction coefficient before delta_mu
    mu_min: float = 0.05
    mu_max: float = 2.0
    fy_softness: float = 0.01  # softplus width (body weights) that keeps F_Y >= 0
    head_hidden: int = 0  # hidden units of the residual head; 0: residuals only from the caller

    def __post_init__(self) -> None:
        n = len(FEATURE_NAMES)
        if len(self.eta_fy) != n or len(self.eta_cop) != n:
            raise ValueError(f"eta_fy and eta_cop need {n} coefficients ({FEATURE_NAMES})")
        if not 0 < self.mu_min <= self.mu <= self.mu_max:
            raise ValueError(f"need 0 < mu_min <= mu <= mu_max; got {self.mu_min}, {self.mu}, {self.mu_max}")
        if self.fy_softness <= 0 or self.head_hidden < 0:
            raise ValueError("fy_softness must be positive and head_hidden non-negative")


@dataclass(frozen=True)
class GRFInputs:
    """Kinematic inputs of both feet (right, left).

    Attributes
    ----------
    psi : (..., 2, 8)
        Features in :data:`FEATURE_NAMES` order (m, m/s, m/s^2, rad, rad/s, rad/s^2).
    heel, toe : (..., 2, 3)
        Heel and toe tip projected on the floor (m, world).
    """

    psi: torch.Tensor
    heel: torch.Tensor
    toe: torch.Tensor


@dataclass(frozen=True)
class GRFOutput:
    """Per-foot ground reaction forces (right, left).

    Attributes
    ----------
    force : (..., 2, 3)
        Force on each foot (N, world).
    cop : (..., 2, 3)
        Centre of pressure on the floor (m, world).
    fy_bw, mu, cop_fraction : (..., 2)
        Vertical force in body weights, friction coefficient, CoP as a fraction heel-to-toe.
    """

    force: torch.Tensor
    cop: torch.Tensor
    fy_bw: torch.Tensor
    mu: torch.Tensor
    cop_fraction: torch.Tensor

    def wrenches(self) -> list[ExternalWrench]:
        """The two forces as ``external`` for :func:`~musclepose.body.dynamics.inverse_dynamics`."""
        return [ExternalWrench(FEET[i], self.force[..., i, :], self.cop[..., i, :]) for i in range(2)]


def _jvp(fn, primals, tangents):
    # torch's first forward-mode call scripts its decompositions with the deprecated
    # torch.jit.script and warns; the warning concerns torch, not this call.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=DeprecationWarning)
        return jvp(fn, primals, tangents)


def grf_inputs(
    body: Body, q: torch.Tensor, qd: torch.Tensor, qdd: torch.Tensor, floor_y: float | torch.Tensor = 0.0
) -> GRFInputs:
    """Features ``Psi`` and foot geometry from states ``(..., 47)`` (any leading shape).

    Ankle height derivatives are exact: ``dy/dt = J qd`` and ``d2y/dt2 = J qdd + (dJ/dt) qd``
    by nested forward-mode differentiation of forward kinematics. ``floor_y`` broadcasts
    against ``q.shape[:-1]`` (e.g. the estimate in ``foot_contact(...).floor_y``).
    """
    idx = [body.segment_index(f) for f in FEET]
    floor = torch.as_tensor(floor_y, dtype=q.dtype, device=q.device)

    def ankle_y(x: torch.Tensor) -> torch.Tensor:
        return forward_kinematics(body, x).origins[..., idx, 1]

    def ankle_vy(x: torch.Tensor, xd: torch.Tensor) -> torch.Tensor:
        return _jvp(ankle_y, (x,), (xd,))[1]

    y = ankle_y(q) - floor[..., None]
    vy, ay = _jvp(ankle_vy, (q, qd), (qd, qdd))
    dof = [body.dof_index(f"ankle_dorsiflexion_{s}") for s in ("r", "l")]
    one = torch.ones_like(y)
    psi = torch.stack([one, y, y.flip(-1), vy, ay, q[..., dof], qd[..., dof], qdd[..., dof]], -1)
    pts = sole_points(body, q)
    flat = torch.tensor([1.0, 0.0, 1.0], dtype=q.dtype, device=q.device)
    lift = torch.tensor([0.0, 1.0, 0.0], dtype=q.dtype, device=q.device)
    on_floor = floor[..., None, None] * lift
    return GRFInputs(psi=psi, heel=pts[..., 0, :] * flat + on_floor, toe=pts[..., 2, :] * flat + on_floor)


class ResidualHead(nn.Module):
    """``Psi (..., 8) -> delta (..., 5)``; zero at initialisation (the last layer is zero)."""

    def __init__(self, config: GRFConfig):
        super().__init__()
        self.fc = nn.Linear(len(FEATURE_NAMES), config.head_hidden)
        self.out = nn.Linear(config.head_hidden, len(DELTA_NAMES))
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, psi: torch.Tensor) -> torch.Tensor:
        return self.out(F.gelu(self.fc(psi)))


class GRFModel(nn.Module):
    """Linear spring GRF model with residuals (see the module docstring)."""

    def __init__(self, config: GRFConfig | None = None):
        super().__init__()
        self.config = config = config if config is not None else GRFConfig()
        eta = torch.tensor([config.eta_fy, config.eta_cop], dtype=torch.float32)  # (2, 8)
        if config.learn_eta:
            self.eta = nn.Parameter(eta)
        else:
            self.register_buffer("eta", eta)
        self.head = ResidualHead(config) if config.head_hidden > 0 else None

    def forward(
        self,
        inputs: GRFInputs,
        contact: torch.Tensor,
        body_weight: float | torch.Tensor,
        delta: torch.Tensor | None = None,
    ) -> GRFOutput:
        """Forces and CoPs of both feet.

        Parameters
        ----------
        inputs
            From :func:`grf_inputs`.
        contact : (..., 2)
            Contact weight per foot in [0, 1] (e.g. ``foot_contact(...).weight``).
        body_weight
            ``m g`` in N, a number or ``(...,)``.
        delta : (..., 2, 5), optional
            Residuals ``(delta_Y [BW], delta_X, delta_Z [logits], delta_mu, delta_cop)``
            from an encoder; added to the head's when both exist.
        """
        psi = inputs.psi
        if psi.shape[-2:] != (2, len(FEATURE_NAMES)):
            raise ValueError(f"inputs.psi must have shape (..., 2, {len(FEATURE_NAMES)}); got {tuple(psi.shape)}")
        if contact.shape[-1:] != (2,):
            raise ValueError(f"contact must have shape (..., 2); got {tuple(contact.shape)}")
        d = torch.zeros(psi.shape[:-1] + (len(DELTA_NAMES),), dtype=psi.dtype, device=psi.device)
        if self.head is not None:
            d = d + self.head(psi.to(self.head.fc.weight.dtype)).to(psi.dtype)
        if delta is not None:
            if delta.shape[-1:] != (len(DELTA_NAMES),):
                raise ValueError(f"delta must have shape (..., 2, {len(DELTA_NAMES)}); got {tuple(delta.shape)}")
            d = d + delta
        cfg = self.config
        eta = self.eta.to(psi.dtype)
        lin = psi @ eta.T  # (..., 2, 2): vertical force (BW), CoP fraction
        s = cfg.fy_softness
        fy_bw = F.softplus((lin[..., 0] + d[..., 0]) / s) * s * contact
        bw = torch.as_tensor(body_weight, dtype=psi.dtype, device=psi.device)
        fy = fy_bw * (bw[..., None] if bw.ndim else bw)
        mu = (cfg.mu + d[..., 3]).clamp(cfg.mu_min, cfg.mu_max)
        tx = torch.tanh(d[..., 1])
        fx = tx * mu * fy
        fz = torch.tanh(d[..., 2]) * mu * fy / torch.cosh(d[..., 1])  # = delta_Z sqrt(mu^2 F_Y^2 - F_X^2)
        axis = inputs.toe - inputs.heel
        length = torch.sqrt((axis**2).sum(-1, keepdim=True) + 1e-12)
        u = axis / length  # heading (horizontal: heel and toe are on the floor)
        n = torch.stack([-u[..., 2], torch.zeros_like(u[..., 0]), u[..., 0]], -1)  # horizontal, to the right
        up = torch.tensor([0.0, 1.0, 0.0], dtype=psi.dtype, device=psi.device)
        force = fx[..., None] * u + fy[..., None] * up + fz[..., None] * n
        frac = (lin[..., 1] + d[..., 4]).clamp(0.0, 1.0)
        cop = inputs.heel + frac[..., None] * axis
        return GRFOutput(force=force, cop=cop, fy_bw=fy_bw, mu=mu, cop_fraction=frac)


def fit_grf_coefficients(
    inputs: GRFInputs,
    contact: torch.Tensor,
    force: torch.Tensor,
    body_weight: float,
    cop: torch.Tensor | None = None,
    config: GRFConfig | None = None,
    *,
    min_contact: float = 0.5,
    min_force_bw: float = 0.1,
    ridge: float = 0.0,
) -> GRFConfig:
    """Least-squares ``eta`` from kinematics and measured forces (e.g. force plates).

    ``eta_FY`` solves ``Psi eta = F_Y / (BW contact)`` over the samples with ``contact >
    min_contact``; ``eta_zx`` (when ``cop`` is given) solves ``Psi eta = s`` with ``s`` the
    measured CoP's fraction heel-to-toe over samples loaded above ``min_force_bw``. Rows of
    both feet are pooled. ``ridge`` adds ``ridge * I`` to the normal equations (features are
    in SI units; 0 for plain least squares). Returns ``config`` with the new coefficients.

    Parameters
    ----------
    inputs, contact
        From :func:`grf_inputs` and ``foot_contact(...).weight``, leading shapes ``(...)``.
    force : (..., 2, 3)
        Measured forces on (right, left) in N; only the vertical component is fitted.
    cop : (..., 2, 3), optional
        Measured centres of pressure (m, world).
    """
    config = config if config is not None else GRFConfig()
    psi = inputs.psi.detach().reshape(-1, len(FEATURE_NAMES)).double()
    c = contact.detach().reshape(-1).double()
    fy_bw = (force[..., 1].detach() / body_weight).reshape(-1).double()
    rows = c > min_contact
    if int(rows.sum()) < len(FEATURE_NAMES):
        raise ValueError(f"only {int(rows.sum())} samples in contact; need at least {len(FEATURE_NAMES)}")
    eta_fy = _lstsq(psi[rows], fy_bw[rows] / c[rows], ridge)
    eta_cop = config.eta_cop
    if cop is not None:
        heel = inputs.heel.detach().reshape(-1, 3).double()
        axis = inputs.toe.detach().reshape(-1, 3).double() - heel
        r = cop.detach().reshape(-1, 3).double() - heel
        frac = (r[:, [0, 2]] * axis[:, [0, 2]]).sum(-1) / (axis[:, [0, 2]] ** 2).sum(-1).clamp(min=1e-12)
        loaded = fy_bw > min_force_bw
        if int(loaded.sum()) >= len(FEATURE_NAMES):
            eta_cop = _lstsq(psi[loaded], frac[loaded], ridge)
    return replace(config, eta_fy=eta_fy, eta_cop=tuple(eta_cop))


def _lstsq(a: torch.Tensor, b: torch.Tensor, ridge: float) -> tuple[float, ...]:
    if ridge > 0:
        a = torch.cat([a, ridge**0.5 * torch.eye(a.shape[1], dtype=a.dtype)])
        b = torch.cat([b, torch.zeros(a.shape[1], dtype=b.dtype)])
    # gelsd (SVD) copes with the constant or collinear columns of static or planted-foot data.
    x = torch.linalg.lstsq(a, b[:, None], driver="gelsd").solution[:, 0]
    return tuple(float(v) for v in x)
