"""Measured external loads (force plates) as time series of wrenches in the world frame.

A :class:`ForceRecord` is one measured load, in MusclePose's Y-up world, SI units, at its own
sampling rate: the force on the subject ``force (N, 3)`` N, its point of application
``point (N, 3)`` m (the centre of pressure; NaN where the plate is unloaded) and a free
moment ``torque (N, 3)`` N m. ``segment`` names the MusclePose segment it acts on
(``"foot_r"``...) or is None when the file does not say (C3D plates); see
:func:`musclepose.motion.kinetics.assign_feet`.

Sources:

- OpenSim ``ExternalLoads`` XML + its ``.mot`` data file (:func:`opensim_loads`), with the
  forces and points expressed in ``ground`` as OpenSim's own examples write them. The
  ``applied_to_body`` (``calcn_r``...) is mapped to our segment.
- C3D force plates (:func:`c3d_loads`): the wrench ezc3d computes from the analog channels
  and the plate geometry (corners, origin offset, calibration matrix), rotated from the
  file's Z-up to Y-up by :meth:`~musclepose.io.c3d.C3DData.to_y_up`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .c3d import C3DData, plate_wrenches
from .errors import FormatError
from .opensim import ExternalForceSpec, read_external_loads, read_table
from .opensim.external_loads import datafile_candidates
from .opensim.model import OSIM_TO_SEGMENT

__all__ = ["ForceRecord", "c3d_loads", "opensim_loads"]


@dataclass(frozen=True)
class ForceRecord:
    """One measured external load on the subject (world Y-up, SI; see the module docstring)."""

    name: str
    segment: str | None
    times: np.ndarray
    force: np.ndarray
    point: np.ndarray
    torque: np.ndarray
    source: str = ""
    region: np.ndarray | None = None  # (4, 3) plate corners (m, world), when known

    def moment_about_origin(self) -> np.ndarray:
        """``(N, 3)`` moment of the wrench about the world origin, N m: ``p x F + T``.

        Unlike the centre of pressure this is defined (and smooth) when the force is zero,
        so it is what gets filtered and resampled.
        """
        p = np.where(np.isfinite(self.point), self.point, 0.0)
        return np.cross(p, self.force) + np.nan_to_num(self.torque)


def _columns(table, spec: ExternalForceSpec, cols: tuple[str, str, str] | None, what: str, path: Path) -> np.ndarray:
    if cols is None:
        return np.zeros((table.n_rows, 3))
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise FormatError(
            table.path, f"ExternalForce {spec.name!r} of {path.name} names {what} column(s) {missing}, which this "
            "file does not have", field=missing[0],
        )  # fmt: skip
    return np.stack([np.asarray(table.column(c), dtype=np.float64) for c in cols], axis=-1)


def _data_source(path: Path, specs: list[ExternalForceSpec], datafile: str | Path | None) -> Path:
    """The data file of an ExternalLoads XML: ``datafile`` if given, else its ``<datafile>`` found."""
    if datafile is not None:
        source = Path(datafile)
        if not source.is_file():
            raise FileNotFoundError(f"{source}: no such loads data file (given for {path.name})")
        return source
    spec = specs[0] if specs else None
    if spec is None or not spec.datafile_stored:
        raise FormatError(path, "no <datafile> in the ExternalLoads and none given (--loads-data FILE)",
                          field="datafile")  # fmt: skip
    if spec.datafile is None:
        looked = ", ".join(str(p) for p in datafile_candidates(path, spec.datafile_stored))
        raise FormatError(
            path, f"data file '{spec.datafile_stored}' not found (looked for {looked}); put it beside the XML "
            "or pass it with --loads-data FILE", field="datafile", line=spec.datafile_line,
        )  # fmt: skip
    return spec.datafile


def opensim_loads(xml_path: str | Path, datafile: str | Path | None = None) -> list[ForceRecord]:
    """The enabled forces of an OpenSim ``ExternalLoads`` file as :class:`ForceRecord` s.

    Parameters
    ----------
    xml_path
        The ``ExternalLoads`` XML.
    datafile
        The ``.mot``/``.sto`` with the force, point and torque columns; default: the
        ``<datafile>`` named in the XML, as stored or relative to the XML's folder, else the
        file of that name beside the XML
        (:func:`~musclepose.io.opensim.external_loads.find_datafile`).

    Raises
    ------
    FormatError
        Naming the XML: no data file found (with the places looked), a body MusclePose has no
        segment for, or a force or point expressed in a body frame other than ``ground`` (not
        supported: OpenSim needs that body's kinematics to convert it). Naming the data file: a
        missing column or a non-finite force.
    FileNotFoundError
        A given ``datafile`` that does not exist.
    """
    path = Path(xml_path)
    specs = [s for s in read_external_loads(path) if s.enabled]
    source = _data_source(path, specs, datafile)
    table = read_table(source)
    records = []
    for spec in specs:
        for frame, what in ((spec.force_expressed_in_body, "force"), (spec.point_expressed_in_body, "point")):
            if frame.lower() != "ground":
                raise FormatError(
                    path,
                    f"ExternalForce {spec.name!r}: {what} expressed in {frame!r}; only 'ground' is supported",
                    field=f"{what}_expressed_in_body",
                )
        segment = OSIM_TO_SEGMENT.get(spec.applied_to_body)
        if segment is None:
            raise FormatError(
                path,
                f"ExternalForce {spec.name!r} acts on {spec.applied_to_body!r}, which has no MusclePose segment",
                field="applied_to_body",
            )
        force = _columns(table, spec, spec.force_columns, "force", path)
        point = _columns(table, spec, spec.point_columns, "point", path)
        torque = _columns(table, spec, spec.torque_columns, "torque", path)
        bad = ~np.isfinite(force).all(-1)
        if bad.any():
            row = int(np.argmax(bad))
            raise FormatError(table.path, f"non-finite force for {spec.name!r}", field=spec.force_identifier, frame=row)
        records.append(
            ForceRecord(spec.name, segment, np.asarray(table.time, float), force, point, torque, str(source))
        )
    return records


def c3d_loads(data: C3DData, min_force: float = 20.0) -> list[ForceRecord]:
    """The force plates of a C3D file as :class:`ForceRecord` s in the Y-up world.

    ``segment`` is None (a C3D file does not say which foot stood on which plate): assign
    it with :func:`musclepose.motion.kinetics.assign_feet`. The point is the centre of
    pressure (NaN below ``min_force`` N of normal force) and the torque the free moment about
    it.
    """
    data = data.to_y_up()
    out = []
    for w in plate_wrenches(data, min_force=min_force):
        corners = data.force_plates[w.plate].corners
        out.append(
            ForceRecord(f"plate{w.plate + 1}", None, w.times, w.force, w.cop, w.free_moment, str(data.path), corners)
        )
    return out
