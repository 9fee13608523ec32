"""Units of IMU recordings: names, their SI factors, and detection from the values.

Everything is converted to SI (acc m/s^2, gyro rad/s, time s; g is the standard 9.80665 m/s^2);
the magnetometer to microtesla when its unit is declared (``uT``, ``nT``, ``mT``, ``gauss``).
Undeclared units are detected (:mod:`.imu` gives the argument, then the header, precedence):

- accelerometer: the median of ``|a|`` over all samples and sensors sits near gravity in any
  recording of human movement. Median in ``[0.5, 2]`` -> g, ``[5, 20]`` -> m/s^2,
  ``[500, 2000]`` -> mg; else undetectable.
- gyroscope: the 99.9th percentile of ``|w|`` above 25 -> deg/s, else rad/s. 25 rad/s
  (1430 deg/s) exceeds the peak segment angular velocity of walking, running and strength
  exercise, while real movement recorded in deg/s exceeds 25 deg/s; a recording that hardly
  moves is therefore taken as rad/s (pass ``gyro_unit`` for such files).
- time: the first of s, ms, us for which the median step gives at least 10 samples per
  second (or, with a known rate, the one closest to it).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .errors import FormatError

__all__ = [
    "ACC_UNITS",
    "GYRO_UNITS",
    "MAG_NAMES",
    "MAG_UNITS",
    "STANDARD_GRAVITY",
    "TIME_UNITS",
    "detect_time_unit",
    "detect_unit",
    "normalize_unit",
]

STANDARD_GRAVITY = 9.80665  # m/s^2 (CGPM 1901)

ACC_UNITS = {"m/s^2": 1.0, "g": STANDARD_GRAVITY, "mg": STANDARD_GRAVITY / 1000.0}
GYRO_UNITS = {"rad/s": 1.0, "deg/s": math.pi / 180.0}
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
MAG_UNITS = {"ut": 1.0, "nt": 1e-3, "mt": 1e3, "gauss": 100.0}
MAG_NAMES = {"ut": "uT", "nt": "nT", "mt": "mT", "gauss": "gauss"}
_ALIASES = {
    "m/s^2": "m/s^2", "m/s2": "m/s^2", "m/s²": "m/s^2", "m/s/s": "m/s^2", "ms^-2": "m/s^2", "m*s^-2": "m/s^2",
    "mps2": "m/s^2", "m/s**2": "m/s^2", "g": "g", "mg": "mg",
    "deg/s": "deg/s", "°/s": "deg/s", "dps": "deg/s", "degree/s": "deg/s", "degrees/s": "deg/s", "deg/sec": "deg/s",
    "rad/s": "rad/s", "rad/sec": "rad/s", "rads": "rad/s", "rps": "rad/s",
    "s": "s", "sec": "s", "seconds": "s", "ms": "ms", "msec": "ms", "us": "us", "µs": "us", "μs": "us",
    "ut": "ut", "µt": "ut", "μt": "ut", "microtesla": "ut", "nt": "nt", "mt": "mt", "gauss": "gauss", "ga": "gauss",
}  # fmt: skip


def normalize_unit(unit: str) -> str | None:
    u = unit.strip().lower().replace(" ", "")
    return _ALIASES.get(u) or _ALIASES.get(unit.strip().replace(" ", ""))


def detect_unit(path: Path, q: str, vectors: np.ndarray) -> str:
    mag = np.linalg.norm(vectors, axis=1)
    if q == "acc":
        med = float(np.median(mag))
        for unit, (lo, hi) in (("g", (0.5, 2.0)), ("m/s^2", (5.0, 20.0)), ("mg", (500.0, 2000.0))):
            if lo <= med <= hi:
                return unit
        raise FormatError(path, f"cannot detect the accelerometer unit (median |a| = {med:.4g}): pass acc_unit")
    return "deg/s" if float(np.percentile(mag, 99.9)) > 25.0 else "rad/s"


def detect_time_unit(path: Path, steps: np.ndarray, fps: float | None) -> str:
    if steps.size == 0:
        return "s"
    dt = float(np.median(steps))
    if fps is not None:
        return min(TIME_UNITS, key=lambda u: abs(math.log(fps * dt * TIME_UNITS[u])))
    for unit, scale in TIME_UNITS.items():
        if 1.0 / (dt * scale) >= 10.0:
            return unit
    raise FormatError(path, f"cannot detect the time unit (median step {dt:.4g}): declare it, e.g. 'time [ms]'")
