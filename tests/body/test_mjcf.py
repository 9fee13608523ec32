"""The MJCF export loads in MuJoCo with qpos == q and the body's own parameters."""

import mujoco
import numpy as np

from musclepose.body import Body


def test_mjcf_structure_matches_body():
    body = Body.standard(1.62, 55.0, "female")
    m = mujoco.MjModel.from_xml_string(body.to_mjcf())
    assert m.nq == m.nv == 47
    names = [mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, j) for j in range(m.njnt)]
    assert names == list(body.dof_names)
    assert mujoco.mj_getTotalmass(m) == np_approx(55.0)
    np.testing.assert_allclose(m.body_mass[1:], body.masses, rtol=1e-9)
    np.testing.assert_allclose(m.opt.gravity, [0, -9.81, 0])
    limited = m.jnt_limited.astype(bool)
    np.testing.assert_allclose(m.jnt_range[limited, 0], body.dof_lower[limited], atol=1e-9)
    np.testing.assert_allclose(m.jnt_range[limited, 1], body.dof_upper[limited], atol=1e-9)
    assert not limited[:6].any()  # the floating base is free


def np_approx(x):
    import pytest

    return pytest.approx(x, rel=1e-9)
