"""OpenSim ``.osim`` models: marker sets and bodies (parent, mass, centre of mass, inertia).

Locations, masses and inertias are SI (m, kg, kg m^2) in the named body's frame. Reads OpenSim 4
models (``socket_parent_frame``, ``JointSet``) and OpenSim 3 ones (``<body>``, ``<Joint>``
inside each body). Errors are :class:`~musclepose.io.errors.FormatError` naming the file, line
and XML element.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FormatError
from ._xml import _body_from_path, _parse_xml, _text, _vector

__all__ = ["OsimBody", "read_osim_bodies", "read_osim_markers"]


def read_osim_markers(path: str | Path) -> dict[str, tuple[str, np.ndarray]]:
    """Marker name -> (body name, location ``(3,)`` m in that body's frame) from an ``.osim``.

    Reads the model's ``MarkerSet``: OpenSim 4 markers name their frame with
    ``<socket_parent_frame>/bodyset/pelvis</socket_parent_frame>``, OpenSim 3 markers with
    ``<body>pelvis</body>``.

    Raises
    ------
    FormatError
        Malformed XML (with line), a marker without a name, frame or a 3-number location.
    """
    path = Path(path)
    root, lines = _parse_xml(path)
    out: dict[str, tuple[str, np.ndarray]] = {}
    for mset in root.iter("MarkerSet"):
        for mk in mset.iter("Marker"):
            name = mk.get("name")
            if not name:
                raise FormatError(path, "Marker without a name", line=lines.get(mk), field="Marker")
            frame = _text(mk.find("socket_parent_frame")) or _text(mk.find("body"))
            if not frame:
                raise FormatError(path, "marker has no <socket_parent_frame> or <body>", line=lines.get(mk), field=name)
            loc = _vector(path, mk.find("location"), 3, f"{name}.location", lines)
            out[name] = (_body_from_path(frame), loc)
    if not out:
        raise FormatError(path, "no <MarkerSet> markers in the model", field="MarkerSet")
    return out


@dataclass(frozen=True)
class OsimBody:
    """A rigid body of an OpenSim model.

    Attributes
    ----------
    name, parent : str
        Body name and the name of its parent body (``"ground"`` for the root; ``None`` if the
        model has no joint for it).
    mass : float
        kg.
    mass_center : np.ndarray, (3,)
        m, in the body frame.
    inertia : np.ndarray, (3, 3)
        kg m^2 about the centre of mass, in the body frame (OpenSim stores
        ``Ixx Iyy Izz Ixy Ixz Iyz``).
    """

    name: str
    parent: str | None
    mass: float
    mass_center: np.ndarray
    inertia: np.ndarray


def _resolve_frame(ref: str | None, frames: dict[str | None, str | None]) -> str | None:
    """Follow a joint's offset-frame names to the body they sit on."""
    seen = set()
    while ref and not ref.startswith("/") and ref in frames and ref not in seen:
        seen.add(ref)
        ref = frames[ref]
    return _body_from_path(ref) if ref else None


def read_osim_bodies(path: str | Path) -> dict[str, OsimBody]:
    """Body name -> :class:`OsimBody` (parent, mass, centre of mass, inertia) from an ``.osim``.

    Parents come from the OpenSim 4 ``JointSet`` (joint parent/child frames, following
    ``PhysicalOffsetFrame`` sockets to their bodies) or, for OpenSim 3 models, from each
    body's ``<Joint>`` and its ``<parent_body>``.
    """
    path = Path(path)
    root, lines = _parse_xml(path)
    bodyset = next(root.iter("BodySet"), None)
    if bodyset is None:
        raise FormatError(path, "no <BodySet> in the model", field="BodySet")
    parents: dict[str, str] = {}
    joints = [j for jset in root.iter("JointSet") for objs in jset.findall("objects") for j in objs]
    for joint in joints:
        frames = {f.get("name"): _text(f.find("socket_parent")) for f in joint.iter("PhysicalOffsetFrame")}
        child = _resolve_frame(_text(joint.find("socket_child_frame")), frames)
        parent = _resolve_frame(_text(joint.find("socket_parent_frame")), frames)
        if child:
            parents[child] = parent or "ground"

    bodies: dict[str, OsimBody] = {}
    for body in bodyset.iter("Body"):
        name = body.get("name")
        if not name:
            raise FormatError(path, "Body without a name", line=lines.get(body), field="Body")
        if name == "ground" and body.find("Joint") is not None and len(body.find("Joint")) == 0:
            continue  # OpenSim 3 lists the ground frame as a body without a joint
        mass_el = body.find("mass")
        try:
            mass = float(_text(mass_el) or "nan")
        except ValueError:
            mass = float("nan")
        if not (math.isfinite(mass) and mass >= 0):
            raise FormatError(
                path,
                f"mass {_text(mass_el)!r} is not a non-negative number",
                line=lines.get(mass_el, lines.get(body)),
                field=f"{name}.mass",
            )
        com = _vector(path, body.find("mass_center"), 3, f"{name}.mass_center", lines)
        if body.find("inertia") is not None:
            i6 = _vector(path, body.find("inertia"), 6, f"{name}.inertia", lines)
        else:  # OpenSim 3: <inertia_xx> ... <inertia_yz>
            parts = [_text(body.find(f"inertia_{k}")) or "0" for k in ("xx", "yy", "zz", "xy", "xz", "yz")]
            i6 = _vector(path, ET.fromstring(f"<i>{' '.join(parts)}</i>"), 6, f"{name}.inertia", lines)
        xx, yy, zz, xy, xz, yz = i6
        inertia = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
        parent = parents.get(name)
        if parent is None:  # OpenSim 3: <Joint><CustomJoint><parent_body>
            parent = next((_text(pb) for pb in body.iter("parent_body")), None)
        bodies[name] = OsimBody(name=name, parent=parent, mass=mass, mass_center=com, inertia=inertia)
    if not bodies:
        raise FormatError(path, "no bodies in <BodySet>", field="BodySet")
    return bodies
