"""The length unit of marker data checked against the data themselves.

A file's header can name the wrong unit (a TRC whose header says ``m`` but holds millimetres
builds a body 1,757 m tall and runs inverse kinematics for minutes). :func:`checked_units`
measures the markers' extent per frame (the diagonal of their bounding box, median over frames)
and, when it is not a person's in the header's unit but is in another's (m, cm or mm), converts
the positions and says so. Data that no unit makes a person of (a few lab markers far apart, a
synthetic set) are left as they are: the fit will say how well they match a body. Positions in
metres, any axes.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from .opensim.trc import TRC_UNITS, MarkerData

__all__ = ["PERSON_SPAN_M", "checked_units", "marker_span_m"]

#: The extent (m) of a marker set on a person, from a few lower-limb markers (~0.3 m) to a full body
#: with the arms overhead (~2.5 m).
PERSON_SPAN_M = (0.25, 3.0)


def marker_span_m(positions: np.ndarray, max_frames: int = 200) -> float:
    """Median over frames (at most ``max_frames``, evenly spaced) of the markers' bounding-box diagonal."""
    p = np.asarray(positions, dtype=np.float64)
    if p.shape[0] > max_frames:
        p = p[np.linspace(0, p.shape[0] - 1, max_frames).astype(int)]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        span = np.linalg.norm(np.nanmax(p, axis=1) - np.nanmin(p, axis=1), axis=-1)
        return float(np.nanmedian(span))


def checked_units(path: str | Path, markers: MarkerData) -> tuple[MarkerData, str | None]:
    """``markers`` in metres whatever unit its header names (module docstring), and a note when converted."""
    span = marker_span_m(markers.positions)
    lo, hi = PERSON_SPAN_M
    if not np.isfinite(span) or lo <= span <= hi:
        return markers, None
    said = markers.units_in_file
    # The positions were read as header unit -> m; the true unit u gives factor TRC_UNITS[u] / TRC_UNITS[said].
    fits = {u: TRC_UNITS[u] / TRC_UNITS.get(said, 1.0) for u in TRC_UNITS if u != said}
    fits = {u: f for u, f in fits.items() if lo <= span * f <= hi}
    if not fits:
        return markers, None
    unit, factor = min(fits.items(), key=lambda kv: abs(np.log(span * kv[1] / 1.5)))
    note = (
        f"{Path(path).name}: the header says {said}, but the markers span {span:.3g} m per frame read so; "
        f"they are in {unit} (span {span * factor:.2f} m), converted"
    )
    return replace(markers, positions=markers.positions * factor, units_in_file=unit), note
