"""Training MotionNN: the curriculum learns a motion better than zero velocity; mirroring; the model card."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from musclepose.io import cmu_prediction as cmu
from musclepose.io.errors import FormatError
from musclepose.pipelines.predict import MotionPredictor
from musclepose.training.motion import MotionTrainConfig, mirror_rows, train_motion


def _swinging(n: int, phase: float) -> np.ndarray:
    """Benchmark rows (120 Hz) in which every scored joint swings at 1 Hz, each with its own amplitude."""
    rows = np.zeros((n, cmu.N_COLUMNS))
    t = np.arange(n) / cmu.FILE_FPS
    amp = 0.2 + 0.3 * np.linspace(0, 1, len(cmu.DIM_TO_USE))
    rows[:, cmu.DIM_TO_USE] = amp * np.sin(2 * np.pi * t[:, None] + phase + np.arange(len(cmu.DIM_TO_USE)))
    return rows


def _folder(root, name, rows):
    (root / name).mkdir(parents=True)
    (root / name / f"{name}_1.txt").write_text("\n".join(",".join(f"{v:.6f}" for v in r) for r in rows) + "\n")


def test_mirroring_reflects_the_skeleton(refdata, monkeypatch):
    rows = cmu.read_cmu_prediction(refdata("mocap/cmu_prediction/train/soccer/soccer_3.txt"))[1:40]
    np.testing.assert_allclose(mirror_rows(mirror_rows(rows)), rows, atol=1e-12)
    # On a skeleton made exactly left-right symmetric (the file's offsets differ by up to 4 mm),
    # the mirrored rows' forward kinematics is the reflection of the original's, joints swapped.
    flip = np.array([-1.0, 1.0, 1.0])
    monkeypatch.setattr(cmu, "OFFSETS", 0.5 * (cmu.OFFSETS + cmu.OFFSETS[cmu.MIRROR] * flip))
    p = cmu.forward_kinematics(rows, root=True)
    pm = cmu.forward_kinematics(mirror_rows(rows), root=True)
    np.testing.assert_allclose(pm, p[:, cmu.MIRROR] * flip, atol=1e-9)


def test_curriculum_beats_zero_velocity_and_writes_a_model_card(tmp_path):
    _folder(tmp_path / "train", "swing", _swinging(1200, 0.0))
    _folder(tmp_path / "val", "swing", _swinging(600, 1.0))
    cfg = MotionTrainConfig(
        out=str(tmp_path / "ck"), train=[str(tmp_path / "train")], val=[str(tmp_path / "val")], window=20,
        recent=3, n_basis=4, hidden=16, context=8, horizon=6, batch_size=16, lr=3e-3, teacher_steps=60,
        scheduled_steps=40, rollout_steps=60, val_every=40, mirror=False, on_jump="error", ar_init=False,
    )  # fmt: skip
    torch.manual_seed(0)
    train_motion(cfg, log=lambda s: None)
    card = json.loads((tmp_path / "ck" / "config.json").read_text())["extra"]
    assert card["codec"] == "cmu_expmap" and card["fps"] == 60.0
    assert card["data"]["train"][0]["sha256"] and len(card["data"]["train"][0]["sha256"]) == 64
    hist = card["history"]
    zero_velocity = hist[0]["val_deg_mean"]
    assert min(h["val_deg_mean"] for h in hist[1:]) < 0.75 * zero_velocity, hist  # measured 0.56
    model = MotionPredictor.load(tmp_path / "ck")
    assert model.fps == 60.0 and model.codec.name == "cmu_expmap"


def test_bad_training_data_is_refused_naming_the_file(tmp_path):
    rows = _swinging(400, 0.0)
    rows[200:, 3 + 3 * 2] += 1.5  # lfemur turns 1.5 rad in 1/120 s
    _folder(tmp_path / "train", "swing", rows)
    cfg = MotionTrainConfig(out=str(tmp_path / "ck"), train=[str(tmp_path / "train")], on_jump="error", window=20)
    with pytest.raises(FormatError, match=r"swing_1\.txt.*frame 200.*lfemur.*jump"):
        train_motion(cfg, log=lambda s: None)
