"""The IMU device error model: :func:`corrupt_imu` applies a device's errors to exact signals.

With a seeded generator, in the order a sensor produces them (Groves 2013, *Principles of
GNSS, Inertial, and Multisensor Integrated Navigation Systems*, 2nd ed., sec. 4.4.6, eq.
4.16): ``y = b(t) + (I + M) x + w``, then saturation at the full-scale range, optional
quantisation to the least significant bit, and dropped samples. ``M`` holds the scale factor
errors on its diagonal and the axis misalignment off it; ``b(t)`` is a constant turn-on bias
plus a random walk; ``w`` is white noise whose per-sample standard deviation is the noise
density times ``sqrt(fs)`` (Woodman 2007, UCAM-CL-TR-696, sec. 4.2.1; IEEE Std 952-1997).
The phone and watch numbers (:data:`PHONE`, :data:`WATCH`) are the QuantumLeap Pose Engine
seed's (100 Hz; phone on the torso, watch on the left forearm), the randomisation defaults
(:class:`IMUErrors`) its domain randomisation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import torch

from .imu import IMUSignals
from .seeding import torch_generator

__all__ = ["PHONE", "STANDARD_GRAVITY", "WATCH", "IMUErrors", "IMUSpec", "corrupt_imu", "default_spec"]

STANDARD_GRAVITY = 9.80665  # m/s^2, the "g" of datasheets (CGPM 1901)

# The bias random walk is scaled so that the bias wanders by about its instability figure
# over this time, where consumer MEMS Allan deviation curves reach their floor.
_BIAS_WALK_TIME_S = 100.0


@dataclass(frozen=True)
class IMUSpec:
    """A device's datasheet numbers, SI units (the presets convert from g, dps, per hour).

    Attributes
    ----------
    name : str
    acc_range, gyro_range : float
        Full-scale range (+-), m/s^2 and rad/s.
    acc_noise_density, gyro_noise_density : float
        White-noise density, m/s^2/sqrt(Hz) and rad/s/sqrt(Hz).
    acc_bias, gyro_bias : float
        Bias (1 sigma per axis): the turn-on bias's standard deviation and the amount the
        bias random-walks over ~100 s, m/s^2 and rad/s.
    bits : int
        ADC resolution; one LSB is ``2 * range / 2**bits``.
    mag_noise, mag_bias : float
        Magnetometer white noise per sample and residual hard-iron offset (1 sigma), uT.
    mag_resolution : float
        Magnetometer LSB, uT.
    """

    name: str
    acc_range: float
    gyro_range: float
    acc_noise_density: float
    gyro_noise_density: float
    acc_bias: float
    gyro_bias: float
    bits: int = 16
    mag_noise: float = 0.3
    mag_bias: float = 1.0
    mag_resolution: float = 0.15


# Seed numbers: phone +-16 g, +-2000 dps, 150 ug/sqrt(Hz), 0.01 dps/sqrt(Hz), bias 0.5 mg and
# 10 dps/h; watch +-8 g, +-1000 dps, 200 ug/sqrt(Hz), 0.015 dps/sqrt(Hz), 1 mg, 15 dps/h.
# Magnetometer: 0.15 uT/LSB and ~0.3 uT RMS noise, as phone compasses (e.g. AKM AK09918).
PHONE = IMUSpec(
    name="phone",
    acc_range=16 * STANDARD_GRAVITY,
    gyro_range=math.radians(2000.0),
    acc_noise_density=150e-6 * STANDARD_GRAVITY,
    gyro_noise_density=math.radians(0.01),
    acc_bias=0.5e-3 * STANDARD_GRAVITY,
    gyro_bias=math.radians(10.0) / 3600.0,
)
WATCH = IMUSpec(
    name="watch",
    acc_range=8 * STANDARD_GRAVITY,
    gyro_range=math.radians(1000.0),
    acc_noise_density=200e-6 * STANDARD_GRAVITY,
    gyro_noise_density=math.radians(0.015),
    acc_bias=1e-3 * STANDARD_GRAVITY,
    gyro_bias=math.radians(15.0) / 3600.0,
)


@dataclass(frozen=True)
class IMUErrors:
    """Per-instance errors drawn on top of a device's datasheet (domain randomisation).

    Defaults are the seed's: accelerometer bias 0.02 m/s^2, scale factor 2 %, axis
    misalignment 2 deg (all 1 sigma), 1 % of samples dropped. Switch single effects off to
    study them (``IMUErrors(noise=False, drop_rate=0.0)``).

    Attributes
    ----------
    acc_bias, gyro_bias : float
        Extra turn-on bias (1 sigma per axis), m/s^2 and rad/s, added to the device's.
    scale : float
        Scale-factor error (1 sigma, fraction) per axis.
    misalignment_deg : float
        Cross-axis coupling (1 sigma, deg) of each off-diagonal element.
    drop_rate : float
        Probability that a sample (all channels of one sensor) is lost.
    drop_mode : {"nan", "hold"}
        A lost sample reads NaN, or repeats the last received one (a sample-and-hold
        stream; lost samples before the first received one take its value).
    noise, bias, saturate, quantize : bool
        White noise; bias (turn-on and random walk); clipping at the range; rounding to
        the LSB (off by default).
    """

    acc_bias: float = 0.02
    gyro_bias: float = 0.0
    scale: float = 0.02
    misalignment_deg: float = 2.0
    drop_rate: float = 0.01
    drop_mode: str = "nan"
    noise: bool = True
    bias: bool = True
    saturate: bool = True
    quantize: bool = False

    def __post_init__(self) -> None:
        if self.drop_mode not in ("nan", "hold"):
            raise ValueError(f"drop_mode must be 'nan' or 'hold'; got {self.drop_mode!r}")
        if not 0.0 <= self.drop_rate < 1.0:
            raise ValueError(f"drop_rate must be in [0, 1); got {self.drop_rate}")


def default_spec(name: str) -> IMUSpec:
    """The device preset for a sensor name: the watch for ``watch*``, else the phone."""
    return WATCH if name.startswith("watch") else PHONE


def corrupt_imu(
    signals: IMUSignals,
    spec: IMUSpec | Mapping[str, IMUSpec] | None = None,
    errors: IMUErrors = IMUErrors(),
    generator: torch.Generator | int | None = None,
) -> IMUSignals:
    """Apply a device error model to noise-free signals (see the module docstring).

    Parameters
    ----------
    signals
        From :func:`simulate_imu`; ``fps`` must be set.
    spec
        One device for all sensors, a mapping sensor name -> device, or None for
        :func:`default_spec` (watch for ``watch*`` sensors, phone otherwise).
    errors
        Randomised per-instance errors and switches.
    generator
        A ``torch.Generator`` (CPU) or an integer seed; the same seed gives the same errors.

    Returns
    -------
    IMUSignals
        Corrupted ``acc``, ``gyro``, ``mag``; ``valid`` marks received samples; the drawn
        biases, scale factors and misalignments are in ``metadata["errors"]``. Rotation and
        position stay the truth.
    """
    if signals.fps is None or not signals.fps > 0:
        raise ValueError("corrupt_imu needs signals.fps (the sample rate sets the noise per sample)")
    g = torch_generator(generator)
    if spec is None:
        specs = [default_spec(n) for n in signals.names]
    elif isinstance(spec, IMUSpec):
        specs = [spec] * len(signals.names)
    else:
        missing = [n for n in signals.names if n not in spec]
        if missing:
            raise KeyError(f"no IMUSpec for sensor(s) {missing}")
        specs = [spec[n] for n in signals.names]
    acc, gyro, mag = signals.acc, signals.gyro, signals.mag
    dtype, device = acc.dtype, acc.device
    lead_t = acc.shape[:-1]  # (..., T, S)
    lead = lead_t[:-2] + lead_t[-1:]  # (..., S): one draw per sensor instance
    n_t = acc.shape[-3]
    fs, dt = float(signals.fps), 1.0 / float(signals.fps)

    def randn(*shape: int | tuple) -> torch.Tensor:
        shp: tuple = ()
        for s in shape:
            shp += tuple(s) if isinstance(s, tuple) else (s,)
        return torch.randn(shp, generator=g, dtype=torch.float64).to(dtype=dtype, device=device)

    def per_sensor(values: list[float]) -> torch.Tensor:
        return torch.as_tensor(values, dtype=dtype, device=device)[:, None]  # (S, 1)

    def errors_matrix() -> torch.Tensor:
        e = randn(lead, 3, 3) * math.radians(errors.misalignment_deg)
        eye = torch.eye(3, dtype=dtype, device=device)
        scale = randn(lead, 3) * errors.scale
        return eye + e * (1 - eye) + torch.diag_embed(scale)

    def channel(x: torch.Tensor, noise_sd: torch.Tensor, bias_sd: torch.Tensor, walk: torch.Tensor, rng, lsb):
        m = errors_matrix()  # (..., S, 3, 3)
        y = (m.unsqueeze(-4) @ x[..., None])[..., 0]
        b0 = randn(lead, 3) * bias_sd * float(errors.bias)  # drawn either way: same stream per seed
        if errors.bias:
            steps = randn(lead_t[:-2], n_t, lead_t[-1], 3) * (walk * math.sqrt(dt))
            y = y + b0.unsqueeze(-3) + torch.cumsum(steps, dim=-3)
        if errors.noise:
            y = y + randn(lead_t[:-2], n_t, lead_t[-1], 3) * noise_sd
        if errors.saturate and rng is not None:
            y = torch.maximum(torch.minimum(y, rng), -rng)
        if errors.quantize:
            y = torch.round(y / lsb) * lsb
        return y, m, b0

    bias_time = math.sqrt(_BIAS_WALK_TIME_S)
    acc_rng = per_sensor([s.acc_range for s in specs])
    gyro_rng = per_sensor([s.gyro_range for s in specs])
    acc_out, m_acc, b_acc = channel(
        acc,
        per_sensor([s.acc_noise_density * math.sqrt(fs) for s in specs]),
        per_sensor([math.hypot(s.acc_bias, errors.acc_bias) for s in specs]),
        per_sensor([s.acc_bias / bias_time for s in specs]),
        acc_rng,
        2 * acc_rng / per_sensor([2.0**s.bits for s in specs]),
    )
    gyro_out, m_gyro, b_gyro = channel(
        gyro,
        per_sensor([s.gyro_noise_density * math.sqrt(fs) for s in specs]),
        per_sensor([math.hypot(s.gyro_bias, errors.gyro_bias) for s in specs]),
        per_sensor([s.gyro_bias / bias_time for s in specs]),
        gyro_rng,
        2 * gyro_rng / per_sensor([2.0**s.bits for s in specs]),
    )
    mag_out = None
    if mag is not None:
        zero = per_sensor([0.0 for _ in specs])
        mag_out, _, _ = channel(
            mag,
            per_sensor([s.mag_noise for s in specs]),
            per_sensor([s.mag_bias for s in specs]),
            zero,
            None,
            per_sensor([s.mag_resolution for s in specs]),
        )

    valid = torch.ones(lead_t, dtype=torch.bool, device=device)
    if errors.drop_rate > 0:
        u = torch.rand(lead_t, generator=g, dtype=torch.float64).to(device)
        valid = u >= errors.drop_rate
        acc_out, gyro_out = _drop(acc_out, valid, errors.drop_mode), _drop(gyro_out, valid, errors.drop_mode)
        if mag_out is not None:
            mag_out = _drop(mag_out, valid, errors.drop_mode)

    meta = dict(signals.metadata)
    meta["errors"] = {
        "devices": [s.name for s in specs],
        "settings": errors,
        "acc_matrix": m_acc,
        "gyro_matrix": m_gyro,
        "acc_turn_on_bias": b_acc,
        "gyro_turn_on_bias": b_gyro,
    }
    return replace(signals, acc=acc_out, gyro=gyro_out, mag=mag_out, valid=valid, metadata=meta)


def _drop(x: torch.Tensor, valid: torch.Tensor, mode: str) -> torch.Tensor:
    """Lose the samples where ``valid`` (..., T, S) is False: NaN, or hold the last received one."""
    if mode == "nan":
        return torch.where(valid[..., None], x, torch.full_like(x, float("nan")))
    n_t = x.shape[-3]
    t = torch.arange(n_t, device=x.device).view((n_t, 1))
    last = torch.cummax(torch.where(valid, t, torch.full_like(t, -1)), dim=-2).values  # (..., T, S)
    first = torch.argmax(valid.to(torch.int8), dim=-2, keepdim=True)  # first received sample
    idx = torch.where(last < 0, first.expand_as(last), last)
    return torch.gather(x, -3, idx[..., None].expand_as(x))
