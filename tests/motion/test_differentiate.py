"""Differentiation against analytic derivatives and scipy's Savitzky-Golay filter."""

import numpy as np
import pytest
import torch
from scipy.signal import savgol_filter

from musclepose.motion import derivatives


def test_central_is_exact_for_quadratics_and_uses_fps():
    fps = 120.0
    t = torch.arange(50, dtype=torch.float64) / fps
    x = torch.stack([3 * t**2 - t + 2, -0.5 * t**2], -1)
    v, a = derivatives(x, fps)
    np.testing.assert_allclose(v.numpy(), torch.stack([6 * t - 1, -t], -1).numpy(), atol=1e-9)
    np.testing.assert_allclose(a.numpy(), np.tile([6.0, -1.0], (50, 1)), atol=1e-6)


def test_central_on_a_sinusoid_converges_at_second_order():
    errs = []
    for fps in (100.0, 200.0):
        t = torch.arange(int(fps), dtype=torch.float64) / fps
        x = torch.sin(2 * np.pi * 2 * t)[:, None]
        v, _ = derivatives(x, fps)
        ref = 2 * np.pi * 2 * np.cos(2 * np.pi * 2 * t.numpy())
        errs.append(np.abs(v[1:-1, 0].numpy() - ref[1:-1]).max())
    assert errs[0] / errs[1] == pytest.approx(4.0, rel=0.05)  # halving dt quarters the error


def test_savgol_equals_scipy_including_edges():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 80, 3))
    v, a = derivatives(torch.tensor(x), 50.0, method="savgol", window=9, polyorder=3)
    kw = {"axis": -2, "delta": 1 / 50.0, "mode": "interp"}
    np.testing.assert_allclose(v.numpy(), savgol_filter(x, 9, 3, deriv=1, **kw), atol=1e-9)
    np.testing.assert_allclose(a.numpy(), savgol_filter(x, 9, 3, deriv=2, **kw), atol=1e-6)


def test_savgol_reduces_noise_amplification():
    rng = np.random.default_rng(1)
    fps = 100.0
    t = np.arange(300) / fps
    clean = np.sin(2 * np.pi * 0.5 * t)
    x = torch.tensor(clean + rng.normal(0, 0.002, t.size))[:, None]
    ref = (2 * np.pi * 0.5) ** 2 * -clean
    _, a_c = derivatives(x, fps)
    _, a_s = derivatives(x, fps, method="savgol", window=21, polyorder=3)
    rms = lambda e: float(np.sqrt(np.mean(e**2)))  # noqa: E731
    assert rms(a_s[20:-20, 0].numpy() - ref[20:-20]) < 0.2 * rms(a_c[20:-20, 0].numpy() - ref[20:-20])


def test_errors():
    x = torch.zeros(3, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="at least 4 frames"):
        derivatives(x, 100.0)
    with pytest.raises(ValueError, match="fps"):
        derivatives(torch.zeros(10, 2), 0.0)
    with pytest.raises(ValueError, match="odd window"):
        derivatives(torch.zeros(30, 2), 100.0, method="savgol", window=10)
    with pytest.raises(ValueError, match="method"):
        derivatives(torch.zeros(30, 2), 100.0, method="spline-ish")
