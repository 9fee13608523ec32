"""The IMU orientation filter on real foot IMUs against the optical markers of the same walk (gaitmap).

Runs ``benchmarks/validate_foot_orientation.py`` (the docs' numbers come from it): the rotation of each
foot since mid-stance, from MusclePose's Madgwick filter, against the foot frame of the heel, toe and
fifth-metatarsal markers, stride by stride (gaitmap's stride borders)."""

from __future__ import annotations

import runpy

from tests.conftest import REPO


def test_filter_follows_the_markers_stride_by_stride(refdata, tmp_path):
    gaitmap = refdata("imu/gaitmap/mocap_sample.csv").parents[2]
    main = runpy.run_path(str(REPO / "benchmarks" / "validate_foot_orientation.py"))["main"]
    doc = main(["--refdata", str(gaitmap), "--out", str(tmp_path)])
    for foot in ("left", "right"):
        row = doc["feet"][foot]
        assert row["strides"] >= 25 and abs(row["lag_samples"]) <= 3  # the two systems are synchronised
        f = row["filter"]
        # Measured 3.3 / 3.9 deg RMSE, r 0.996 / 0.992, peaks 3.6-3.8 deg above the markers' 87-90 deg.
        assert f["rmse_deg"] < 5.0 and f["r"] > 0.98
        assert abs(f["peak_deg"] - row["reference_peak_deg"]) < 6.0
        assert f["tilt_rmse_deg"] < 6.0  # the vertical the filter keeps, over the whole walk
    assert (tmp_path / "validation_foot_orientation.md").is_file()
