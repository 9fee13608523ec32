"""``musclepose train motion-tokens``: bad input exits with code 2 naming what is wrong; the
trainer's window sampler crops real features at the stated length and normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

pytest.importorskip("vector_quantize_pytorch")  # the optional "tokens" extra

from musclepose.cli import app  # noqa: E402
from musclepose.io import load_motion  # noqa: E402
from musclepose.pipelines.motion_features import FeatureStats, motion_features  # noqa: E402
from musclepose.training.motion_tokens import _Windows  # noqa: E402

runner = CliRunner()


def test_cli_errors_name_the_folder_and_exit_2(tmp_path):
    r = runner.invoke(app, ["train", "motion-tokens", "--out", str(tmp_path / "o"), "--refdata", str(tmp_path)])
    assert r.exit_code == 2 and "mocap" in r.output
    (tmp_path / "mocap").mkdir()
    r = runner.invoke(
        app, ["train", "motion-tokens", "--out", str(tmp_path / "o"), "--refdata", str(tmp_path), "--window", "30"]
    )
    assert r.exit_code == 2 and "multiple of 4" in r.output
    r = runner.invoke(app, ["train", "motion-tokens", "--out", str(tmp_path / "o"), "--refdata", str(tmp_path)])
    assert r.exit_code == 2 and "not found" in r.output  # the split's files are missing: named
    foreign = tmp_path / "theirs"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")  # someone else's folder: refused before any data is read
    r = runner.invoke(app, ["train", "motion-tokens", "--out", str(foreign), "--refdata", str(tmp_path)])
    assert r.exit_code == 2 and "notes.txt" in r.output and (foreign / "notes.txt").read_text() == "keep me"


def test_windows_are_crops_of_the_normalised_clips(refdata):
    m = load_motion(refdata("mocap/uiprmd_kinect/m01_s01_e01_positions.txt"))
    f = motion_features(m.q, m.fps, m.body)
    stats = FeatureStats.fit([f])
    w = _Windows([f, f[:10]], stats, 16)  # the 10-frame clip is too short for a window: left out
    x = w.sample(32, np.random.default_rng(0))
    assert x.shape == (32, 16, 115) and len(w.clips) == 1
    full = stats.normalise(torch.as_tensor(f, dtype=torch.float32))
    for crop in x[:4]:
        starts = [s for s in range(len(f) - 15) if torch.equal(full[s : s + 16], crop)]
        assert starts  # every window is a contiguous piece of the clip
