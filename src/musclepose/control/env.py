"""``musclepose/Imitate-v0``: a gymnasium environment in which the body imitates a reference Motion.

After DeepMimic (Peng, Abbeel, Levine & van de Panne 2018, *ACM Trans. Graph.* 37(4):143):

- **Action** (41, in [-1, 1]): offsets of the PD targets of the 41 joint DoF from the
  reference's next pose, times ``action_scale_rad``. The inner loop is stable PD (Tan, Liu &
  Turk 2011, :mod:`.spd`) at every simulation step (2 ms); the policy acts every
  ``substeps`` steps (17: 29.4 Hz, near DeepMimic's 30 Hz).
- **Observation** (94, float32): root height, root rotation and joint angles ``q[1:]`` (rad),
  ``qd`` (47) scaled by 0.1, and the reference's phase in [0, 1].
- **Reward** (DeepMimic's imitation reward, its weights and scales):
  ``0.65 exp(-2 sum_j d_j^2) + 0.1 exp(-0.1 sum_j dv_j^2) + 0.15 exp(-40 sum_e |dp_e|^2) + 0.1
  exp(-10 |dc|^2)``; ``d_j`` per-DoF angle differences of the 44 rotational DoF (DeepMimic
  uses quaternion differences per joint; Euler-angle differences equal them to first order),
  ``dv_j`` velocity differences, ``dp_e`` of the hands and feet relative to the pelvis
  (DeepMimic's code does the same), ``dc`` of the whole-body centre of mass (world).
- **Reference-state initialisation**: ``reset`` starts at a random frame of the reference in
  its state there (``options={"start_s": t}`` picks one). **Early termination**: the pelvis
  more than ``fall_distance_m`` from the reference's (a fall or a large deviation).
  Truncation when the reference ends.

No residual root forces by default: what the policy learns must balance the body itself.
"""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from ..body import Body
from ..io import load_motion
from ..motion import Motion
from .reference import prepare_reference
from .simulation import DEFAULT_TIMESTEP, N_ROOT, Simulation
from .spd import default_gains, spd_torque

__all__ = ["END_EFFECTORS", "ENV_ID", "REWARD_SCALES", "REWARD_WEIGHTS", "ImitateEnv", "standing_motion"]

ENV_ID = "musclepose/Imitate-v0"
END_EFFECTORS = ("hand_r", "hand_l", "foot_r", "foot_l")
REWARD_WEIGHTS = {"pose": 0.65, "velocity": 0.1, "end_effector": 0.15, "com": 0.1}  # Peng et al. 2018
REWARD_SCALES = {"pose": 2.0, "velocity": 0.1, "end_effector": 40.0, "com": 10.0}  # Peng et al. 2018


def standing_motion(body: Body | None = None, seconds: float = 2.0, fps: float = 30.0) -> Motion:
    """A reference that stands still in the neutral pose (the default when none is given)."""
    body = body or Body.standard()
    n = max(2, int(round(seconds * fps)) + 1)
    return Motion(body.neutral_q().repeat(n, 1), fps, body, {"source": "standing (musclepose.control.env)"})


class ImitateEnv(gym.Env):
    """Imitate ``motion`` under physics (module docstring). ``residual=True`` adds root residual forces.

    ``motion`` may be a file any :func:`~musclepose.io.load_motion` reads: ``gym.make`` deep-copies
    its keyword arguments, which a path survives and a ``Motion`` (read-only mappings) does not.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        motion: Motion | str | os.PathLike[str] | None = None,
        *,
        substeps: int = 17,
        timestep: float = DEFAULT_TIMESTEP,
        action_scale_rad: float = 0.5,
        residual: bool = False,
        fall_distance_m: float = 0.5,
    ) -> None:
        if motion is None:
            motion = standing_motion()
        elif not isinstance(motion, Motion):
            motion = load_motion(motion)
        if substeps < 1:
            raise ValueError(f"substeps must be >= 1; got {substeps}")
        self.motion = motion
        self.body = motion.body
        self.ref = prepare_reference(motion, timestep)
        if self.ref.q.shape[0] < 2 * substeps + 1:
            raise ValueError(f"the reference is too short to imitate: {motion.duration:.3f} s")
        self.substeps, self.action_scale, self.fall_distance = int(substeps), float(action_scale_rad), fall_distance_m
        self.sim = Simulation(self.body, root_residual=residual, timestep=timestep)
        self.gains = default_gains(self.sim, self.ref.q[0], root=residual)
        self._ee_ids = [mujoco.mj_name2id(self.sim.model, mujoco.mjtObj.mjOBJ_BODY, n) for n in END_EFFECTORS]
        self._ref_ee, self._ref_com = self._reference_kinematics()
        n_obs = (self.body.n_dof - 1) + self.body.n_dof + 1
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(n_obs,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(self.body.n_dof - N_ROOT,), dtype=np.float32)
        self._k = 0  # index into the reference at the simulation rate

    # ------------------------------------------------------------------ reference
    def _kinematics(self, data: mujoco.MjData) -> tuple[np.ndarray, np.ndarray]:
        """End effectors relative to the pelvis (4, 3) and the world CoM (3) of ``data``'s state."""
        ee = data.xpos[self._ee_ids] - data.xpos[1]
        return ee.copy(), data.subtree_com[1].copy()

    def _reference_kinematics(self) -> tuple[np.ndarray, np.ndarray]:
        data = mujoco.MjData(self.sim.model)
        ee, com = [], []
        for q in self.ref.q:
            data.qpos[:] = q
            mujoco.mj_kinematics(self.sim.model, data)
            mujoco.mj_comPos(self.sim.model, data)
            e, c = self._kinematics(data)
            ee.append(e)
            com.append(c)
        return np.stack(ee), np.stack(com)

    @property
    def _last_start(self) -> int:
        return self.ref.q.shape[0] - 1 - self.substeps

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
        if "start_s" in options:
            self._k = int(np.clip(round(float(options["start_s"]) / self.sim.dt), 0, self._last_start))
        else:
            self._k = int(self.np_random.integers(0, self._last_start + 1))  # reference-state initialisation
        self.sim.set_state(self.ref.q[self._k], self.ref.qd[self._k])
        return self._observation(), {"start_s": self._k * self.sim.dt}

    def step(self, action: np.ndarray):
        a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        if a.shape != self.action_space.shape:
            raise ValueError(f"action must have shape {self.action_space.shape}; got {a.shape}")
        offset = np.zeros(self.body.n_dof)
        offset[N_ROOT:] = self.action_scale * a
        sim, g, dt = self.sim, self.gains, self.sim.dt
        for _ in range(self.substeps):
            target, target_d = self.ref.q[self._k + 1] + offset, self.ref.qd[self._k + 1]
            sim.step(
                lambda s, t=target, td=target_d: spd_torque(
                    s.mass_matrix(), s.bias(), s.data.qpos, s.data.qvel, t, td, g, dt, limit=s.torque_limit
                )
            )
            self._k += 1
        q = sim.data.qpos
        diverged = not (np.all(np.isfinite(q)) and np.all(np.isfinite(sim.data.qvel)))
        fell = diverged or float(np.linalg.norm(q[:3] - self.ref.q[self._k, :3])) > self.fall_distance
        reward, terms = (0.0, {}) if diverged else self._reward()
        truncated = not fell and self._k >= self._last_start
        obs = self._observation() if not diverged else np.zeros(self.observation_space.shape, np.float32)
        return obs, reward, fell, truncated, {"reward_terms": terms, "time_s": self._k * dt, "fell": fell}

    # ------------------------------------------------------------------ helpers
    def _observation(self) -> np.ndarray:
        d = self.sim.data
        phase = self._k / (self.ref.q.shape[0] - 1)
        return np.concatenate([d.qpos[1:], 0.1 * d.qvel, [phase]]).astype(np.float32)

    def _reward(self) -> tuple[float, dict[str, float]]:
        d, k = self.sim.data, self._k
        # mj_step2 leaves positions derived from the state before the step: refresh them.
        mujoco.mj_kinematics(self.sim.model, d)
        mujoco.mj_comPos(self.sim.model, d)
        dq = d.qpos[3:] - self.ref.q[k, 3:]  # the 44 rotational DoF (root rotation and joints)
        dv = d.qvel[3:] - self.ref.qd[k, 3:]
        ee, com = self._kinematics(d)
        terms = {
            "pose": np.exp(-REWARD_SCALES["pose"] * np.sum(dq**2)),
            "velocity": np.exp(-REWARD_SCALES["velocity"] * np.sum(dv**2)),
            "end_effector": np.exp(-REWARD_SCALES["end_effector"] * np.sum((ee - self._ref_ee[k]) ** 2)),
            "com": np.exp(-REWARD_SCALES["com"] * np.sum((com - self._ref_com[k]) ** 2)),
        }
        terms = {key: float(v) for key, v in terms.items()}
        return float(sum(REWARD_WEIGHTS[key] * v for key, v in terms.items())), terms
