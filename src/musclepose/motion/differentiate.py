"""Time derivatives of sampled signals (joint angles, positions) that use the frame rate.

Two methods, both torch (differentiable, batched: time is dimension ``-2``, channels ``-1``):

``"central"``
    Second-order central differences, ``x'(t) = (x[t+1] - x[t-1]) / (2 dt)`` and
    ``x''(t) = (x[t+1] - 2 x[t] + x[t-1]) / dt^2``, with second-order one-sided stencils at
    the two ends. Exact for quadratics; amplifies noise by ~1/dt and ~1/dt^2, so use it on
    clean (simulated or filtered) data.
``"savgol"``
    Savitzky-Golay (1964) derivative filters: a least-squares polynomial of ``polyorder``
    over ``window`` frames, differentiated analytically; the ends use the same polynomial
    fitted to the first/last ``window`` frames (like ``scipy.signal.savgol_filter``'s
    ``mode="interp"``). Coefficients come from ``scipy.signal.savgol_coeffs``, so the
    result equals scipy's filter while staying differentiable in torch.

Root rotation angles must be continuous (unwrapped) before differentiation.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy.signal import savgol_coeffs

__all__ = ["central_velocity", "derivatives"]

METHODS = ("central", "savgol")


def _central(x: torch.Tensor, dt: float) -> tuple[torch.Tensor, torch.Tensor]:
    v = torch.empty_like(x)
    a = torch.empty_like(x)
    v[..., 1:-1, :] = (x[..., 2:, :] - x[..., :-2, :]) / (2 * dt)
    v[..., 0, :] = (-3 * x[..., 0, :] + 4 * x[..., 1, :] - x[..., 2, :]) / (2 * dt)
    v[..., -1, :] = (3 * x[..., -1, :] - 4 * x[..., -2, :] + x[..., -3, :]) / (2 * dt)
    a[..., 1:-1, :] = (x[..., 2:, :] - 2 * x[..., 1:-1, :] + x[..., :-2, :]) / dt**2
    a[..., 0, :] = (2 * x[..., 0, :] - 5 * x[..., 1, :] + 4 * x[..., 2, :] - x[..., 3, :]) / dt**2
    a[..., -1, :] = (2 * x[..., -1, :] - 5 * x[..., -2, :] + 4 * x[..., -3, :] - x[..., -4, :]) / dt**2
    return v, a


def central_velocity(x: torch.Tensor, fps: float) -> torch.Tensor:
    """The first derivative of :func:`derivatives`' ``"central"`` method alone, bit for bit, without the
    second and with one output array (a 1-hour recording's velocities are 130 MB; the pair and the
    formula's temporaries would be four times that)."""
    if x.shape[-2] < 4:
        raise ValueError(f"central differences need at least 4 frames; got {x.shape[-2]}")
    dt = 1.0 / float(fps)
    v = torch.empty_like(x)
    torch.sub(x[..., 2:, :], x[..., :-2, :], out=v[..., 1:-1, :])
    v[..., 1:-1, :] /= 2 * dt
    v[..., 0, :] = (-3 * x[..., 0, :] + 4 * x[..., 1, :] - x[..., 2, :]) / (2 * dt)
    v[..., -1, :] = (3 * x[..., -1, :] - 4 * x[..., -2, :] + x[..., -3, :]) / (2 * dt)
    return v


def _savgol(x: torch.Tensor, dt: float, window: int, polyorder: int, deriv: int) -> torch.Tensor:
    half = window // 2
    t = x.shape[-2]
    centre = savgol_coeffs(window, polyorder, deriv=deriv, delta=dt, use="dot")
    # Rows for the first/last `half` frames: the polynomial through the first/last window.
    head = np.stack([savgol_coeffs(window, polyorder, deriv=deriv, delta=dt, pos=i, use="dot") for i in range(half)])
    tail = np.stack(
        [savgol_coeffs(window, polyorder, deriv=deriv, delta=dt, pos=window - half + i, use="dot") for i in range(half)]
    )
    kw = {"dtype": x.dtype, "device": x.device}
    lead = x.shape[:-2]
    xc = x.reshape(-1, t, x.shape[-1]).transpose(1, 2).reshape(-1, 1, t)  # (N*C, 1, T)
    mid = F.conv1d(xc, torch.as_tensor(centre, **kw).view(1, 1, -1))  # (N*C, 1, T - 2 half)
    first = xc[..., :window] @ torch.as_tensor(head, **kw).T[None]
    last = xc[..., -window:] @ torch.as_tensor(tail, **kw).T[None]
    out = torch.cat([first, mid, last], dim=-1)
    return out.reshape(-1, x.shape[-1], t).transpose(1, 2).reshape(lead + (t, x.shape[-1]))


def derivatives(
    x: torch.Tensor,
    fps: float,
    method: str = "central",
    window: int = 11,
    polyorder: int = 3,
) -> tuple[torch.Tensor, torch.Tensor]:
    """First and second time derivatives of ``x (..., T, C)`` sampled at ``fps`` Hz.

    Parameters
    ----------
    x
        Signal with time on dimension -2.
    fps
        Sampling rate in Hz; derivatives are per second (``dt = 1 / fps``).
    method
        ``"central"`` or ``"savgol"`` (see the module docstring).
    window, polyorder
        Savitzky-Golay window length (odd, frames) and polynomial order.
    """
    if not (isinstance(fps, (int, float)) and np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number; got {fps!r}")
    if x.ndim < 2:
        raise ValueError(f"x must have shape (..., T, C); got {tuple(x.shape)}")
    dt = 1.0 / float(fps)
    t = x.shape[-2]
    if method == "central":
        if t < 4:
            raise ValueError(f"central differences need at least 4 frames; got {t}")
        return _central(x, dt)
    if method == "savgol":
        if window % 2 == 0 or window <= polyorder:
            raise ValueError(f"savgol needs an odd window > polyorder; got window={window}, polyorder={polyorder}")
        if t < window:
            raise ValueError(f"savgol with window={window} needs at least {window} frames; got {t}")
        if polyorder < 2:
            raise ValueError(f"savgol needs polyorder >= 2 for a second derivative; got {polyorder}")
        return _savgol(x, dt, window, polyorder, 1), _savgol(x, dt, window, polyorder, 2)
    raise ValueError(f"method must be one of {METHODS}; got {method!r}")
