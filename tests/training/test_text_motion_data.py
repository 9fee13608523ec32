"""The evaluator's synthetic pairs: texts that read back as composed, motions that do what the text asks."""

from __future__ import annotations

import numpy as np

from musclepose.language.motion_request import parse_request
from musclepose.training.text_motion_data import REPS, render_truth, sample_text, still_motion
from musclepose.training.text_motion_eval import PairSet, build_pairs


def test_sampled_texts_read_back_as_composed():
    rng = np.random.default_rng(0)
    for _ in range(60):
        text, spec = sample_text(rng)
        r = parse_request(text)
        assert (r.exercise, r.reps, r.tempo) == (spec.exercise, spec.reps, spec.tempo), text
        assert set(r.faults) == ({spec.fault} if spec.fault else set()), text


def test_ground_truth_has_the_asked_repetitions_and_fault():
    rng = np.random.default_rng(5)
    seen = 0
    while seen < 4:
        text, spec = sample_text(rng)
        if spec.reps is None:
            continue
        m = render_truth(text, rng)
        # The engine's own record of what it made, independent of the text reader.
        assert len(m.metadata["reps"]) == spec.reps, text
        assert set(m.metadata["faults"]) == ({spec.fault} if spec.fault else set()), text
        seen += 1
    counts = {len(render_truth("squats", np.random.default_rng(i)).metadata["reps"]) for i in range(6)}
    assert counts <= set(range(REPS[0], REPS[1] + 1)) and len(counts) > 1  # a count not asked is drawn


def test_two_draws_differ_in_subject_and_still_motion_holds_the_first_frame():
    a = render_truth("five slow squats", np.random.default_rng(1))
    b = render_truth("five slow squats", np.random.default_rng(2))
    assert a.body.height_m != b.body.height_m
    s = still_motion(a)
    assert s.n_frames == a.n_frames and float((s.q - a.q[0]).abs().max()) == 0.0


def test_pair_set_round_trips(tmp_path):
    pairs = build_pairs(3, seed=7)
    pairs.save(tmp_path / "p.npz")
    back = PairSet.load(tmp_path / "p.npz")
    assert back.texts == pairs.texts and back.specs == pairs.specs
    for f, g in zip(pairs.feats, back.feats, strict=True):
        np.testing.assert_array_equal(f, g)
