"""MuJoCo as the independent reference: the exported MJCF, mj_kinematics and mj_inverse."""

from __future__ import annotations

import mujoco
import numpy as np


def model_of(body):
    m = mujoco.MjModel.from_xml_string(body.to_mjcf())
    # Joint limits and contacts are constraints; inverse dynamics compares the free dynamics.
    m.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONSTRAINT
    return m


def random_states(body, n, seed=0, scale_v=2.0, scale_a=10.0):
    rng = np.random.default_rng(seed)
    lo = np.where(np.isfinite(body.dof_lower), body.dof_lower, -1.0)
    hi = np.where(np.isfinite(body.dof_upper), body.dof_upper, 1.0)
    q = rng.uniform(lo, hi, (n, body.n_dof))
    return q, rng.normal(0, scale_v, q.shape), rng.normal(0, scale_a, q.shape)


def mj_inverse(m, q, qd, qdd, wrenches=None):
    """qfrc_inverse per state; ``wrenches`` = [(body_name, force (n,3), point (n,3))] applied externally.

    With external wrenches the result is ``qfrc_inverse - J^T w`` (mj_applyFT), i.e. what the
    joints must supply given the environment's help, which is what MusclePose returns.
    """
    d = mujoco.MjData(m)
    out = np.zeros_like(q)
    for k in range(len(q)):
        d.qpos[:], d.qvel[:], d.qacc[:] = q[k], qd[k], qdd[k]
        mujoco.mj_inverse(m, d)
        out[k] = d.qfrc_inverse
        if wrenches:
            ext = np.zeros(m.nv)
            for name, force, point in wrenches:
                bid = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, name)
                mujoco.mj_applyFT(m, d, force[k], np.zeros(3), point[k], bid, ext)
            out[k] -= ext
    return out


def mj_poses(m, q):
    d = mujoco.MjData(m)
    pos, mat = [], []
    for k in range(len(q)):
        d.qpos[:] = q[k]
        mujoco.mj_kinematics(m, d)
        pos.append(d.xpos[1:].copy())
        mat.append(d.xmat[1:].reshape(-1, 3, 3).copy())
    return np.array(pos), np.array(mat)
