"""References a body cannot follow are refused with the frame named; a real squat stands on the floor."""

import numpy as np
import pytest
import torch

from musclepose.control.env import standing_motion
from musclepose.control.reference import check_reference, prepare_reference, sole_heights
from musclepose.motion import Motion


def _stand(body, seconds=3.0, fps=30.0) -> np.ndarray:
    return standing_motion(body, seconds, fps).q.numpy().copy()


def test_standing_passes_and_stands_on_the_floor(body):
    m = standing_motion(body, 2.0)
    assert check_reference(m) == {}
    ref = prepare_reference(m, 0.002)
    # neutral_q puts the soles at y = 0 by construction (thigh + shank + ankle height)
    assert ref.ground_shift_m == pytest.approx(0.0, abs=1e-9)
    assert ref.q.shape == (1001, 47) and np.abs(ref.qd).max() < 1e-9


def test_a_teleporting_root_is_refused(body):
    q = _stand(body)
    q[40:, 0] += 1.0  # one metre sideways between two frames at 30 Hz: 30 m/s
    with pytest.raises(ValueError, match=r"frames 39-40: .*teleports"):
        check_reference(Motion(torch.as_tensor(q), 30.0, body))


def test_floating_feet_are_refused_but_a_jump_is_not(body):
    q = _stand(body, seconds=4.0)
    jump = q.copy()
    jump[30:45, 1] += 0.4  # 0.5 s in the air: a jump
    assert check_reference(Motion(torch.as_tensor(jump), 30.0, body)) == {}
    q[30:80, 1] += 0.4  # 1.7 s in the air
    with pytest.raises(ValueError, match=r"frames 30-79: .*floats"):
        check_reference(Motion(torch.as_tensor(q), 30.0, body))


def test_joints_past_their_range_are_listed(body):
    q = _stand(body)
    i = body.dof_index("knee_flexion_r")
    q[:, i] = body.dof_upper[i] + np.radians(30.0)
    beyond = check_reference(Motion(torch.as_tensor(q), 30.0, body))
    assert list(beyond) == ["knee_flexion_r"] and beyond["knee_flexion_r"] == pytest.approx(30.0)


def test_real_squat_is_put_on_the_floor(refdata):
    from musclepose.io import load_motion

    m = load_motion(refdata("mocap/addbiomechanics_expert1/squats1.mot"))[0:100]
    ref = prepare_reference(m, 0.002)
    heights = sole_heights(m.body, ref.q[::5])
    assert abs(np.median(heights)) < 0.005  # feet flat on the floor throughout a squat
