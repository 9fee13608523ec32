"""HumanML3D's text->motion metrics against hand-computed and analytic cases."""

from __future__ import annotations

import numpy as np
import pytest

from musclepose.evaluation.text_motion import diversity, fid, mm_distance, multimodality, r_precision, score


def test_r_precision_hand_case():
    # 1-D embeddings: texts at 0, 1, 2, 3. Motion 0 at 0.1 is nearest its own text; motion 1 at 1.6
    # is nearer text 2 (0.4) than its own (0.6); motion 2 at 2.0 is on its own; motion 3 at 0.9 has
    # its own text farthest (2.1 vs 0.1, 0.9, 1.1). Ranks 0, 1, 0, 3.
    text = np.array([[0.0], [1.0], [2.0], [3.0]])
    motion = np.array([[0.1], [1.6], [2.0], [0.9]])
    np.testing.assert_allclose(r_precision(text, motion, top_k=4, batch_size=4, repeats=3), [0.5, 0.75, 0.75, 1.0])


def test_r_precision_ties_count_once():
    # The same text twice in a batch: equally near, so one of the two motions misses top-1.
    text = np.array([[0.0], [0.0], [5.0], [9.0]])
    assert r_precision(text, text.copy(), top_k=2, batch_size=4, repeats=5).tolist() == [0.75, 1.0]


def test_r_precision_chance_on_unrelated_embeddings():
    rng = np.random.default_rng(0)
    text, motion = rng.normal(size=(640, 16)), rng.normal(size=(640, 16))
    np.testing.assert_allclose(r_precision(text, motion, repeats=10), [1 / 32, 2 / 32, 3 / 32], atol=0.012)


def test_r_precision_refuses_unpaired_sets():
    with pytest.raises(ValueError, match="pair up"):
        r_precision(np.zeros((32, 4)), np.zeros((31, 4)))
    with pytest.raises(ValueError, match="fewer than one batch"):
        r_precision(np.zeros((8, 4)), np.zeros((8, 4)))


def test_fid_identical_sets_is_zero_and_shift_is_squared_distance():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6))
    assert abs(fid(a, a)) < 1e-8
    shift = np.array([0.3, -0.2, 0.0, 1.0, 0.5, 0.1])
    # Same covariance: the trace term vanishes, leaving |shift|^2 exactly.
    assert fid(a, a + shift) == pytest.approx(float(shift @ shift), abs=1e-8)


def test_fid_of_a_scaled_set_is_analytic():
    # b = k a: mean k mu, covariance k^2 S, (S k^2 S)^(1/2) = k S, so FID = (1 - k)^2 (|mu|^2 + tr S).
    rng = np.random.default_rng(2)
    a = rng.normal(size=(400, 5)) * [1.0, 2.0, 0.5, 1.5, 0.2] + [1.0, 0.0, -1.0, 0.5, 2.0]
    k = 1.7
    expected = (1 - k) ** 2 * (float(a.mean(0) @ a.mean(0)) + float(np.trace(np.cov(a, rowvar=False))))
    assert fid(a, k * a) == pytest.approx(expected, rel=1e-9)


def test_distances():
    text = np.array([[0.0, 0.0], [1.0, 0.0]])
    motion = np.array([[3.0, 4.0], [1.0, 1.0]])
    assert mm_distance(text, motion) == pytest.approx((5.0 + 1.0) / 2)
    # Two points 5 apart: a random pair is the same point or the two, so the mean is 5 x (share of mixed pairs).
    pts = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert diversity(pts, pairs=20_000) == pytest.approx(2.5, abs=0.1)
    groups = np.stack([np.zeros((4, 3)), np.ones((4, 3))])
    assert multimodality(groups) == 0.0
    spread = np.array([[[0.0], [2.0]]])  # one text, two motions 2 apart
    assert multimodality(spread, pairs=20_000) == pytest.approx(1.0, abs=0.05)


def test_score_ranks_a_matching_set_above_a_shuffled_one():
    rng = np.random.default_rng(3)
    text = rng.normal(size=(64, 8))
    good = text + 0.05 * rng.normal(size=text.shape)
    s_good, s_bad = score(text, good, good), score(text, good[rng.permutation(64)], good)
    assert s_good.r_precision[2] > 0.95 > 0.3 > s_bad.r_precision[2]
    assert abs(s_bad.fid) < 1e-8  # the same set in another order: the same distribution
