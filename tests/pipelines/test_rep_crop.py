"""A repetition's fault measures on its own frames equal those on the whole recording (the cut
makes a long recording cost repetitions, not repetitions x frames)."""

from __future__ import annotations

import numpy as np
import pytest

from musclepose.pipelines.form_real import crop_to_rep
from musclepose.pipelines.form_screen import fault_measures
from musclepose.signals import analyze_motion
from musclepose.sim.exercises.generate import generate


@pytest.mark.parametrize(
    ("exercise", "faults"),
    [
        ("squat", {"knee_valgus": 0.8, "heel_lift": 0.7}),
        ("lunge", {"forward_lean": 0.6}),
        ("push_up", {"hip_sag": 0.7}),
    ],
)
def test_measures_on_the_cut_equal_those_on_the_whole_recording(exercise, faults):
    motion = generate(exercise, faults=faults, rng=3)
    analysis = analyze_motion(motion, exercise=exercise).to_dict()
    assert len(analysis["reps"]) >= 3
    for rep in analysis["reps"]:
        whole = fault_measures(motion, exercise, {**analysis, "reps": [rep]})
        crop, moved = crop_to_rep(motion, rep)
        assert crop.n_frames < 0.5 * motion.n_frames
        cut = fault_measures(crop, exercise, {**analysis, "reps": [moved]})
        assert whole.keys() == cut.keys()
        for name in whole:
            np.testing.assert_allclose(cut[name], whole[name], rtol=1e-5, atol=1e-6, err_msg=name)
