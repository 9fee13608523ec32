"""The seven channels against poses whose answers follow from the skeleton's geometry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musclepose.motion.core import Motion
from musclepose.signals.channels import CHANNEL_NAMES, channels_array, channels_from_clip, compute_channels


def _pose(body, **deg) -> torch.Tensor:
    q = body.neutral_q().clone()
    for name, value in deg.items():
        q[body.dof_index(name)] = np.radians(value)
    return q


def _channels(body, *poses) -> dict[str, np.ndarray]:
    return compute_channels(Motion(torch.stack(poses), 30.0, body))


def test_neutral_standing_pose(body):
    ch = _channels(body, body.neutral_q())
    L = body.lengths
    assert list(ch) == list(CHANNEL_NAMES)
    assert ch["legs_trajectory"][0] == pytest.approx(L["thigh"] + L["shank"] + L["ankle_height"])
    # Arms hang: the wrists are an upper arm and a forearm below the shoulder joint centres.
    shoulder_y = body.lengths["thigh"] + L["shank"] + L["ankle_height"] + L["pelvis"]
    assert 0.6 < ch["trajectory"][0] < shoulder_y
    for name in ("shoulder_trajectory", "back_trajectory", "knee_angle_trajectory", "arm_Trajectory", "core_"):
        assert abs(ch[name][0]) < 1e-9, name


def test_joint_angle_channels_equal_the_hinge_dofs_and_average_sides(body):
    q = _pose(body, knee_flexion_r=70, knee_flexion_l=50, elbow_flexion_r=100, elbow_flexion_l=80, elbow_pronation_r=60)
    ch = _channels(body, q)
    assert ch["knee_angle_trajectory"][0] == pytest.approx(60.0)
    assert ch["arm_Trajectory"][0] == pytest.approx(90.0)  # pronation does not move the forearm axis


@pytest.mark.parametrize(
    ("pose", "expected"),
    [
        ({"shoulder_flexion_r": 90, "shoulder_flexion_l": 90}, 90.0),
        ({"shoulder_flexion_r": 170, "shoulder_flexion_l": 150}, 160.0),
        ({"shoulder_abduction_r": 170, "shoulder_abduction_l": 170}, 170.0),  # side raise: still defined
        ({"shoulder_flexion_r": 60}, 30.0),
    ],
)
def test_shoulder_elevation(body, pose, expected):
    assert _channels(body, _pose(body, **pose))["shoulder_trajectory"][0] == pytest.approx(expected)


def test_trunk_inclination_and_core_angle(body):
    # Whole body pitched forward 20 deg about the pelvis (pelvis_tilt about +Z tilts backward).
    lean = _channels(body, _pose(body, pelvis_tilt=-20))
    assert lean["back_trajectory"][0] == pytest.approx(20.0)
    assert lean["core_"][0] == pytest.approx(0.0, abs=1e-9)
    # Spine flexed 30 (lumbar) + 15 (thoracic) deg with the pelvis upright.
    bend = _channels(body, _pose(body, lumbar_flexion=30, thoracic_flexion=15))
    assert bend["back_trajectory"][0] == pytest.approx(45.0)
    assert bend["core_"][0] == pytest.approx(45.0)
    side = _channels(body, _pose(body, lumbar_bending=20, thoracic_bending=10))
    assert side["core_"][0] == pytest.approx(30.0)


def test_squat_pose_lowers_hips_and_hands(body):
    stand = body.neutral_q()
    squat = _pose(body, hip_flexion_r=90, hip_flexion_l=90, knee_flexion_r=90, knee_flexion_l=90)
    squat[1] -= body.lengths["thigh"]  # thighs horizontal, shanks vertical: the hips drop one thigh
    ch = _channels(body, stand, squat)
    drop = ch["legs_trajectory"][0] - ch["legs_trajectory"][1]
    assert drop == pytest.approx(body.lengths["thigh"])
    assert ch["trajectory"][0] - ch["trajectory"][1] == pytest.approx(drop)


def test_clip_dict_and_array_forms(body):
    q = torch.stack([_pose(body, knee_flexion_r=a, knee_flexion_l=a) for a in (0, 30, 60)])
    m = Motion(q, 10.0, body)
    arr = channels_array(m)
    assert arr.shape == (3, 7)
    np.testing.assert_allclose(arr[:, 4], [0, 30, 60], atol=1e-9)
    clip = {n: arr[:, i].tolist() for i, n in enumerate(CHANNEL_NAMES)} | {"fps": 10}
    back, fps = channels_from_clip(clip)
    np.testing.assert_allclose(back, arr)
    assert fps == 10.0
    with pytest.raises(KeyError, match="core_"):
        channels_from_clip({k: v for k, v in clip.items() if k != "core_"})


def test_channel_names_match_the_clip_schema():
    # signals and io are sibling layers that cannot import each other; they must agree.
    from musclepose.io.clip import CLIP_CHANNELS
    from musclepose.signals import CHANNEL_NAMES

    assert tuple(CHANNEL_NAMES) == tuple(CLIP_CHANNELS)
