"""The in-betweener's trainer: both kinds fit, the checkpoint saves and loads, val picks, slerp is the floor."""

from __future__ import annotations

import json

import numpy as np
import pytest

from musclepose.body import Body
from musclepose.pipelines.inbetween import Inbetweener
from musclepose.training.inbetween import InbetweenTrainConfig, TrainClip, train_inbetween


def _clips(k: int, seed: int) -> list[TrainClip]:
    """Smooth random motions of a standing body (sums of slow sines on every angle)."""
    rng = np.random.default_rng(seed)
    body = Body.standard()
    t = np.arange(60)[:, None] / 20.0
    out = []
    for i in range(k):
        q = body.neutral_q().double().numpy()[None].repeat(60, 0)
        q[:, 3:] += 0.3 * np.sin(2 * np.pi * rng.uniform(0.2, 0.8, 44) * t + rng.uniform(0, 6, 44))
        q[:, 0] += 0.8 * t[:, 0]
        out.append(TrainClip(f"clip{i}", q, body))
    return out


@pytest.mark.parametrize("kind", ["linear", "transformer"])
def test_train_saves_a_checkpoint_that_loads(tmp_path, kind):
    cfg = InbetweenTrainConfig(
        out=str(tmp_path / kind), kind=kind, ridges=(1.0, 100.0), windows_per_gap=8, widths=(16,), depth=1,
        steps=3, batch_size=4, val_every=3, max_gap=8, min_gap=2, context=6, val_gaps=(4, 8),
    )  # fmt: skip
    summary = train_inbetween(cfg, log=lambda *_: None, clips=(_clips(4, 0), _clips(2, 1)))
    assert len(summary["sweep"]) == (2 if kind == "linear" else 1)
    chosen = summary["chosen"]
    assert chosen["val_mpjpe_mm"] == min(r["val_mpjpe_mm"] for r in summary["sweep"])
    if kind == "transformer":  # step 0 is slerp: the kept state is never worse than slerp on val
        assert chosen["val_mpjpe_mm"] <= chosen["val_slerp_mpjpe_mm"] + 1e-9
    model = Inbetweener.from_pretrained(tmp_path / kind)
    assert model.context == 6 and model.fps == 20.0
    saved = json.loads((tmp_path / kind / "config.json").read_text())["extra"]
    assert saved["train"]["kind"] == kind and saved["features"]["fps"] == 20.0
