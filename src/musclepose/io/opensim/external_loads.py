"""OpenSim ``ExternalLoads`` XML: which storage columns hold each external force, and where they are.

The forces' data are read with :func:`~musclepose.io.opensim.table.read_table`;
:mod:`musclepose.io.loads` turns both into wrenches on our segments. The ``<datafile>`` is
found so that a study copied from another machine still finds its data (:func:`find_datafile`):
as stored (absolute) or relative to the XML's folder, else by its file name beside the XML
(the stored path may be another machine's absolute path, e.g. ``C:\\Users\\...``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import FormatError
from ._xml import _parse_xml, _text

__all__ = ["ExternalForceSpec", "datafile_candidates", "find_datafile", "read_external_loads"]


def datafile_candidates(xml_path: str | Path, stored: str) -> list[Path]:
    """Where a stored ``<datafile>`` may be, in the order tried (see :func:`find_datafile`)."""
    xml_dir = Path(xml_path).parent
    windows = PureWindowsPath(stored)
    foreign = bool(windows.drive) or "\\" in stored  # a Windows path, meaningless as a POSIX one
    out = []
    if Path(stored).is_absolute():  # also a Windows path when running on Windows
        out.append(Path(stored))
    elif not foreign and PurePosixPath(stored).is_absolute():
        out.append(Path(stored))
    elif not foreign:
        out.append(xml_dir / stored)
    elif not windows.drive and not windows.root:  # relative with backslashes: data\\grf.mot
        out.append(xml_dir.joinpath(*windows.parts))
    name = windows.name  # the file name, whichever separator the path used
    if name and xml_dir / name not in out:
        out.append(xml_dir / name)
    return out


def find_datafile(xml_path: str | Path, stored: str) -> Path | None:
    """The existing file a stored ``<datafile>`` means: the path itself (absolute) or relative to the
    XML's folder, else the file of that name beside the XML; None if none exists."""
    return next((p for p in datafile_candidates(xml_path, stored) if p.is_file()), None)


@dataclass(frozen=True)
class ExternalForceSpec:
    """One ``ExternalForce`` of an OpenSim ``ExternalLoads`` file.

    The data columns are the identifiers plus ``x``, ``y``, ``z``
    (:attr:`force_columns`, :attr:`point_columns`, :attr:`torque_columns`), read from the
    storage file :attr:`datafile`: the ``<datafile>`` found by :func:`find_datafile`, None if
    not found (:attr:`datafile_stored` keeps what the XML says, :attr:`datafile_line` where).
    """

    name: str
    applied_to_body: str
    force_expressed_in_body: str
    point_expressed_in_body: str
    force_identifier: str
    point_identifier: str | None
    torque_identifier: str | None
    data_source_name: str | None
    datafile: Path | None
    enabled: bool = True
    datafile_stored: str | None = None
    datafile_line: int | None = None

    @property
    def force_columns(self) -> tuple[str, str, str]:
        return tuple(f"{self.force_identifier}{a}" for a in "xyz")  # type: ignore[return-value]

    @property
    def point_columns(self) -> tuple[str, str, str] | None:
        return None if not self.point_identifier else tuple(f"{self.point_identifier}{a}" for a in "xyz")  # type: ignore[return-value]

    @property
    def torque_columns(self) -> tuple[str, str, str] | None:
        return None if not self.torque_identifier else tuple(f"{self.torque_identifier}{a}" for a in "xyz")  # type: ignore[return-value]


def read_external_loads(xml_path: str | Path) -> list[ExternalForceSpec]:
    """Read an OpenSim ``ExternalLoads`` XML into one spec per ``ExternalForce``.

    ``force_expressed_in_body`` and ``point_expressed_in_body`` default to ``"ground"`` as in
    OpenSim. A force is disabled by ``<isDisabled>true</isDisabled>`` (OpenSim 3) or
    ``<appliesForce>false</appliesForce>`` (OpenSim 4).

    Raises
    ------
    FormatError
        Malformed XML, no ``ExternalLoads``, or a force without ``applied_to_body`` or
        ``force_identifier``.
    """
    path = Path(xml_path)
    root, lines = _parse_xml(path)
    loads = root if root.tag == "ExternalLoads" else root.find("ExternalLoads")
    if loads is None:
        raise FormatError(path, "no <ExternalLoads> element", line=lines.get(root), field="ExternalLoads")
    datafile_text = _text(loads.find("datafile"))
    if datafile_text and datafile_text.lower() == "unassigned":
        datafile_text = None
    datafile = find_datafile(path, datafile_text) if datafile_text else None
    datafile_line = lines.get(loads.find("datafile")) if loads.find("datafile") is not None else None
    specs = []
    for ef in loads.iter("ExternalForce"):
        name = ef.get("name") or f"force{len(specs) + 1}"

        def req(tag: str, ef: ET.Element = ef, name: str = name) -> str:
            value = _text(ef.find(tag))
            if not value:
                raise FormatError(path, f"ExternalForce {name!r} has no <{tag}>", line=lines.get(ef), field=tag)
            return value

        def opt(tag: str, ef: ET.Element = ef) -> str | None:
            value = _text(ef.find(tag))
            return value if value and value.lower() != "unassigned" else None

        disabled = (opt("isDisabled") or "false").lower() == "true"
        disabled |= (opt("appliesForce") or "true").lower() == "false"
        specs.append(
            ExternalForceSpec(
                name=name,
                applied_to_body=req("applied_to_body"),
                force_expressed_in_body=opt("force_expressed_in_body") or "ground",
                point_expressed_in_body=opt("point_expressed_in_body") or "ground",
                force_identifier=req("force_identifier"),
                point_identifier=opt("point_identifier"),
                torque_identifier=opt("torque_identifier"),
                data_source_name=opt("data_source_name"),
                datafile=datafile,
                enabled=not disabled,
                datafile_stored=datafile_text,
                datafile_line=datafile_line,
            )
        )
    if not specs:
        raise FormatError(path, "no <ExternalForce> in <ExternalLoads>", line=lines.get(loads), field="ExternalForce")
    return specs
