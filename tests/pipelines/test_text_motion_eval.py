"""The text<->motion evaluator: its checkpoint round trip, and the shipped one telling motions apart."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musclepose.models.text_motion_eval import UNK, TextMotionEvalConfig, TextMotionEvaluator
from musclepose.pipelines.motion_features import FeatureStats
from musclepose.pipelines.text_motion_eval import DEFAULT_EVALUATOR, FPS, TextMotionEval, evaluator_features
from musclepose.training.checkpoint import save_checkpoint
from musclepose.training.text_motion_data import render_truth, still_motion

TEXTS = [
    "five slow squats",
    "eight push ups",
    "three jumping jacks",
    "six bicep curls",
    "four deadlifts, rounded back",
    "seven lunges",
    "two shoulder shrugs",
    "five overhead presses",
]


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = TextMotionEvaluator(TextMotionEvalConfig(vocab=["squats", "five"], hidden=16, embed_dim=8)).eval()
    rng = np.random.default_rng(0)
    feats = [rng.normal(size=(n, 115)).astype(np.float32) for n in (40, 64)]
    stats = FeatureStats(np.zeros(115), np.ones(115))
    save_checkpoint(tmp_path / "ev", {"evaluator": model}, {"features": {"fps": FPS, **stats.to_json()}})
    ev = TextMotionEval.load(tmp_path / "ev")
    assert ev.model.config.vocab == ["squats", "five"]
    assert ev.model.tokenize(["five squats, please"]).tolist() == [[3, 2, UNK]]
    direct = TextMotionEvaluator.embed_motion(model, torch.as_tensor(np.stack([feats[0][:40], feats[1][:40]])),
                                              torch.tensor([40, 40]))  # fmt: skip
    np.testing.assert_allclose(ev.embed_features([f[:40] for f in feats]), direct.detach().numpy(), atol=1e-6)
    emb = ev.embed_texts(["five squats", "something else"])
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-6)


@pytest.mark.skipif(not (DEFAULT_EVALUATOR / "config.json").is_file(), reason="no shipped evaluator")
def test_shipped_evaluator_finds_the_real_motion_not_a_still_one():
    ev = TextMotionEval.load()
    real = [render_truth(t, np.random.default_rng([99, i])) for i, t in enumerate(TEXTS)]
    t = ev.embed_texts(TEXTS)
    m_real = ev.embed_features([evaluator_features(m) for m in real])
    m_still = ev.embed_features([evaluator_features(still_motion(m)) for m in real])
    d_real = np.linalg.norm(m_real[:, None] - t[None], axis=-1)  # (motion, text)
    top1_real = float((d_real.argmin(1) == np.arange(len(TEXTS))).mean())
    top1_still = float((np.linalg.norm(m_still[:, None] - t[None], axis=-1).argmin(1) == np.arange(len(TEXTS))).mean())
    # A held first frame still shows some exercises' start posture (a plank, a hinge), so "still"
    # retrieves above chance (1/8), but far below the moving motion.
    assert top1_real >= 0.875 and top1_still <= 0.5, (top1_real, top1_still)
    assert np.diag(d_real).mean() < np.linalg.norm(m_still - t, axis=1).mean()
