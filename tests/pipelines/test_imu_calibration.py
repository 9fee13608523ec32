"""The IMU pose model's interval recalibration against analytic distributions, its checkpoint field, and its use."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from scipy import stats

from musclepose.evaluation.imu_pose import calibration_metrics
from musclepose.io.errors import FormatError
from musclepose.pipelines.imu_pose import (
    ONE_SIGMA,
    TWO_SIGMA,
    IMUPoseModel,
    IntervalCalibration,
    default_imu_checkpoint,
)

SHIPPED = default_imu_checkpoint()


def test_gaussian_calibration_is_a_temperature():
    cal = IntervalCalibration.gaussian(1.3)
    assert cal.temperature == pytest.approx(1.3, rel=1e-9)
    assert cal.two_sigma == pytest.approx(2.0, rel=1e-9)
    assert float(cal.scale(0.99)) == pytest.approx(1.3 * stats.norm.ppf(0.995), rel=1e-9)
    assert float(cal.scale(0.999)) == pytest.approx(1.3 * stats.norm.ppf(0.9995), rel=1e-9)  # beyond the grid


def test_quantiles_fix_heavy_tails_a_temperature_cannot():
    """Errors from a Student t (3 degrees of freedom) with a network sd of 1: the fitted intervals match the
    t's own quantiles and cover 68 / 95 % of fresh errors; one likelihood temperature misses the 1-sigma share."""
    rng = np.random.default_rng(0)
    fit = np.abs(stats.t.rvs(3, size=40_000, random_state=rng))
    fresh = stats.t.rvs(3, size=(40_000, 6), random_state=rng)
    cal = IntervalCalibration.fit(fit)
    assert cal.temperature == pytest.approx(stats.t.ppf(0.5 + ONE_SIGMA / 2, 3), rel=0.03)
    assert float(cal.scale(TWO_SIGMA)) == pytest.approx(stats.t.ppf(0.5 + TWO_SIGMA / 2, 3), rel=0.04)
    sigma = torch.full((40_000,), cal.temperature)
    got = calibration_metrics(torch.as_tensor(fresh), sigma, cal)
    assert got["coverage_1sigma"] == pytest.approx(ONE_SIGMA, abs=0.01)
    assert got["coverage_2sigma"] == pytest.approx(TWO_SIGMA, abs=0.01)
    assert got["ece"] < 0.01
    temp = IntervalCalibration.gaussian(float(np.sqrt(np.mean(fit**2))))  # t3 has variance 3
    plain = calibration_metrics(torch.as_tensor(fresh), torch.full((40_000,), temp.temperature), temp)
    assert plain["coverage_1sigma"] > ONE_SIGMA + 0.1  # too wide at 1 sigma: the tails set the variance


def test_too_few_errors_and_a_bad_checkpoint_field(tmp_path):
    with pytest.raises(ValueError, match="at least 100"):
        IntervalCalibration.fit(np.ones(10))
    assert IntervalCalibration.from_extra({"temperature": 1.25}).temperature == pytest.approx(1.25)
    if not (SHIPPED / "config.json").is_file():
        pytest.skip("no shipped IMU pose checkpoint")
    folder = tmp_path / "ck"
    shutil.copytree(SHIPPED, folder, ignore=shutil.ignore_patterns("hdt_transformer", "nn_*"))
    cfg = json.loads((folder / "config.json").read_text())
    cfg["extra"]["calibration"] = {"levels": [0.5, 0.2], "scales": [1.0, 2.0]}
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(FormatError, match=r"config\.json.*extra\.calibration.*levels must rise"):
        IMUPoseModel.load(folder)


def test_shipped_calibration_came_from_real_validation_recordings():
    if not (SHIPPED / "config.json").is_file():
        pytest.skip("no shipped IMU pose checkpoint")
    model = IMUPoseModel.load()
    info = model.extra["calibration"]["info"]
    assert model.calibration.method == "quantile" and info["fitted_on"] == "real validation recordings"
    assert all(r.startswith(("cmupred_", "mass_")) for r in info["recordings"])  # the corpus's real val split
    # Real errors are heavier-tailed than a Gaussian: the 95 % band is wider than 2 reported sds.
    assert model.calibration.two_sigma > 2.0


def test_training_calibrates_on_the_real_validation_recordings_only():
    """``fit_interval_calibration`` (what ``train imu-pose`` runs at its end) reads the real recordings of the
    validation split and ignores its synthetic clips: the fit equals the quantiles of the real one's errors."""
    from musclepose.models.hdt import HDT, HDTConfig
    from musclepose.sim.imu_corpus import sequence_from_motion
    from musclepose.training.hdt import fit_interval_calibration, validation_z

    from ._imu_csv import squat_motion

    torch.manual_seed(0)
    cfg = HDTConfig(cnn_channels=(8, 8, 8, 8), d_model=16, n_layers=0, n_heads=2, ff_hidden=32, d_factor=8,
                    pose_hidden=16, window=16)  # fmt: skip
    model = HDT(cfg).eval()
    real = sequence_from_motion(squat_motion(1)[:90], "real", "mocap/x.mot", "p1", "val", versions=1, filter_hz=None)
    syn = sequence_from_motion(squat_motion(2)[:90], "syn", "musclepose.sim", "s2", "val", versions=1, filter_hz=None)
    cal, info = fit_interval_calibration(model, [real, syn], draws=1)
    assert info["fitted_on"] == "real validation recordings" and info["recordings"] == ["real"]
    z = validation_z(model, [real, syn], draws=1)
    lv = np.asarray(cal.levels)
    own = np.maximum.accumulate(np.quantile(z["real"], lv))
    pooled = np.maximum.accumulate(np.quantile(np.concatenate([z["real"], z["syn"]]), lv))
    assert np.allclose(cal.scales, own, rtol=1e-9, atol=1e-12)
    assert np.abs(pooled - own).max() > 1e-3  # with the synthetic clip the fit would differ
