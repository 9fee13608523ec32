"""IMU CSV reader, against the gaitmap foot-IMU sample (acc m/s^2, gyro deg/s, 204.8 Hz)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from musclepose.io.errors import FormatError
from musclepose.io.imu import IMUData, read_imu_csv

IMU = "imu/gaitmap/imu_sample.csv"
MOCAP = "imu/gaitmap/mocap_sample.csv"  # synchronised optical mocap of the feet, 100 Hz
G = 9.80665


@pytest.fixture(scope="module")
def gaitmap(refdata) -> IMUData:
    return read_imu_csv(refdata(IMU), fps=204.8)


@pytest.fixture(scope="module")
def raw(refdata) -> np.ndarray:
    """The file's numbers, read with numpy alone (2 header rows, sample index in column 0)."""
    return np.loadtxt(refdata(IMU), delimiter=",", skiprows=2)


def test_structure_and_units(gaitmap, raw, refdata):
    header = refdata(IMU).read_text().splitlines()[1].split(",")
    assert header[1:3] == ["acc_x", "acc_x"] and header[7] == "gyr_x"
    assert gaitmap.sensors == ["left_sensor", "right_sensor"]
    assert gaitmap.n_frames == raw.shape[0] == 7928
    assert gaitmap.units == {"acc": "m/s^2", "gyro": "deg/s", "time": "none"}
    assert gaitmap.unit_source == {"acc": "detected", "gyro": "detected", "time": "none"}
    assert gaitmap.mag is None
    # Column order in the file: sensor alternates fastest, then acc x y z, gyr x y z.
    np.testing.assert_array_equal(gaitmap.acc["left_sensor"], raw[:, [1, 3, 5]])
    np.testing.assert_array_equal(gaitmap.acc["right_sensor"], raw[:, [2, 4, 6]])
    np.testing.assert_allclose(gaitmap.gyro["right_sensor"], np.deg2rad(raw[:, [8, 10, 12]]), rtol=1e-15)
    assert gaitmap.gyro["left_sensor"][0, 0] == pytest.approx(-0.11240170597252427 * math.pi / 180, rel=1e-15)


def test_gravity_at_rest_and_walking_angular_rates(gaitmap):
    for s in gaitmap.sensors:
        first_second = np.linalg.norm(gaitmap.acc[s][: round(gaitmap.fps)], axis=1)
        assert first_second.mean() == pytest.approx(G, rel=0.03)  # measured 9.861 (left), 9.822 (right)
        still = np.linalg.norm(gaitmap.gyro[s], axis=1) < np.deg2rad(2.0)
        assert still[:100].all()  # the feet start still: the first ~0.5 s below 2 deg/s
        assert np.linalg.norm(gaitmap.acc[s][still], axis=1).mean() == pytest.approx(G, rel=0.01)
        # Foot angular velocity in gait peaks at ~10-14 rad/s (600-800 deg/s); in rad/s
        # now, so the deg/s reading was converted once.
        assert 6.0 < np.linalg.norm(gaitmap.gyro[s], axis=1).max() < 20.0


def test_sampling_rate_agrees_with_the_synchronised_mocap(gaitmap, refdata):
    # The file has no time column. The optical mocap recorded the same trial at 100 Hz:
    # its duration and the IMU's sample count give the IMU rate independently.
    mocap_frames = sum(1 for _ in refdata(MOCAP).open()) - 2
    duration = mocap_frames / 100.0
    assert gaitmap.n_frames / duration == pytest.approx(204.8, rel=0.005)  # measured 204.86 Hz
    assert gaitmap.fps == 204.8 and gaitmap.time[-1] == pytest.approx(7927 / 204.8)
    with pytest.raises(FormatError, match="no time column: pass fps"):
        read_imu_csv(refdata(IMU))


def _write(path, header, cols, fmt=repr):
    lines = [",".join(header)] + [",".join(fmt(float(v)) for v in row) for row in np.column_stack(cols)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("unit", "scale"), [("s", 1.0), ("ms", 1e3)])
def test_time_column_detects_rate_and_unit(raw, tmp_path, unit, scale):
    t = (np.arange(raw.shape[0]) / 204.8 + 12.0) * scale
    names = ["timestamp", "acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"]
    path = _write(tmp_path / f"t_{unit}.csv", names, [t] + [raw[:, c] for c in (1, 3, 5, 7, 9, 11)])
    d = read_imu_csv(path)
    assert d.fps == pytest.approx(204.8, rel=1e-9) and d.units["time"] == unit
    assert d.unit_source["time"] == "detected" and d.sensors == ["imu"]
    assert d.time[0] == pytest.approx(12.0)


def test_declared_units_and_overrides(raw, tmp_path):
    acc_g, gyro = raw[:, [1, 3, 5]] / G, np.deg2rad(raw[:, [7, 9, 11]])
    names = ["time [ms]"] + [f"Acc {a.upper()} [g]" for a in "xyz"] + [f"gyr_{a} (rad/s)" for a in "xyz"]
    path = _write(tmp_path / "declared.csv", names, [np.arange(len(raw)) * 5.0, *acc_g.T, *gyro.T])
    d = read_imu_csv(path)
    assert d.units == {"acc": "g", "gyro": "rad/s", "time": "ms"} and d.fps == pytest.approx(200.0)
    assert set(d.unit_source.values()) == {"header"}
    np.testing.assert_allclose(d.acc["imu"], raw[:, [1, 3, 5]], rtol=1e-12)
    np.testing.assert_allclose(d.gyro["imu"], gyro, rtol=1e-15)
    # Explicit arguments win over the header.
    o = read_imu_csv(path, acc_unit="m/s^2", gyro_unit="deg/s")
    np.testing.assert_allclose(o.acc["imu"], acc_g, rtol=1e-15)
    np.testing.assert_allclose(o.gyro["imu"], np.deg2rad(gyro), rtol=1e-15)
    assert o.unit_source["acc"] == "argument"


def test_short_names_detect_g_and_rad_per_s(raw, tmp_path):
    acc_g, gyro = raw[:, [2, 4, 6]] / G, np.deg2rad(raw[:, [8, 10, 12]])
    names = ["t", "ax", "ay", "az", "gx", "gy", "gz", "mx", "my", "mz"]
    cols = [np.arange(len(raw)) / 100.0, *acc_g.T, *gyro.T, *np.full((3, len(raw)), 40.0)]
    d = read_imu_csv(_write(tmp_path / "short.csv", names, cols))
    assert d.units["acc"] == "g" and d.units["gyro"] == "rad/s" and d.units["mag"] == "as read"
    np.testing.assert_allclose(d.acc["imu"], raw[:, [2, 4, 6]], rtol=1e-12)
    np.testing.assert_allclose(d.gyro["imu"], gyro, rtol=1e-15)
    assert d.mag["imu"].shape == (len(raw), 3) and d.fps == pytest.approx(100.0)


def test_rate_from_a_comment_line(raw, tmp_path):
    path = _write(
        tmp_path / "c.csv", [f"{q}_{a}" for q in ("acc", "gyro") for a in "xyz"], raw[:20, [1, 3, 5, 7, 9, 11]].T
    )
    path.write_text("# device: foot IMU\n# sampling rate: 204.8 Hz\n" + path.read_text())
    d = read_imu_csv(path)
    assert d.fps == 204.8 and d.time[1] == pytest.approx(1 / 204.8) and d.units["time"] == "none"


def _gaitmap_variant(refdata, tmp_path, name, edit):
    lines = refdata(IMU).read_text().splitlines()
    lines = edit(lines)
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _cell(lines, frame, col, value):
    row = lines[2 + frame].split(",")
    row[col] = value
    lines[2 + frame] = ",".join(row)
    return lines


def _ragged(lines, frame):
    lines[2 + frame] = lines[2 + frame].rsplit(",", 1)[0]
    return lines


def _drop_col(lines, col):
    return [",".join(c for i, c in enumerate(line.split(",")) if i != col) for line in lines]


def _header(lines, old, new, count=-1):
    return [lines[0], lines[1].replace(old, new, count)] + lines[2:]


BACKWARDS = [0.0, 0.01, 0.02, 0.015] + [0.03 + i / 100 for i in range(8000)]


def _with_time(lines, times):
    out = ["sensor,time," + lines[0].split(",", 1)[1], "axis,," + lines[1].split(",", 1)[1]]
    return out + [
        f"{i},{t}," + line.split(",", 1)[1] for i, (t, line) in enumerate(zip(times, lines[2:], strict=False))
    ]


@pytest.mark.parametrize(
    ("name", "edit", "expected"),
    [
        ("empty.csv", lambda L: [], ["empty file"]),
        ("header.csv", lambda L: L[:2], ["no data rows"]),
        ("nogyrz.csv", lambda L: _drop_col(L, 12), ["'right_sensor'", "gyro z", "right_sensor.gyro_z"]),
        ("noacc.csv", lambda L: _drop_col(_drop_col(L, 1), 2), ["'left_sensor'", "acc x"]),
        ("garbled.csv", lambda L: _cell(L, 40, 5, "9.4o8"), ["line 43", "frame 40", "left_sensor_acc_z", "'9.4o8'"]),
        ("nan.csv", lambda L: _cell(L, 7, 8, "nan"), ["line 10", "frame 7", "right_sensor_gyr_x", "not finite"]),
        ("inf.csv", lambda L: _cell(L, 7925, 2, "-inf"), ["line 7928", "frame 7925", "right_sensor_acc_x"]),
        ("blank.csv", lambda L: _cell(L, 3, 3, ""), ["line 6", "frame 3", "left_sensor_acc_y", "empty value"]),
        ("ragged.csv", lambda L: _ragged(L, 98), ["line 101", "frame 98", "expected 13 fields, found 12"]),
        ("truncated.csv", lambda L: L[:-1] + [L[-1][:30]], ["line 7930", "frame 7927", "found"]),
        ("time.csv", lambda L: _with_time(L, BACKWARDS), ["line 6", "frame 3", "time does not increase"]),
        ("unit.csv", lambda L: _header(L, "acc_x", "acc_x [furlong/s^2]"), ["unknown acc unit", "'furlong/s^2'"]),
        ("mixed.csv", lambda L: _header(L, "gyr_x", "gyr_x [rad/s]", 1), ["gyro columns declare different units"]),
        ("nodata.csv", lambda L: ["a,b,c", "1,2,3"], ["no accelerometer or gyroscope columns"]),
    ],
)  # fmt: skip
def test_malformed_files_name_line_frame_and_column(refdata, tmp_path, name, edit, expected):
    path = _gaitmap_variant(refdata, tmp_path, name, edit)
    with pytest.raises(FormatError) as err:
        read_imu_csv(path, fps=204.8)
    msg = str(err.value)
    assert name in msg
    for part in expected:
        assert part in msg, msg


def test_bad_arguments_and_undetectable_units(raw, tmp_path):
    path = _write(tmp_path / "weird.csv", ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"], [raw[:, 1] * 100] * 6)
    with pytest.raises(FormatError, match=r"weird\.csv: cannot detect the accelerometer unit .* pass acc_unit"):
        read_imu_csv(path, fps=100.0)
    assert read_imu_csv(path, fps=100.0, acc_unit="mg").units["acc"] == "mg"
    with pytest.raises(ValueError, match="gyro_unit"):
        read_imu_csv(path, fps=100.0, gyro_unit="rpm")
    with pytest.raises(ValueError, match="fps"):
        read_imu_csv(path, fps=0.0)
