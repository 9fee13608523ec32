"""The analysis pipeline: a file -> a typed ClipResult (motion or channels only), kinetics on request.

Independent reference: the generator's own repetitions and depth (3 squats to 100 deg knee
flexion) and, for the channels-only clip, the channels that were written to the file.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musclepose.body import Body
from musclepose.io.clip import Clip, write_clip
from musclepose.io.opensim import write_table
from musclepose.io.opensim.coords import opensim_from_motion
from musclepose.pipelines import ClipResult, analyze_file
from musclepose.signals import compute_channels
from musclepose.sim import generate


@pytest.fixture(scope="module")
def squat():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield generate("squat", Body.standard(1.75, 70.0, "male"), {"reps": 3, "depth_deg": 100.0, "fps": 50.0})
    torch.set_num_threads(n)


def test_a_clip_json_gives_a_channels_only_result(squat, tmp_path):
    channels = compute_channels(squat)
    path = tmp_path / "squat_clip.json"
    write_clip(path, Clip(channels=channels, fps=squat.fps, exercise="squat"))
    stages = []
    r = analyze_file(path, mass_kg=80.0, progress=stages.append)
    assert isinstance(r, ClipResult) and r.kind == "clip" and r.motion is None and r.kinetics is None
    assert r.n_frames == squat.n_frames and r.fps == squat.fps and r.path == path and r.body.mass_kg == 80.0
    for name, values in channels.items():
        np.testing.assert_allclose(r.channels[name], values, atol=1e-9)
    assert r.analysis.n_reps == 3 and r.analysis.exercise == "squat"
    assert all(abs(rep.depth_knee_flexion_deg - 100.0) < 1.0 for rep in r.analysis.reps)
    assert stages == ["analysing channels"] and r.faults is None


def test_a_recording_gives_motion_kinetics_and_loader_choices(squat, tmp_path):
    cols = opensim_from_motion(squat, degrees=True)
    path = tmp_path / "squat.mot"
    write_table(path, list(cols), np.stack(list(cols.values()), axis=1), in_degrees=True, name="squat")
    r = analyze_file(path, "squat")
    assert r.kind == "motion" and r.n_frames == squat.n_frames and r.fps == pytest.approx(squat.fps)
    assert r.kinetics is not None and r.kinetics.source == "estimated" and r.analysis.kinetics_source == "estimated"
    assert r.analysis.n_reps == 3 and all(abs(rep.depth_knee_flexion_deg - 100.0) < 1.0 for rep in r.analysis.reps)
    assert r.channels is r.analysis.channels and r.body is r.motion.body and r.loader
    assert analyze_file(path, "squat", kinetics=False).kinetics is None


def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.trc: no such file"):
        analyze_file(tmp_path / "missing.trc")
