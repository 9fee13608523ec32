"""Forward kinematics against MuJoCo's mj_kinematics on the exported model."""

import numpy as np
import pytest
import torch

from musclepose.body import COCO17, MEDIAPIPE33, PLUG_IN_GAIT, forward_kinematics

from ._mujoco_ref import mj_poses, model_of, random_states


def test_segment_poses_equal_mujoco(body):
    m = model_of(body)
    q, _, _ = random_states(body, 50, seed=1)
    q[:, :3] += np.array([3.0, 1.0, -2.0])
    pos, mat = mj_poses(m, q)
    fk = forward_kinematics(body, torch.tensor(q))
    np.testing.assert_allclose(fk.origins.numpy(), pos, atol=1e-12)
    np.testing.assert_allclose(fk.rotations.numpy(), mat, atol=1e-12)


def test_any_leading_shape_and_float32(body):
    q, _, _ = random_states(body, 12, seed=2)
    q64 = torch.tensor(q).reshape(3, 4, 47)
    fk = forward_kinematics(body, q64)
    assert fk.rotations.shape == (3, 4, 18, 3, 3) and fk.landmarks.shape[:2] == (3, 4)
    fk32 = forward_kinematics(body, q64.float())
    assert fk32.origins.dtype == torch.float32
    np.testing.assert_allclose(fk32.landmarks.numpy(), fk.landmarks.numpy(), atol=2e-6)


def test_landmark_sets(body):
    for names in (COCO17, MEDIAPIPE33, PLUG_IN_GAIT):
        assert len(body.landmark_indices(names)) == len(names)
    assert len(COCO17) == 17 and len(MEDIAPIPE33) == 33
    with pytest.raises(KeyError, match="unknown landmark set"):
        body.landmark_indices("openpose25")


def test_neutral_pose_geometry(body):
    fk = forward_kinematics(body, body.neutral_q())
    lm = dict(zip(body.landmark_names, fk.landmarks.numpy(), strict=True))
    # Feet on the floor, heels at y = 0; the body is left-right symmetric.
    assert lm["right_heel"][1] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(lm["left_knee"] * [1, 1, -1], lm["right_knee"], atol=1e-12)
    # Joint keypoints sit at Winter's (2009) stature fractions: knee 0.285 H, shoulder ~0.79 H.
    assert lm["right_knee"][1] / body.height_m == pytest.approx(0.285, abs=0.002)
    assert lm["right_shoulder"][1] / body.height_m == pytest.approx(0.79, abs=0.01)
    # The nose is in front of the ears, the right side at +Z.
    assert lm["nose"][0] > lm["right_ear"][0] and lm["right_ear"][2] > 0 > lm["left_ear"][2]


def test_named_dofs_move_the_right_way(body):
    fk0 = forward_kinematics(body, body.neutral_q())
    idx = {n: i for i, n in enumerate(body.landmark_names)}

    def moved(dof, deg, landmark):
        q = body.neutral_q()
        q[body.dof_index(dof)] = np.radians(deg)
        fk = forward_kinematics(body, q)
        return (fk.landmarks[idx[landmark]] - fk0.landmarks[idx[landmark]]).numpy()

    assert moved("hip_flexion_r", 30, "right_ankle")[0] > 0.1  # foot swings forward
    assert moved("knee_flexion_r", 60, "right_ankle")[0] < -0.1  # shank swings back
    assert moved("hip_adduction_r", 20, "right_ankle")[2] < -0.05  # toward the midline
    assert moved("hip_adduction_l", 20, "left_ankle")[2] > 0.05
    assert moved("shoulder_abduction_l", 45, "left_wrist")[2] < -0.1  # out to the left
    assert moved("ankle_dorsiflexion_r", 20, "right_foot_index")[1] > 0.02  # toes up
    assert moved("lumbar_flexion", 30, "nose")[0] > 0.1  # trunk bends forward


def test_root_axes_equal_the_joint_axes_of_the_root(body):
    from musclepose.body.kinematics import joint_rotations, root_axes

    q = torch.randn(50, body.n_dof, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    bt = body.tensors(q.dtype, q.device)
    assert torch.allclose(root_axes(bt, q), joint_rotations(bt, q)[1][:, 0], atol=1e-14)
