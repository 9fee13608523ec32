"""OpenSim ``Function`` elements (coordinate couplings) read from a model and evaluated.

A ``CustomJoint``'s ``TransformAxis`` moves its body by ``f(q)``, an OpenSim Function of a
coordinate: ``LinearFunction`` (``coefficients = a b``: ``a q + b``; a mirrored left hip has
``a = -1``), ``Constant``, ``PolynomialFunction`` (coefficients highest order first),
``SimmSpline``, ``NaturalCubicSpline``, ``GCVSpline``, ``PiecewiseLinearFunction`` and
``MultiplierFunction`` (``scale * inner(q)``). OpenSim 4 writes the function as the axis's
child (``<LinearFunction name="function">``), OpenSim 3 inside a ``<function>`` element; both
are read. Splines extrapolate linearly with their end slopes, as OpenSim's do. Values and
derivatives are numpy, ``q`` any shape. Unknown function types raise
:class:`~musclepose.io.errors.FormatError` naming the model file, line and axis.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline, PPoly, make_interp_spline
from scipy.linalg import solve_banded

from ..errors import FormatError

__all__ = ["OsimFunction", "fmm_spline", "read_function"]

_SPLINES = ("SimmSpline", "NaturalCubicSpline", "GCVSpline", "PiecewiseLinearFunction")


@dataclass(frozen=True)
class OsimFunction:
    """An OpenSim Function of one coordinate: ``f(q)`` and ``f'(q)``.

    Attributes
    ----------
    kind : str
        The XML element's tag (``"LinearFunction"``, ``"SimmSpline"``, ...).
    params : dict
        What defines it: ``coefficients``, ``value``, ``x``/``y``, ``scale``.
    """

    kind: str
    params: dict = field(default_factory=dict)
    _poly: PPoly | None = field(default=None, repr=False, compare=False)
    _inner: OsimFunction | None = field(default=None, repr=False, compare=False)

    def __call__(self, q) -> np.ndarray:
        q = np.asarray(q, dtype=np.float64)
        if self.kind == "LinearFunction":
            a, b = self.params["coefficients"]
            return a * q + b
        if self.kind == "Constant":
            return np.full_like(q, self.params["value"])
        if self.kind == "PolynomialFunction":
            return np.polyval(self.params["coefficients"], q)
        if self.kind == "MultiplierFunction":
            return self.params["scale"] * self._inner(q)
        return self._spline(q, 0)

    def derivative(self, q) -> np.ndarray:
        """``df/dq`` at ``q``."""
        q = np.asarray(q, dtype=np.float64)
        if self.kind == "LinearFunction":
            return np.full_like(q, self.params["coefficients"][0])
        if self.kind == "Constant":
            return np.zeros_like(q)
        if self.kind == "PolynomialFunction":
            return np.polyval(np.polyder(self.params["coefficients"]), q)
        if self.kind == "MultiplierFunction":
            return self.params["scale"] * self._inner.derivative(q)
        return self._spline(q, 1)

    @property
    def is_linear(self) -> bool:
        """``a q + b`` exactly (a LinearFunction or a Constant, possibly scaled)."""
        if self.kind == "MultiplierFunction":
            return self._inner.is_linear
        return self.kind in ("LinearFunction", "Constant")

    def _spline(self, q: np.ndarray, nu: int) -> np.ndarray:
        # Inside the knots the piecewise polynomial; outside, the tangent at the nearest end.
        x = self.params["x"]
        lo, hi = x[0], x[-1]
        inside = np.clip(q, lo, hi)
        value = self._poly(inside, nu)
        slope_lo, slope_hi = self._poly(lo, 1), self._poly(hi, 1)
        if nu == 1:
            return np.where(q < lo, slope_lo, np.where(q > hi, slope_hi, value))
        return value + np.where(q < lo, (q - lo) * slope_lo, 0.0) + np.where(q > hi, (q - hi) * slope_hi, 0.0)


def fmm_spline(x: np.ndarray, y: np.ndarray) -> PPoly:
    """The cubic interpolating spline of Forsythe, Malcolm & Moler (1977), as OpenSim's ``SimmSpline``.

    End conditions: the third derivative at each end equals that of the cubic through the
    four points nearest to it, so any cubic is reproduced exactly (with three points that
    third derivative is 0; two points give the line). Written out because scipy's
    ``CubicSpline`` offers no such end condition: its not-a-knot, natural and clamped splines
    differ from OpenSim's near the ends.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    n = x.size
    h = np.diff(x)
    if n == 2:
        return PPoly(np.array([[0.0], [0.0], [(y[1] - y[0]) / h[0]], [y[0]]]), x)
    slope = np.diff(y) / h
    # Tridiagonal system for sigma = s''/6 at the knots (FMM's c before the final scaling).
    diag = np.empty(n)
    rhs = np.zeros(n)
    diag[1:-1] = 2.0 * (h[:-1] + h[1:])
    rhs[1:-1] = slope[1:] - slope[:-1]
    diag[0], diag[-1] = -h[0], -h[-1]
    if n > 3:
        d3_lo = rhs[2] / (x[3] - x[1]) - rhs[1] / (x[2] - x[0])
        d3_hi = rhs[-2] / (x[-1] - x[-3]) - rhs[-3] / (x[-2] - x[-4])
        rhs[0] = d3_lo * h[0] ** 2 / (x[3] - x[0])
        rhs[-1] = -d3_hi * h[-1] ** 2 / (x[-1] - x[-4])
    ab = np.zeros((3, n))
    ab[0, 1:] = h  # super-diagonal
    ab[1] = diag
    ab[2, :-1] = h  # sub-diagonal
    sigma = solve_banded((1, 1), ab, rhs)
    b = slope - h * (sigma[1:] + 2.0 * sigma[:-1])
    c = 3.0 * sigma[:-1]
    d = (sigma[1:] - sigma[:-1]) / h
    return PPoly(np.stack([d, c, b, y[:-1]]), x)


def _numbers(path: Path, el: ET.Element, tag: str, lines: dict, where: str) -> np.ndarray:
    text = el.findtext(tag)
    line = lines.get(el.find(tag), lines.get(el)) if lines else None
    try:
        v = np.array((text or "").split(), dtype=np.float64)
    except ValueError:
        raise FormatError(path, f"{el.tag} <{tag}> {text!r} is not numbers", line=line, field=where) from None
    if v.size == 0 or not np.isfinite(v).all():
        raise FormatError(path, f"{el.tag} needs finite numbers in <{tag}>", line=line, field=where)
    return v


def _function_element(el: ET.Element) -> ET.Element | None:
    """The function element under a TransformAxis or a ``<function>`` holder (OpenSim 3 wraps it)."""
    if el.tag == "function":
        return next((c for c in el if isinstance(c.tag, str)), None)
    if el.tag == "TransformAxis":
        fn = next((c for c in el if c.tag not in ("coordinates", "axis") and isinstance(c.tag, str)), None)
        return _function_element(fn) if fn is not None and fn.tag == "function" else fn
    return el


def read_function(
    el: ET.Element, path: str | Path, lines: dict | None = None, where: str = "function"
) -> OsimFunction | None:
    """The OpenSim Function under ``el`` (a TransformAxis, a ``<function>`` holder or the function itself).

    Returns None when the axis has no function (OpenSim then uses ``q`` itself for an axis
    with a coordinate). ``where`` names the axis in errors.
    """
    path = Path(path)
    lines = lines or {}
    fn = _function_element(el)
    if fn is None:
        return None
    tag = fn.tag
    line = lines.get(fn)
    if tag == "LinearFunction":
        c = _numbers(path, fn, "coefficients", lines, where)
        if c.size != 2:
            raise FormatError(path, f"LinearFunction needs 2 coefficients, got {c.size}", line=line, field=where)
        return OsimFunction(tag, {"coefficients": (float(c[0]), float(c[1]))})
    if tag == "Constant":
        return OsimFunction(tag, {"value": float(_numbers(path, fn, "value", lines, where)[0])})
    if tag == "PolynomialFunction":
        return OsimFunction(tag, {"coefficients": _numbers(path, fn, "coefficients", lines, where)})
    if tag == "MultiplierFunction":
        holder = fn.find("function")
        inner = read_function(holder, path, lines, where) if holder is not None else None
        if inner is None:
            raise FormatError(path, "MultiplierFunction without an inner <function>", line=line, field=where)
        scale = float(_numbers(path, fn, "scale", lines, where)[0]) if fn.find("scale") is not None else 1.0
        return OsimFunction(tag, {"scale": scale}, _inner=inner)
    if tag in _SPLINES:
        x, y = _numbers(path, fn, "x", lines, where), _numbers(path, fn, "y", lines, where)
        if x.size != y.size or x.size < 2 or np.any(np.diff(x) <= 0):
            raise FormatError(path, f"{tag} needs as many x as y values (>= 2), x increasing", line=line, field=where)
        if tag == "SimmSpline":
            poly = fmm_spline(x, y)
        elif tag == "PiecewiseLinearFunction" or x.size < 3:
            poly = PPoly(np.stack([np.diff(y) / np.diff(x), y[:-1]]), x)
        elif tag == "NaturalCubicSpline":
            poly = CubicSpline(x, y, bc_type="natural")  # a PPoly
        else:  # GCVSpline with zero error variance: the natural interpolating spline of its degree
            half = int(float(fn.findtext("half_order") or 3))
            if half >= 2 and x.size > 2 * half - 1:
                ends = [(j, 0.0) for j in range(half, 2 * half - 1)]  # derivatives half..2 half-2 vanish
                poly = PPoly.from_spline(make_interp_spline(x, y, k=2 * half - 1, bc_type=(ends, ends)))
            else:
                poly = CubicSpline(x, y, bc_type="natural")  # a PPoly
        return OsimFunction(tag, {"x": x, "y": y}, _poly=poly)
    raise FormatError(
        path, f"unsupported OpenSim function <{tag}> (supported: LinearFunction, Constant, PolynomialFunction, "
        f"MultiplierFunction, {', '.join(_SPLINES)})", line=line, field=where,
    )  # fmt: skip
