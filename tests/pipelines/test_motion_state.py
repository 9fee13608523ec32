"""The MotionNN codecs: states decode back to the frames they came from."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musclepose.body.rotations import axis_angle_to_matrix
from musclepose.io import cmu_prediction as cmu
from musclepose.pipelines.motion_state import BodyCodec, CMUCodec


def test_cmu_codec_round_trip_on_the_scored_joints(refdata):
    rows = cmu.read_cmu_prediction(refdata("mocap/cmu_prediction/train/walking/walking_1.txt"))[1::2]
    c = CMUCodec()
    s = c.encode(rows)
    assert s.shape == (len(rows), 156)
    back = c.decode(s, rows[-1])
    r0 = axis_angle_to_matrix(torch.as_tensor(rows[:, 3:].reshape(len(rows), 38, 3)))[:, cmu.USED_JOINTS]
    r1 = axis_angle_to_matrix(torch.as_tensor(back[:, 3:].reshape(len(rows), 38, 3)))[:, cmu.USED_JOINTS]
    torch.testing.assert_close(r1, r0, atol=1e-5, rtol=0)
    others = np.setdiff1d(np.arange(117), cmu.DIM_TO_USE)
    np.testing.assert_array_equal(back[:, others], np.broadcast_to(rows[-1, others], back[:, others].shape))


@pytest.fixture(scope="module")
def squat():
    from musclepose.sim.exercises import generate

    return generate("squat", rng=0).resampled(30.0)


def test_body_codec_round_trip(squat):
    c = BodyCodec()
    q = squat.q.numpy()
    s = c.encode(q, squat.fps, squat.body)
    assert s.shape == (len(q), 115)
    back = c.decode(s[1:], q[0], squat.fps).numpy()
    np.testing.assert_allclose(back, q[1:], atol=1e-5)


def test_body_codec_contacts_follow_planted_feet(squat):
    s = BodyCodec().encode(squat.q.numpy(), squat.fps, squat.body)
    assert s[:, 113:].min() > 0.9  # a squat keeps both feet on the floor
    lifted = squat.q.numpy().copy()
    lifted[:, 1] += 0.3  # the whole body 30 cm up: no contact
    s2 = BodyCodec().encode(lifted, squat.fps, squat.body)
    assert s2[:, 113:].max() < 0.05


def test_body_codec_contacts_equal_foot_contact_on_a_jump():
    # The codec's numpy feet (used every streaming step) against musclepose.body.contact: the same
    # sole points, and the same contact weights where the speeds agree (backward differences here).
    from musclepose.body.contact import foot_contact, sole_points
    from musclepose.body.model import JOINT_EULER_SIGNS
    from musclepose.pipelines.motion_state import _EULER_INDEX, _soles, _zxy
    from musclepose.sim.exercises import generate

    m = generate("jumping_jack", rng=2).resampled(100.0)
    q = m.q.numpy()
    joints = _zxy(np.concatenate([q, np.zeros((len(q), 1))], axis=1)[:, _EULER_INDEX] * JOINT_EULER_SIGNS)
    np.testing.assert_allclose(_soles(m.body, q, joints), sole_points(m.body, m.q).numpy(), atol=1e-12)
    ours = BodyCodec().encode(q, m.fps, m.body)[:, 113:].numpy()
    qd = torch.as_tensor(np.gradient(q, 1 / m.fps, axis=0))
    ref = foot_contact(m.body, m.q, qd, floor_y=0.0).weight.numpy()
    assert np.abs(ours - ref).mean() < 0.02 and ours.min() < 0.1 and ours.max() > 0.9  # flight and stance
