"""A MuJoCo simulation of a :class:`~musclepose.body.Body`: the model, its state, one control step.

The model is :meth:`Body.to_mjcf` with a motor per rotational DoF (``ctrl`` = joint torque in
N m, clipped by MuJoCo to the body's peak isometric torque, :func:`torque_capacity`), optionally
six unbounded residual root motors, the cited joint ranges as limits, and box soles and hand
capsules that touch a floor plane. ``qpos``/``qvel`` equal ``q``/``qd`` (47) element for element; Y-up, SI units.

Timestep: 2 ms (500 Hz), MuJoCo's default. Stable PD is unconditionally stable in its gains
(Tan et al. 2011), so the step is set by contact instead: the soft floor contact (MuJoCo's
default ``solref`` time constant 0.02 s) needs at least two steps per time constant, and 2 ms
leaves ten; 1 ms lowered the real squat's joint RMSE from 2.09 to 1.87 degrees at half the speed
(docs/benchmarks_imitate.md). One control step is ``mj_step1`` (positions, velocities, mass matrix and bias
forces of the present state), the controller, then ``mj_step2`` (MuJoCo's split step for
controllers that need ``qM`` and ``qfrc_bias``); semi-implicit Euler integration.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import mujoco
import numpy as np

from ..body import Body, mtg_parameters

__all__ = ["DEFAULT_TIMESTEP", "N_ROOT", "Simulation", "build_model", "torque_capacity"]

DEFAULT_TIMESTEP = 0.002
N_ROOT = 6  # 3 slides then 3 hinges of the floating base

_LOG = logging.getLogger(__name__)
_CACHE: dict[tuple, tuple[Body, mujoco.MjModel]] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8


def torque_capacity(body: Body) -> np.ndarray:
    """Peak isometric joint torque (41, N m) per rotational DoF: the stronger of its two generators.

    From the Hill-type torque generators of :mod:`musclepose.body.muscles` (Anderson et al. 2007
    at hip, knee and ankle; scaled generic values elsewhere), so the simulated body is no
    stronger than the muscle model says it can be.
    """
    tau = np.asarray(mtg_parameters(body).tau_iso, dtype=np.float64)
    n = tau.shape[0] // 2
    return np.maximum(tau[:n], tau[n:])


def build_model(body: Body, *, root_residual: bool = False, timestep: float = DEFAULT_TIMESTEP) -> mujoco.MjModel:
    """The compiled MuJoCo model of ``body`` (cached: a ``Body`` is immutable; do not modify the result)."""
    key = (id(body), bool(root_residual), float(timestep))
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] is body:
            return hit[1]
    xml = body.to_mjcf(
        actuator_torques=torque_capacity(body), root_residual=root_residual, timestep=timestep, hand_contact=True
    )
    model = mujoco.MjModel.from_xml_string(xml)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = (body, model)  # holding the body keeps its id from being reused
    return model


class Simulation:
    """One simulated body: ``model`` (shared, cached) and its own ``data``.

    Parameters
    ----------
    body
        The body to simulate.
    root_residual
        Add six unbounded motors on the root DoF (the "hand of God" forces of imitation work).
    timestep
        Seconds per step (module docstring).
    """

    def __init__(self, body: Body, *, root_residual: bool = False, timestep: float = DEFAULT_TIMESTEP) -> None:
        self.body = body
        self.root_residual = bool(root_residual)
        self.model = build_model(body, root_residual=root_residual, timestep=timestep)
        self.data = mujoco.MjData(self.model)
        self.dt = float(self.model.opt.timestep)
        self.nv = int(self.model.nv)
        self._M = np.zeros((self.nv, self.nv))
        # ctrl index of each DoF's motor; the root's only with residual motors
        self._first_dof = 0 if self.root_residual else N_ROOT
        self.torque_limit = np.full(self.nv, np.inf if self.root_residual else 0.0)  # unactuated root: 0
        self.torque_limit[N_ROOT:] = self.model.actuator_ctrlrange[-(self.nv - N_ROOT) :, 1]

    def set_state(self, q: np.ndarray, qd: np.ndarray | None = None) -> None:
        """Put the body at ``q`` (47) moving at ``qd`` (47, default rest) and recompute everything derived."""
        q = np.asarray(q, dtype=np.float64)
        qd = np.zeros(self.nv) if qd is None else np.asarray(qd, dtype=np.float64)
        if q.shape != (self.nv,) or qd.shape != (self.nv,):
            raise ValueError(f"q and qd must have shape ({self.nv},); got {q.shape} and {qd.shape}")
        if not (np.all(np.isfinite(q)) and np.all(np.isfinite(qd))):
            raise ValueError("q and qd must be finite")
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:] = q
        self.data.qvel[:] = qd
        mujoco.mj_forward(self.model, self.data)

    @property
    def q(self) -> np.ndarray:
        return self.data.qpos.copy()

    @property
    def qd(self) -> np.ndarray:
        return self.data.qvel.copy()

    @property
    def time(self) -> float:
        return float(self.data.time)

    def step(self, controller: Callable[[Simulation], np.ndarray]) -> np.ndarray:
        """Advance one timestep under ``controller(self) -> tau (47)``; returns the torque applied.

        The controller sees the present state with :meth:`mass_matrix` and :meth:`bias` already
        computed. Joint torques are clipped to the body's capacity; the root's six are applied
        only with residual motors (otherwise they are zero: the floating base is unactuated).
        """
        # MuJoCo prints its warnings and appends them to MUJOCO_LOG.TXT in the working folder; a
        # diverging baseline would litter the user's folder. They go to logging instead; callers
        # read data.warning, where MuJoCo counts them.
        previous = mujoco.get_mju_user_warning()
        mujoco.set_mju_user_warning(_LOG.debug)
        try:
            mujoco.mj_step1(self.model, self.data)
            tau = np.asarray(controller(self), dtype=np.float64)
            applied = np.clip(tau, -self.torque_limit, self.torque_limit)
            self.data.ctrl[:] = applied[self._first_dof :]
            mujoco.mj_step2(self.model, self.data)
        finally:
            mujoco.set_mju_user_warning(previous)
        return applied

    def mass_matrix(self) -> np.ndarray:
        """The joint-space inertia matrix ``M(q)`` (47×47) of the present state (valid after ``mj_step1``/forward)."""
        mujoco.mj_fullM(self.model, self.data, self._M)
        return self._M

    def bias(self) -> np.ndarray:
        """Coriolis, centrifugal and gravity forces ``C(q, qd)`` (47), MuJoCo's ``qfrc_bias``."""
        return self.data.qfrc_bias

    def body_positions(self, names: tuple[str, ...]) -> np.ndarray:
        """World positions (len(names), 3) of segment origins (present state)."""
        ids = [mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, n) for n in names]
        return self.data.xpos[ids].copy()

    def com(self) -> np.ndarray:
        """Whole-body centre of mass (3), world frame."""
        return self.data.subtree_com[1].copy()  # body 1 is the pelvis, the root of every segment
