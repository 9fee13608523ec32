"""C3D motion-capture files (markers, model outputs, analog channels, force plates) via ezc3d.

Parsing is delegated to the maintained ``ezc3d`` package (Michaud & Begon 2021, pyomeca),
imported only when a file is read, as is its force-plate computation (plate types 1-4); this
module checks what ezc3d does not (:mod:`.c3d_parameters`), names things and converts units.
Axes are the file's (most labs are **Z-up**); :meth:`C3DData.to_y_up` turns markers, plate
geometry and plate wrenches to our Y-up with ``(x, y, z) -> (x, z, -y)``. Markers are in
**metres**; model outputs (Plug-in Gait angles, per-kg kinetics, joint centres, bone points)
are kept as stored with the unit the ``POINT`` parameters claim. Times are absolute trial
times, ``(first_frame + i) / rate``, so events line up. Frames in errors are 0-based.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .c3d_parameters import check_parameter_section, fix_text, header_frames, parameter, parameter_strings
from .errors import FormatError
from .opensim.trc import TRC_UNITS, MarkerData

__all__ = ["C3DData", "C3DEvent", "ForcePlate", "PlateWrench", "plate_wrenches", "read_c3d"]

# Plug-in Gait "bone" points: segment code + O(rigin)/A(nterior)/L(ateral)/P(roximal).
_PIG_SEGMENTS = {
    "PEL", "LFE", "RFE", "LTI", "RTI", "LFO", "RFO", "LTO", "RTO", "HED", "TRX",
    "LCL", "RCL", "LHU", "RHU", "LRA", "RRA", "LHN", "RHN",
}  # fmt: skip
_DEFAULT_TYPE_GROUPS = ("ANGLES", "FORCES", "MOMENTS", "POWERS", "SCALARS", "REACTIONS", "MODELED_MARKERS")
_MOMENT_UNITS = {"nmm": 1e-3, "n.mm": 1e-3, "n mm": 1e-3, "nm": 1.0, "n.m": 1.0, "n m": 1.0}
_FORCE_UNITS = {"n": 1.0, "kn": 1e3}


@dataclass(frozen=True)
class C3DEvent:
    """An ``EVENT`` entry: ``label`` (e.g. ``"Foot Strike"``), ``context`` (``"Left"``), time (s)."""

    label: str
    context: str
    time: float
    subject: str = ""


@dataclass(frozen=True)
class ForcePlate:
    """Geometry and channels of one force plate (``FORCE_PLATFORM`` group).

    Attributes
    ----------
    index : int
        0-based plate number.
    type : int
        C3D plate type (2 = six channels Fx, Fy, Fz, Mx, My, Mz; AMTI).
    corners : np.ndarray, (4, 3)
        Corner positions (m) in the lab frame, numbered as the C3D specification: corner 1
        in the plate's +x+y quadrant, then -x+y, -x-y, +x-y.
    origin : np.ndarray, (3,)
        ``FORCE_PLATFORM:ORIGIN`` (m) in the plate frame, as stored.
    channels : tuple of int
        0-based analog channel index of each plate output.
    channel_names : tuple of str
        Their ``ANALOG:LABELS``.
    """

    index: int
    type: int
    corners: np.ndarray
    origin: np.ndarray
    channels: tuple[int, ...]
    channel_names: tuple[str, ...]

    @property
    def centre(self) -> np.ndarray:
        """Centre of the plate surface (m, lab frame)."""
        return self.corners.mean(axis=0)

    @property
    def rotation(self) -> np.ndarray:
        """``(3, 3)`` plate axes as columns in the lab frame (x: corner 2 -> 1, y: corner 4 -> 1).

        For a level plate built to the specification, the plate z axis points down into the
        plate.
        """
        x = self.corners[0] - self.corners[1]
        y = self.corners[0] - self.corners[3]
        z = np.cross(x, y)
        y = np.cross(z, x)
        return np.stack([v / np.linalg.norm(v) for v in (x, y, z)], axis=1)


@dataclass(frozen=True)
class PlateWrench:
    """One plate's wrench on the subject, at the analog rate, in the lab frame.

    ``force`` (N) and ``moment`` (N m, about :attr:`ForcePlate.centre`) are ``(N, 3)``;
    ``cop`` (m) and ``free_moment`` (N m, the torque about the CoP, along the plate normal
    for a level plate) are NaN where the normal force is below the threshold.
    """

    plate: int
    times: np.ndarray
    force: np.ndarray
    moment: np.ndarray
    cop: np.ndarray
    free_moment: np.ndarray


@dataclass
class C3DData:
    """The contents of a C3D file (see the module docstring for units and axes).

    Attributes
    ----------
    path : Path
    markers : MarkerData
        Real markers only (metres).
    model_outputs : dict of str to np.ndarray (T, 3)
        Computed points (angles, forces, moments, powers, modelled markers, bone points),
        values as stored; NaN where the file marks them invalid.
    model_output_units, model_output_groups : dict of str to str
        Each output's unit (from ``POINT:*_UNITS``) and group (``"ANGLES"``, ``"BONES"``...).
    analog_names, analog_units : list of str
    analog_rate : float
        Hz.
    analogs : np.ndarray, (N, C)
        Analog channels (scaled by ezc3d with ``SCALE``, ``OFFSET``, ``GEN_SCALE``).
    analog_times : np.ndarray, (N,)
    force_plates : list of ForcePlate
    events : list of C3DEvent
    subject_name : str or None
    subject_mass_kg, subject_height_m : float or None
        From ``PROCESSING:Bodymass`` / ``Height`` (Vicon writes height in mm).
    parameters : dict
        Every parameter group as ``{group: {name: value}}``.
    up_axis : str
        ``"z"`` as read (file axes), ``"y"`` after :meth:`to_y_up`.
    """

    path: Path
    markers: MarkerData
    model_outputs: dict[str, np.ndarray]
    model_output_units: dict[str, str]
    model_output_groups: dict[str, str]
    analog_names: list[str]
    analog_units: list[str]
    analog_rate: float
    analogs: np.ndarray
    analog_times: np.ndarray
    force_plates: list[ForcePlate]
    events: list[C3DEvent]
    subject_name: str | None
    subject_mass_kg: float | None
    subject_height_m: float | None
    parameters: dict[str, dict[str, Any]] = field(repr=False)
    up_axis: str = "z"
    plate_error: str | None = None  # why ezc3d could not compute plate wrenches, if it could not
    _plates_raw: list[dict[str, np.ndarray]] = field(default_factory=list, repr=False)

    def analog(self, name: str) -> np.ndarray:
        """One analog channel ``(N,)`` by label."""
        try:
            return self.analogs[:, self.analog_names.index(name)]
        except ValueError:
            raise KeyError(f"no analog channel {name!r} in {self.path}") from None

    def to_y_up(self) -> C3DData:
        """Rotate markers, plate geometry and (lazily) plate wrenches from Z-up to Y-up.

        ``(x, y, z) -> (x, z, -y)``; model outputs are left as stored (most are angles or
        per-kg kinetics in segment frames, which a lab rotation does not apply to).
        """
        if self.up_axis == "y":
            return self
        plates = [replace(p, corners=_y_up(p.corners)) for p in self.force_plates]
        return replace(self, markers=self.markers.to_y_up(), force_plates=plates, up_axis="y")


def _y_up(v: np.ndarray) -> np.ndarray:
    return np.stack([v[..., 0], v[..., 2], -v[..., 1]], axis=-1)


def read_c3d(path: str | Path) -> C3DData:
    """Read a C3D file (any processor type; integer or float data) with ezc3d.

    Parameters
    ----------
    path
        The ``.c3d`` file.

    Returns
    -------
    C3DData

    Raises
    ------
    FormatError
        ezc3d cannot parse it (empty, not C3D, broken header or parameters), the data
        section is shorter than the header's frame count (truncated file), a point label is
        duplicated, or its units are unknown.
    """
    import ezc3d  # lazy: keeps ``import musclepose.io`` light

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    check_parameter_section(path)
    plate_error = None
    try:
        try:
            c = ezc3d.c3d(str(path), extract_forceplat_data=True)
        except RuntimeError as e:  # unsupported plate type: read the rest without plates
            plate_error = str(e)
            c = ezc3d.c3d(str(path))
    except (OSError, RuntimeError, ValueError) as e:
        raise FormatError(path, f"not a readable C3D file ({e})") from e
    params = {g: {k: v for k, v in grp.items() if not k.startswith("__")} for g, grp in c["parameters"].items()}
    params = {g: v for g, v in params.items() if not g.startswith("__")}

    points = np.asarray(c["data"]["points"], dtype=np.float64)  # (4, P, T)
    n_points, n_frames = points.shape[1], points.shape[2]
    expected = header_frames(path)
    if expected is not None and n_frames < expected:
        raise FormatError(
            path,
            f"truncated: the header announces {expected} frames but the data section holds {n_frames}",
            frame=n_frames,  # 0-based index of the first missing frame
        )
    rate = float(c["header"]["points"]["frame_rate"])
    first = int(c["header"]["points"]["first_frame"])
    times = (first + np.arange(n_frames)) / rate if rate > 0 else np.arange(n_frames, dtype=np.float64)

    labels = parameter_strings(params, "POINT", "LABELS", n_points)
    labels = [lab or f"point{i + 1}" for i, lab in enumerate(labels)]
    dup = sorted({lab for lab in labels if labels.count(lab) > 1})
    if dup:
        raise FormatError(path, f"duplicate point label(s) {dup}", field=f"POINT:LABELS {dup[0]}")
    xyz = points[:3].transpose(2, 1, 0).copy()  # (T, P, 3)
    residuals = c["data"].get("meta_points", {}).get("residuals")
    if residuals is not None and np.shape(residuals)[1:] == (n_points, n_frames):
        xyz[(np.asarray(residuals)[0] < 0).T] = np.nan

    groups: dict[str, str] = {}
    units_of: dict[str, str] = {}
    type_groups = [str(v) for v in (parameter(params, "POINT", "TYPE_GROUPS") or [])]
    pairs = list(zip(type_groups[::2], type_groups[1::2], strict=False)) or [(g, g[:-1]) for g in _DEFAULT_TYPE_GROUPS]
    point_units = fix_text(str((parameter(params, "POINT", "UNITS") or ["mm"])[0]))
    for plural, singular in pairs:
        unit_list = parameter(params, "POINT", f"{singular}_UNITS") or ([point_units] if "MARKER" in plural else [""])
        for lab in parameter(params, "POINT", plural) or []:
            lab = fix_text(str(lab))
            if lab in labels:
                groups[lab] = plural
                units_of[lab] = fix_text(str(unit_list[0]))
    for lab in labels:
        if lab not in groups and len(lab) == 4 and lab[:3] in _PIG_SEGMENTS and lab[3] in "OALP":
            groups[lab], units_of[lab] = "BONES", point_units

    if point_units.lower() not in TRC_UNITS:
        raise FormatError(path, f"unknown point unit {point_units!r}", field="POINT:UNITS")
    marker_idx = [i for i, lab in enumerate(labels) if lab not in groups]
    markers = MarkerData(
        path=path,
        names=[labels[i] for i in marker_idx],
        positions=xyz[:, marker_idx] * TRC_UNITS[point_units.lower()],
        fps=rate,
        times=times,
        units_in_file=point_units,
    )
    model_outputs = {lab: xyz[:, i] for i, lab in enumerate(labels) if lab in groups}

    analogs = np.asarray(c["data"]["analogs"], dtype=np.float64)[0].T  # (N, C)
    analog_rate = float(c["header"]["analogs"]["frame_rate"] or 0.0)
    n_analog = analogs.shape[1]
    a_first = int(c["header"]["analogs"]["first_frame"])
    analog_times = (a_first + np.arange(analogs.shape[0])) / analog_rate if analog_rate > 0 else np.zeros(0)
    analog_names = parameter_strings(params, "ANALOG", "LABELS", n_analog)
    analog_names = [n or f"analog{i + 1}" for i, n in enumerate(analog_names)]
    analog_units = parameter_strings(params, "ANALOG", "UNITS", n_analog)

    plates = _force_plates(path, params, analog_names, point_units)
    raw = list(c["data"].get("platform", [])) if plate_error is None else []

    events = []
    ev_times = parameter(params, "EVENT", "TIMES")
    if ev_times is not None and np.size(ev_times):
        ev_times = np.asarray(ev_times, dtype=np.float64).reshape(2, -1)
        n_ev = ev_times.shape[1]
        ev_labels = parameter_strings(params, "EVENT", "LABELS", n_ev)
        ev_ctx = parameter_strings(params, "EVENT", "CONTEXTS", n_ev)
        ev_subj = parameter_strings(params, "EVENT", "SUBJECTS", n_ev)
        for k in range(n_ev):  # TIMES rows: minutes, seconds
            events.append(C3DEvent(ev_labels[k], ev_ctx[k], float(60 * ev_times[0, k] + ev_times[1, k]), ev_subj[k]))
        events.sort(key=lambda e: e.time)

    mass = parameter(params, "PROCESSING", "Bodymass")
    height = parameter(params, "PROCESSING", "Height")
    mass = float(np.ravel(mass)[0]) if mass is not None and np.size(mass) else None
    height = float(np.ravel(height)[0]) if height is not None and np.size(height) else None
    if height is not None and height > 3.0:  # Plug-in Gait stores mm
        height /= 1000.0
    names = parameter_strings(params, "SUBJECTS", "NAMES", 1)
    return C3DData(
        path=path,
        markers=markers,
        model_outputs=model_outputs,
        model_output_units=units_of,
        model_output_groups=groups,
        analog_names=analog_names,
        analog_units=analog_units,
        analog_rate=analog_rate,
        analogs=analogs,
        analog_times=analog_times,
        force_plates=plates,
        events=events,
        subject_name=names[0] or None,
        subject_mass_kg=mass if mass and mass > 0 else None,
        subject_height_m=height if height and height > 0 else None,
        parameters={
            g: {k: v.get("value") if isinstance(v, dict) else v for k, v in grp.items()} for g, grp in params.items()
        },
        plate_error=plate_error,
        _plates_raw=raw,
    )


def _force_plates(path: Path, params: dict, analog_names: list[str], point_units: str) -> list[ForcePlate]:
    used = parameter(params, "FORCE_PLATFORM", "USED")
    n = int(np.ravel(used)[0]) if used is not None and np.size(used) else 0
    if n < 0:
        raise FormatError(path, f"negative plate count {n}", field="FORCE_PLATFORM:USED")
    if n == 0:
        return []
    types = np.ravel(parameter(params, "FORCE_PLATFORM", "TYPE", []))
    corners = np.asarray(parameter(params, "FORCE_PLATFORM", "CORNERS", []), dtype=np.float64)
    origins = np.asarray(parameter(params, "FORCE_PLATFORM", "ORIGIN", []), dtype=np.float64)
    channels = np.asarray(parameter(params, "FORCE_PLATFORM", "CHANNEL", []))
    if types.size < n or corners.size < 12 * n or origins.size < 3 * n or channels.ndim == 0:
        raise FormatError(path, f"FORCE_PLATFORM parameters do not describe USED={n} plates", field="FORCE_PLATFORM")
    corners = corners.reshape(3, 4, -1) if corners.ndim != 3 else corners
    origins = origins.reshape(3, -1) if origins.ndim != 2 else origins
    channels = channels.reshape(-1, n) if channels.ndim != 2 else channels
    scale = TRC_UNITS.get(point_units.lower(), 1e-3)
    plates = []
    for p in range(n):
        chans = tuple(int(ch) - 1 for ch in channels[:, p] if int(ch) > 0)
        bad = [ch + 1 for ch in chans if ch >= len(analog_names)]
        if bad:
            raise FormatError(
                path, f"plate {p + 1} uses analog channel(s) {bad} that do not exist", field="FORCE_PLATFORM:CHANNEL"
            )
        plates.append(
            ForcePlate(
                index=p,
                type=int(types[p]),
                corners=corners[:, :, p].T * scale,
                origin=origins[:, p] * scale,
                channels=chans,
                channel_names=tuple(analog_names[ch] for ch in chans),
            )
        )
    return plates


def plate_wrenches(data: C3DData, *, min_force: float = 20.0, sign: str = "auto") -> list[PlateWrench]:
    """Per-plate ground reaction wrench in the lab frame at the analog rate.

    Computed by ezc3d from the analog channels and the plate geometry (``CORNERS``,
    ``ORIGIN``, ``CAL_MATRIX``), in its C3D-specification plate frame (x from corner 2 to 1,
    y from corner 4 to 1), then converted here to SI units using the channels' own
    ``ANALOG:UNITS`` (N, N mm) and ``POINT:UNITS``.

    Parameters
    ----------
    data
        From :func:`read_c3d` (or its :meth:`~C3DData.to_y_up`).
    min_force
        Normal force (N) below which the centre of pressure and free moment are NaN
        (the CoP is ill-defined on an unloaded plate; Vicon uses 10-20 N).
    sign
        ``"auto"``: flip a plate's wrench if its normal force points into the plate on
        balance, so that ``force`` is always the reaction on the subject (C3D files differ
        in storing action or reaction). ``"stored"``: as computed from the stored channels.

    Returns
    -------
    list of PlateWrench
        One per plate, in ``data.force_plates`` order.
    """
    if sign not in ("auto", "stored"):
        raise ValueError(f"sign must be 'auto' or 'stored'; got {sign!r}")
    if data.plate_error is not None:
        raise FormatError(
            data.path, f"ezc3d cannot compute these force plates: {data.plate_error}", field="FORCE_PLATFORM"
        )
    out = []
    pos_scale = TRC_UNITS.get(data.markers.units_in_file.lower(), 1e-3)
    for plate, raw in zip(data.force_plates, data._plates_raw, strict=False):
        f_unit = data.analog_units[plate.channels[0]].lower() if plate.channels else "n"
        m_unit = data.analog_units[plate.channels[3]].lower() if len(plate.channels) > 3 else ""
        if plate.type in (1, 3):  # type 1 stores CoP/Tz, type 3 eight force channels: no moment channel
            m_unit = f"n{data.markers.units_in_file.lower()}"
        f_scale = _FORCE_UNITS.get(f_unit or "n")
        m_scale = _MOMENT_UNITS.get(m_unit or f"n{data.markers.units_in_file.lower()}")
        if f_scale is None or m_scale is None:
            raise FormatError(
                data.path,
                f"plate {plate.index + 1}: unsupported force/moment units {f_unit!r}, {m_unit!r}",
                field="ANALOG:UNITS",
            )
        force = np.asarray(raw["force"], dtype=np.float64).T * f_scale
        moment = np.asarray(raw["moment"], dtype=np.float64).T * m_scale
        cop = np.asarray(raw["center_of_pressure"], dtype=np.float64).T * pos_scale
        free = np.asarray(raw["Tz"], dtype=np.float64).T * m_scale
        if data.up_axis == "y":
            force, moment, cop, free = (_y_up(a) for a in (force, moment, cop, free))
        up = -plate.rotation[:, 2]  # the plate z axis points into the plate
        normal = force @ up
        if sign == "auto" and normal.sum() < 0:
            force, moment, free, normal = -force, -moment, -free, -normal
        unloaded = np.abs(normal) < min_force
        cop[unloaded] = np.nan
        free[unloaded] = np.nan
        out.append(PlateWrench(plate.index, data.analog_times, force, moment, cop, free))
    return out
