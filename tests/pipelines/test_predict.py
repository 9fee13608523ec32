"""Running MotionNN: the streaming API agrees with batched rollouts; a recording is continued."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musclepose.io import cmu_prediction as cmu
from musclepose.models.motion_nn import MotionNN, MotionNNConfig
from musclepose.pipelines.motion_state import BodyCodec, CMUCodec
from musclepose.pipelines.predict import MotionPredictor, predict_motion


def _random_model(codec, fps: float, window: int = 10) -> MotionNN:
    torch.manual_seed(0)
    m = MotionNN(MotionNNConfig(n_rot=codec.n_rot, n_extra=codec.n_extra, n_contact=codec.n_contact,
                                window=window, recent=3, n_basis=4, hidden=16, context=8, fps=fps))  # fmt: skip
    for p in (m.out.weight, m.ar.weight):
        torch.nn.init.normal_(p, std=0.02)
    return m


@pytest.fixture(scope="module")
def rows(refdata):
    return cmu.read_cmu_prediction(refdata("mocap/cmu_prediction/train/jumping/jumping_1.txt"))[1::2]


def test_streaming_steps_equal_one_step_predictions(rows):
    codec = CMUCodec()
    pred = MotionPredictor(_random_model(codec, 60.0), codec)
    streamed = [pred.step(r) for r in rows[:20]]
    for t in (12, 19):  # once the window is full: the step after frame t from the last 10 frames
        batch = pred(rows[t - 9 : t + 1], 1)[0]
        np.testing.assert_allclose(streamed[t], batch, atol=1e-5)
    pred.reset()
    np.testing.assert_array_equal(pred.step(rows[0]), rows[0])  # no velocity yet: repeats the frame


def test_streaming_rejects_a_frame_of_the_wrong_size(rows):
    pred = MotionPredictor(_random_model(CMUCodec(), 60.0), CMUCodec())
    with pytest.raises(ValueError, match=r"\(117,\)"):
        pred.step(rows[0, :50])


def test_a_recording_is_continued_at_the_model_rate():
    from musclepose.sim.exercises import generate

    motion = generate("squat", rng=1)  # 100 Hz
    model = MotionPredictor(_random_model(BodyCodec(), 30.0, window=30), BodyCodec())
    res = predict_motion(motion, 1.0, model)
    assert res.observed.fps == 30.0 and res.predicted.n_frames == 30
    assert torch.isfinite(res.predicted.q).all()
    cont = res.continued
    assert cont.n_frames == res.observed.n_frames + 30
    # The continuation starts where the recording ends (one frame of motion away, not a jump).
    step = (res.predicted.q[0] - res.observed.q[-1]).abs()[6:].max()
    assert step < 0.2


def test_shipped_benchmark_model_beats_zero_velocity_on_held_out_files(refdata):
    """The shipped ``cmu`` model on the benchmark's 8 windows of each action's ``_1`` file, which its
    model card shows it never trained or validated on, against zero velocity at every horizon."""
    import hashlib
    from pathlib import Path

    from musclepose.evaluation.rollout import evaluate_benchmark, zero_velocity
    from musclepose.pipelines.predict import default_checkpoint

    if not (default_checkpoint("cmu") / "config.json").is_file():
        pytest.skip("no shipped cmu motion model")
    model = MotionPredictor.load(kind="cmu")
    seen = [Path(d["file"]).name for part in ("train", "val") for d in model.extra["data"][part]]
    assert seen and not any(n.endswith("_1.txt") for n in seen)
    folder = refdata("mocap/cmu_prediction/train")
    for d in model.extra["data"]["train"]:  # the model card's hashes are those of the reference files
        f = folder / Path(d["file"]).parent.name / Path(d["file"]).name
        assert hashlib.sha256(f.read_bytes()).hexdigest() == d["sha256"], f
    r = evaluate_benchmark(folder, {"model": model, "zero_velocity": zero_velocity})
    for action, a in r["per_action"].items():
        m, z = np.asarray(a["mean_angle_error"]["model"]), np.asarray(a["mean_angle_error"]["zero_velocity"])
        assert (m < z).all(), (action, m, z)


def test_shipped_body_model_records_its_data_and_continues_a_motion():
    from musclepose.pipelines.predict import default_checkpoint
    from musclepose.sim.exercises import generate

    if not (default_checkpoint("body") / "config.json").is_file():
        pytest.skip("no shipped body motion model")
    model = MotionPredictor.load(kind="body")
    assert model.extra["command"].startswith("musclepose train motion") and model.extra["data_command"]
    assert all(len(d["sha256"]) == 64 for d in model.extra["data"]["train"])
    res = predict_motion(generate("squat", rng=1), 1.0, model)
    assert res.predicted.n_frames == 30 and torch.isfinite(res.predicted.q).all()
    step = (res.predicted.q[0] - res.observed.q[-1]).abs()[6:].max()
    assert step < 0.2


def _standing(body, n: int, height: float) -> np.ndarray:
    """``n`` frames of the neutral pose with the lowest sole point ``height`` above the floor."""
    from musclepose.body.contact import sole_points

    q = np.tile(body.neutral_q().numpy(), (n, 1))
    low = float(sole_points(body, torch.as_tensor(q[:1]))[..., 1].min())
    q[:, 1] += height - low
    return q


def test_planting_holds_a_sliding_stance_foot_and_keeps_flight_and_angles(body):
    """A body gliding over the floor at 1 m/s with its feet on it is held where it stands; the same
    glide 10 cm above the floor (flight) keeps its velocity; sunk 1 cm, it is raised to the floor."""
    from musclepose.body.contact import sole_points
    from musclepose.pipelines.predict import plant_stance_foot

    n, fps = 31, 30.0
    glide = np.arange(n + 1) / fps * 1.0
    stand = _standing(body, n + 1, 0.0)
    stand[:, 0] += glide
    planted = plant_stance_foot(body, stand[0], stand[1:])
    np.testing.assert_allclose(planted[:, 0], stand[0, 0], atol=1e-9)  # the glide is gone
    np.testing.assert_allclose(planted[:, 3:], stand[1:, 3:])  # angles untouched
    fly = _standing(body, n + 1, 0.10)
    fly[:, 0] += glide
    np.testing.assert_allclose(plant_stance_foot(body, fly[0], fly[1:]), fly[1:])
    sunk = _standing(body, n + 1, -0.01)
    lifted = plant_stance_foot(body, sunk[0], sunk[1:])
    low = sole_points(body, torch.as_tensor(lifted))[..., 1].amin(dim=(-1, -2))
    np.testing.assert_allclose(low.numpy(), 0.0, atol=1e-9)
