"""OpenSim ``ExternalLoads`` XML: which storage columns hold each external force.

The forces' data are read with :func:`~musclepose.io.opensim.table.read_table`;
:mod:`musclepose.io.loads` turns both into wrenches on our segments.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ..errors import FormatError
from ._xml import _parse_xml, _text

__all__ = ["ExternalForceSpec", "read_external_loads"]


@dataclass(frozen=True)
class ExternalForceSpec:
    """One ``ExternalForce`` of an OpenSim ``ExternalLoads`` file.

    The data columns are the identifiers plus ``x``, ``y``, ``z``
    (:attr:`force_columns`, :attr:`point_columns`, :attr:`torque_columns`), read from the
    storage file :attr:`datafile` (resolved against the XML's folder).
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
    datafile = None
    if datafile_text and datafile_text.lower() != "unassigned":
        datafile = Path(datafile_text)
        if not datafile.is_absolute():
            datafile = path.parent / datafile
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
            )
        )
    if not specs:
        raise FormatError(path, "no <ExternalForce> in <ExternalLoads>", line=lines.get(loads), field="ExternalForce")
    return specs
