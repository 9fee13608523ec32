"""Foot orientation from real foot IMUs against the optical reference of the same walk (gaitmap example data).

Usage::

    python benchmarks/validate_foot_orientation.py [--refdata ../shared/data] [--out docs]

Real data: ``imu/gaitmap/imu_sample.csv`` (NilsPod IMUs on both insteps, 204.8 Hz, acc m/s^2,
gyro deg/s) and ``mocap_sample.csv`` (the same 38.7 s of walking, optical markers at 100 Hz, mm:
heel ``FCC``, toe ``TOE``, fifth metatarsal head ``FM5`` of each foot), with gaitmap's stride
borders (``stride_borders_sample.csv``, IMU samples, mid-stance to mid-stance).

IMU orientation: MusclePose's own orientation filter as ``analyze FILE.csv`` runs it
(:func:`musclepose.pipelines.imu_pose.madgwick_orientation`, the ``ahrs`` Madgwick filter, no
magnetometer). Baseline in the same run: the gyroscope integrated alone (exact quaternion steps,
no accelerometer correction), started from the filter's orientation at the first sample.
Reference orientation: the foot frame of the markers (heel-to-toe forward; the fifth metatarsal
head, made orthogonal, sideways), markers linearly interpolated to the IMU's sample times after
a lag search (cross-correlation of the angular-speed magnitudes, +-0.5 s).

Metric: the angle of the rotation since each stride's start (mid-stance), ``angle(R(t0)^T R(t))``.
It needs no sensor-to-foot alignment and no common heading: with ``R_imu = W R_foot M`` for
any constant mounting ``M`` and world alignment ``W`` the relative rotation is a conjugate of the
foot's, so its angle is the same. Per foot: RMSE over every sample of every stride, the mean
per-stride peak angle of each, their correlation, and the error at the stride's end (drift over
one stride). Writes ``<out>/validation_foot_orientation.md`` (+ ``.json``) and a figure.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from musclepose.io.atomic import atomic_write
from musclepose.io.imu import read_imu_csv
from musclepose.pipelines.imu_pose import madgwick_orientation

FS = 204.8  # Hz, gaitmap's NilsPod sensors
MOCAP_FS = 100.0
ROOT = Path(__file__).resolve().parents[1]


def _csv(path: Path, header_rows: int) -> tuple[list[list[str]], np.ndarray]:
    lines = path.read_text().splitlines()
    head = [ln.split(",") for ln in lines[:header_rows]]
    return head, np.array([[float(v) for v in ln.split(",")] for ln in lines[header_rows:] if ln.strip()])


def marker_frames(path: Path, side: str) -> np.ndarray:
    """``(T, 3, 3)`` foot-to-lab rotations from the heel, toe and fifth-metatarsal markers of ``side`` (L/R)."""
    head, data = _csv(path, 2)
    names, axes = head[0], head[1]

    def marker(name: str) -> np.ndarray:
        cols = [i for i, (n, a) in enumerate(zip(names, axes, strict=True)) if n == f"{side}_{name}" and a in "xyz"]
        if len(cols) != 3:
            raise ValueError(f"{path}: marker {side}_{name}: {len(cols)} of the x, y, z columns")
        return data[:, cols]

    heel, toe, fm5 = marker("FCC"), marker("TOE"), marker("FM5")
    fwd = toe - heel
    fwd /= np.linalg.norm(fwd, axis=1, keepdims=True)
    side_v = fm5 - heel
    side_v -= np.sum(side_v * fwd, axis=1, keepdims=True) * fwd
    side_v /= np.linalg.norm(side_v, axis=1, keepdims=True)
    return np.stack([fwd, side_v, np.cross(fwd, side_v)], axis=2)


def resample_rotations(r: np.ndarray, fs_in: float, t_out: np.ndarray) -> np.ndarray:
    """Rotations ``(T, 3, 3)`` sampled at ``fs_in`` evaluated at ``t_out`` (s) by spherical interpolation."""
    from scipy.spatial.transform import Slerp

    t_in = np.arange(len(r)) / fs_in
    return Slerp(t_in, Rotation.from_matrix(r))(np.clip(t_out, t_in[0], t_in[-1])).as_matrix()


def angular_speed(r: np.ndarray, fs: float) -> np.ndarray:
    """|omega| (rad/s) of a rotation sequence from consecutive relative rotations."""
    rel = np.einsum("tji,tjk->tik", r[:-1], r[1:])
    return np.append(Rotation.from_matrix(rel).magnitude() * fs, 0.0)


def gyro_integration(r0: np.ndarray, gyro: np.ndarray, fs: float) -> np.ndarray:
    """Sensor-to-world rotations from ``r0`` and body-frame rates ``gyro (T, 3)`` rad/s, no correction."""
    steps = Rotation.from_rotvec(gyro[:-1] / fs)
    out = [Rotation.from_matrix(r0)]
    for s in steps:
        out.append(out[-1] * s)
    return Rotation.concatenate(out).as_matrix()


def since_start(r: np.ndarray, a: int, b: int) -> np.ndarray:
    """Angle (deg) of the rotation from sample ``a`` to each sample of ``a..b``."""
    rel = np.einsum("ji,tjk->tik", r[a], r[a:b])
    return np.degrees(Rotation.from_matrix(rel).magnitude())


def tilt_error(r_imu: np.ndarray, ref: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Angle (deg) between the vertical seen by the sensor (our world Y in the sensor frame) and the lab's
    vertical in the markers' foot frame (lab Z) carried into the sensor frame by the one constant rotation
    (the mounting, Wahba's problem over ``frames``) that best maps the second onto the first. Heading-free,
    so a filter without magnetometer is judged only on what it can know."""
    up_s = r_imu[:, 1, :]  # R^T y: the world's up in the sensor frame
    up_f = ref[:, 2, :]  # R^T z: the lab's up in the foot frame
    mount, _ = Rotation.align_vectors(up_s[frames], up_f[frames])
    pred = mount.apply(up_f)
    cos = np.clip(np.sum(pred * up_s, axis=1), -1.0, 1.0)
    return np.degrees(np.arccos(cos))


def best_lag(x: np.ndarray, y: np.ndarray, max_lag: int) -> int:
    """Lag (samples) of ``y`` relative to ``x`` that maximises their correlation."""
    best, arg = -np.inf, 0
    for lag in range(-max_lag, max_lag + 1):
        a, b = (x[lag:], y[: len(y) - lag]) if lag >= 0 else (x[: len(x) + lag], y[-lag:])
        n = min(len(a), len(b))
        c = np.corrcoef(a[:n], b[:n])[0, 1]
        if c > best:
            best, arg = c, lag
    return arg


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--refdata", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    gm = a.refdata / "imu" / "gaitmap"
    imu = read_imu_csv(gm / "imu_sample.csv", fps=FS)
    rows = [ln.split(",") for ln in (gm / "stride_borders_sample.csv").read_text().splitlines()[1:] if ln.strip()]
    strides_of = {f: [(int(r[2]), int(r[3])) for r in rows if r[1] == f] for f in ("left", "right")}
    t = np.arange(imu.n_frames) / FS
    doc: dict = {"command": "python benchmarks/validate_foot_orientation.py", "feet": {}}
    curves = {}
    for foot, sensor, side in (("left", "left_sensor", "L"), ("right", "right_sensor", "R")):
        acc, gyro = imu.acc[sensor], imu.gyro[sensor]
        r_filter = madgwick_orientation(acc, gyro, None, FS)
        # The filter's world is ours (Y up); the integration runs in the sensor frame from its first orientation.
        r_gyro = gyro_integration(r_filter[0], gyro, FS)
        ref100 = marker_frames(gm / "mocap_sample.csv", side)
        w_imu = np.linalg.norm(gyro, axis=1)
        ref_guess = resample_rotations(ref100, MOCAP_FS, t)
        lag = best_lag(w_imu, angular_speed(ref_guess, FS), int(0.5 * FS))
        ref = resample_rotations(ref100, MOCAP_FS, t - lag / FS) if lag else ref_guess
        strides = strides_of[foot]
        row: dict = {"strides": len(strides), "lag_samples": lag}
        for name, r in (("filter", r_filter), ("gyro_only", r_gyro)):
            err, peaks_i, peaks_r, ends, cat_i, cat_r = [], [], [], [], [], []
            for s0, s1 in strides:
                ai, ar = since_start(r, s0, s1), since_start(ref, s0, s1)
                err.append(ai - ar)
                peaks_i.append(ai.max())
                peaks_r.append(ar.max())
                ends.append(abs(ai[-1] - ar[-1]))
                cat_i.append(ai)
                cat_r.append(ar)
            e = np.concatenate(err)
            span = np.arange(strides[0][0], strides[-1][1])
            tilt = tilt_error(r, ref, span)
            row[name] = {
                "tilt_rmse_deg": float(np.sqrt(np.mean(tilt[span] ** 2))),
                "tilt_last_stride_deg": float(np.sqrt(np.mean(tilt[strides[-1][0] : strides[-1][1]] ** 2))),
                "rmse_deg": float(np.sqrt(np.mean(e**2))),
                "peak_deg": float(np.mean(peaks_i)),
                "r": float(np.corrcoef(np.concatenate(cat_i), np.concatenate(cat_r))[0, 1]),
                "end_error_deg": float(np.mean(ends)),
            }
            if name == "filter":
                row["reference_peak_deg"] = float(np.mean(peaks_r))
                curves[foot] = (strides[len(strides) // 2], r, ref)
        doc["feet"][foot] = row
    doc["seconds"] = time.perf_counter() - t0
    a.out.mkdir(parents=True, exist_ok=True)
    fig = a.out / "figures" / "foot_orientation.png"
    _figure(fig, curves)
    doc["figure"] = "figures/foot_orientation.png"
    with atomic_write(a.out / "validation_foot_orientation.json") as fh:
        fh.write(json.dumps(doc, indent=2) + "\n")
    with atomic_write(a.out / "validation_foot_orientation.md") as fh:
        fh.write(render(doc))
    print(render(doc))
    return doc


def _figure(path: Path, curves: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
    for ax, (foot, ((s0, s1), r, ref)) in zip(axes, curves.items(), strict=True):
        tt = np.arange(s1 - s0) / FS
        ax.plot(tt, since_start(ref, s0, s1), "k", lw=1.4, label="optical markers")
        ax.plot(tt, since_start(r, s0, s1), "tab:blue", lw=1.0, label="IMU (Madgwick filter)")
        ax.set_title(f"{foot} foot, one stride (mid-stance to mid-stance)", fontsize=9)
        ax.set_xlabel("s")
    axes[0].set_ylabel("rotation since mid-stance, deg")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def render(doc: dict) -> str:
    lines = [
        "# Foot orientation from real foot IMUs against the optical reference",
        "",
        f"Generated by `{doc['command']}` in {doc['seconds']:.0f} s. gaitmap example data: NilsPod IMUs on both "
        "insteps (204.8 Hz) and optical markers of the feet (100 Hz) during the same 38.7 s of walking; gaitmap's "
        "stride borders (mid-stance to mid-stance). The IMU orientation is MusclePose's own filter "
        "(`pipelines.imu_pose.madgwick_orientation`, the `ahrs` Madgwick filter without magnetometer, as "
        "`musclepose analyze FILE.csv` runs it); the baseline integrates the gyroscope alone. Compared: the angle "
        "of the foot's rotation since each stride's start, which needs no sensor-to-foot alignment or common "
        "heading (a constant mounting and world rotation leave it unchanged).",
        "",
        "Per stride: RMSE, correlation and mean peak of the rotation since the stride's start, and its error at "
        "the stride's end (drift over one stride). Whole walk: RMS tilt error (the angle between the vertical the "
        "sensor believes in and the markers' vertical, through one constant mounting rotation fitted over the "
        "walk; heading is not compared), over every stride and over the last one (drift over the walk).",
        "",
        "| foot | strides | orientation | RMSE deg | r | mean peak deg (markers) | error at stride end deg | "
        "tilt RMS deg, walk | tilt RMS deg, last stride |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for foot, row in doc["feet"].items():
        for name, label in (("filter", "Madgwick filter (shipped)"), ("gyro_only", "gyroscope integrated alone")):
            m = row[name]
            peak = f"{m['peak_deg']:.1f} ({row['reference_peak_deg']:.1f})"
            tilt = f"{m['tilt_rmse_deg']:.2f} | {m['tilt_last_stride_deg']:.2f}"
            lines.append(f"| {foot} | {row['strides']} | {label} | {m['rmse_deg']:.2f} | {m['r']:.4f} | {peak} | "
                         f"{m['end_error_deg']:.2f} | {tilt} |")  # fmt: skip
    lags = ", ".join(f"{f} {r['lag_samples']}" for f, r in doc["feet"].items())
    lines += ["", f"Markers-to-IMU lag found (IMU samples of 4.9 ms): {lags}.", "",
              f"![one stride per foot]({doc['figure']})", ""]  # fmt: skip
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
