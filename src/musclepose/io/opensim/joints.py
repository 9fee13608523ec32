"""The joints of an ``.osim`` model, OpenSim 4 or OpenSim 3, in one form.

OpenSim 4 lists joints in a ``JointSet``; each names its parent and child frames
(``socket_parent_frame``/``socket_child_frame``), usually ``PhysicalOffsetFrame`` s of the
joint with a translation and an orientation on a body. OpenSim 3 (``Version < 40000``, e.g.
gait2392, the 3.x gait10dof18musc, Rajagopal 2015 in its 3.3 form) puts each joint inside its
child ``<Body>`` under ``<Joint>``, with ``<parent_body>``, ``location_in_parent`` /
``orientation_in_parent`` (the joint frame on the parent) and ``location`` / ``orientation``
(on the child), and wraps each transform function in ``<function>``. Orientations are
body-fixed X-Y-Z Euler angles (rad) in both. :func:`read_osim_joints` returns
:class:`OsimJoint` s whose :meth:`~OsimJoint.motion` gives the child frame in the parent frame
for coordinate values; a ``CustomJoint`` turns by ``rotation1..3`` in turn about axes carried
by the previous rotations and translates along axes of the parent frame (Seth et al. 2010,
Procedia IUTAM 2:212; Simbody's function-based mobilizer).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FormatError
from ._xml import _parse_xml, _text, _vector
from .functions import OsimFunction, read_function

__all__ = ["OsimCoordinate", "OsimJoint", "OsimTransformAxis", "axis_rotation", "read_osim_joints", "rotation_xyz"]

#: Joints with a fixed set of axes, as (kind, axis in the joint frame) in OpenSim's order.
_FIXED_AXES: dict[str, tuple[tuple[str, tuple[float, float, float]], ...]] = {
    "WeldJoint": (),
    "PinJoint": (("rotation", (0, 0, 1)),),
    "SliderJoint": (("translation", (1, 0, 0)),),
    "UniversalJoint": (("rotation", (1, 0, 0)), ("rotation", (0, 1, 0))),
    "GimbalJoint": (("rotation", (1, 0, 0)), ("rotation", (0, 1, 0)), ("rotation", (0, 0, 1))),
    "BallJoint": (("rotation", (1, 0, 0)), ("rotation", (0, 1, 0)), ("rotation", (0, 0, 1))),
    "PlanarJoint": (("rotation", (0, 0, 1)), ("translation", (1, 0, 0)), ("translation", (0, 1, 0))),
    "FreeJoint": (
        ("rotation", (1, 0, 0)), ("rotation", (0, 1, 0)), ("rotation", (0, 0, 1)),
        ("translation", (1, 0, 0)), ("translation", (0, 1, 0)), ("translation", (0, 0, 1)),
    ),
}  # fmt: skip
_JOINT_TYPES = ("CustomJoint", *_FIXED_AXES)


def axis_rotation(axis, angle) -> np.ndarray:
    """Rotation matrix by ``angle`` (rad) about ``axis`` (Rodrigues); ``angle`` any shape -> ``(..., 3, 3)``."""
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    t = np.asarray(angle, dtype=np.float64)[..., None, None]
    return np.eye(3) + np.sin(t) * k + (1.0 - np.cos(t)) * (k @ k)


def rotation_xyz(angles) -> np.ndarray:
    """OpenSim frame orientation (body-fixed X-Y-Z Euler angles, rad) as a matrix ``Rx Ry Rz``."""
    x, y, z = np.asarray(angles, dtype=np.float64)
    return axis_rotation((1, 0, 0), x) @ axis_rotation((0, 1, 0), y) @ axis_rotation((0, 0, 1), z)


@dataclass(frozen=True)
class OsimCoordinate:
    """A generalised coordinate: ``range`` and ``default`` in rad (rotational) or m."""

    name: str
    range: tuple[float, float]
    default: float


@dataclass(frozen=True)
class OsimTransformAxis:
    """One axis of a joint: it turns (``kind="rotation"``) or slides by ``function(coordinate)``.

    ``axis`` is a unit vector in the joint's parent frame at zero rotation; ``coordinate`` is
    None for an axis held by a Constant. ``function`` None means the coordinate itself.
    """

    name: str
    kind: str
    axis: np.ndarray
    coordinate: str | None
    function: OsimFunction | None

    def value(self, coords: dict[str, float | np.ndarray]):
        """The angle (rad) or displacement (m) for coordinate values ``coords`` (missing ones are 0)."""
        q = np.asarray(coords.get(self.coordinate, 0.0) if self.coordinate else 0.0, dtype=np.float64)
        return q if self.function is None else self.function(q)

    def slope(self, q: float = 0.0) -> float:
        """``d value / d coordinate`` at ``q``."""
        if self.coordinate is None:
            return 0.0
        return 1.0 if self.function is None else float(self.function.derivative(q))


@dataclass(frozen=True)
class OsimJoint:
    """A joint between two bodies of an ``.osim`` model (see the module docstring).

    Attributes
    ----------
    name, type : str
        ``"hip_r"``, ``"CustomJoint"``...
    parent, child : str
        Body names (``"ground"`` for the ground).
    parent_offset, child_offset : tuple of (3, 3) and (3,) arrays
        The joint's frame on the parent body and on the child body: rotation and origin in
        that body's frame.
    axes : tuple of OsimTransformAxis
    coordinates : tuple of OsimCoordinate
    line : int or None
        Line of the joint element in the file.
    """

    name: str
    type: str
    parent: str
    child: str
    parent_offset: tuple[np.ndarray, np.ndarray]
    child_offset: tuple[np.ndarray, np.ndarray]
    axes: tuple[OsimTransformAxis, ...]
    coordinates: tuple[OsimCoordinate, ...]
    line: int | None = None

    def motion(self, coords: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The child joint frame in the parent joint frame, ``(R, p)``, for coordinate values (default 0)."""
        coords = coords or {}
        rot, trans = np.eye(3), np.zeros(3)
        for ax in self.axes:
            v = float(ax.value(coords))
            if ax.kind == "rotation":
                rot = rot @ axis_rotation(ax.axis, v)
            else:
                trans = trans + v * ax.axis
        return rot, trans

    def child_in_parent(self, coords: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The child *body* frame in the parent *body* frame: ``X_parent_offset X_joint X_child_offset^-1``."""
        (pr, pp), (cr, cp) = self.parent_offset, self.child_offset
        jr, jp = self.motion(coords)
        r = pr @ jr @ cr.T
        return r, pp + pr @ jp - r @ cp


def _body_name(ref: str) -> str:
    parts = [p for p in ref.strip().split("/") if p and p not in ("..", ".")]
    if "bodyset" in parts and parts.index("bodyset") + 1 < len(parts):
        return parts[parts.index("bodyset") + 1]
    return parts[-1] if parts else ref.strip()


def _coordinates(path: Path, joint: ET.Element, lines: dict) -> tuple[OsimCoordinate, ...]:
    out = []
    for c in joint.iter("Coordinate"):
        name = c.get("name") or ""
        rng = _vector(path, c.find("range"), 2, f"{name}.range", lines) if c.find("range") is not None else None
        default = float(_text(c.find("default_value")) or 0.0)
        out.append(OsimCoordinate(name, (float(rng[0]), float(rng[1])) if rng is not None else (-np.inf, np.inf),
                                  default))  # fmt: skip
    return tuple(out)


def _axes(path: Path, joint: ET.Element, coords: tuple[OsimCoordinate, ...], lines: dict):
    jtype, jname = joint.tag, joint.get("name", "")
    if jtype != "CustomJoint":
        # Fixed-axis joints take their coordinates in the order the joint lists them.
        fixed = _FIXED_AXES[jtype]
        if len(coords) < len(fixed):
            raise FormatError(path, f"{jtype} {jname!r} needs {len(fixed)} coordinates, has {len(coords)}",
                              line=lines.get(joint), field=jname)  # fmt: skip
        return tuple(
            OsimTransformAxis(f"{kind}{k + 1}", kind, np.array(axis, float), coords[k].name, None)
            for k, (kind, axis) in enumerate(fixed)
        )
    st = joint.find("SpatialTransform")
    out = []
    for ta in st.findall("TransformAxis") if st is not None else ():  # none: the joint is fixed
        name = ta.get("name") or ""
        where = f"{jname}.{name}"
        names = (_text(ta.find("coordinates")) or "").split()
        axis = _vector(path, ta.find("axis"), 3, f"{where}.axis", lines)
        norm = np.linalg.norm(axis)
        if norm == 0:
            raise FormatError(path, "transform axis of zero length", line=lines.get(ta), field=f"{where}.axis")
        fn = read_function(ta, path, lines, where)
        if fn is None and not names:
            continue  # no coordinate and no function: the axis does nothing
        kind = "rotation" if name.startswith("rotation") else "translation"
        out.append(OsimTransformAxis(name, kind, axis / norm, names[0] if names else None, fn))
    return tuple(out)


def _offset(path: Path, el: ET.Element, loc: str, ori: str, lines: dict, where: str):
    t = _vector(path, el.find(loc), 3, f"{where}.{loc}", lines) if el.find(loc) is not None else np.zeros(3)
    o = _vector(path, el.find(ori), 3, f"{where}.{ori}", lines) if el.find(ori) is not None else np.zeros(3)
    return rotation_xyz(o), t


def _frame_4(path: Path, joint: ET.Element, socket: str, lines: dict) -> tuple[str, np.ndarray, np.ndarray]:
    """A socket of an OpenSim 4 joint resolved to (body, R, p), following offset frames on offset frames."""
    jname = joint.get("name", "")
    ref = _text(joint.find(socket))
    if not ref:
        raise FormatError(path, f"joint {jname!r} has no <{socket}>", line=lines.get(joint), field=socket)
    frames = {f.get("name"): f for f in joint.iter("PhysicalOffsetFrame")}
    rot, pos = np.eye(3), np.zeros(3)
    for _ in range(16):
        name = ref.strip().split("/")[-1]
        frame = frames.get(name) if not ref.strip().startswith("/") or name in frames else None
        if frame is None:
            return _body_name(ref), rot, pos
        r, t = _offset(path, frame, "translation", "orientation", lines, f"{jname}.{name}")
        rot, pos = r @ rot, t + r @ pos  # this frame in its parent, composed with what it carries
        ref = _text(frame.find("socket_parent")) or ""
    raise FormatError(path, f"joint {jname!r}: offset frames refer to each other in a loop", field=socket)


def read_osim_joints(path: str | Path) -> list[OsimJoint]:
    """Every joint of an OpenSim 4 or OpenSim 3 ``.osim`` model (module docstring), in file order.

    Raises
    ------
    FormatError
        Malformed XML, a joint without its frames or parent, a bad vector, an unsupported
        joint type or transform function, or OpenSim 3's ``<reverse>true</reverse>``; each
        names the file, line and joint.
    """
    path = Path(path)
    root, lines = _parse_xml(path)
    joints: list[OsimJoint] = []
    js4 = [j for js in root.iter("JointSet") for objs in js.findall("objects") for j in objs if isinstance(j.tag, str)]
    for j in js4:
        if j.tag not in _JOINT_TYPES:
            raise FormatError(path, f"unsupported joint type <{j.tag}>", line=lines.get(j), field=j.get("name"))
        pb, pr, pp = _frame_4(path, j, "socket_parent_frame", lines)
        cb, cr, cp = _frame_4(path, j, "socket_child_frame", lines)
        coords = _coordinates(path, j, lines)
        joints.append(OsimJoint(j.get("name", ""), j.tag, pb, cb, (pr, pp), (cr, cp), _axes(path, j, coords, lines),
                                coords, lines.get(j)))  # fmt: skip
    for body in (b for bs in root.iter("BodySet") for b in bs.iter("Body")):
        holder = body.find("Joint")
        j = next((c for c in holder if isinstance(c.tag, str)), None) if holder is not None else None
        if j is None:
            continue  # OpenSim 3 ground, or an OpenSim 4 body (its joint is in the JointSet)
        jname = j.get("name", "")
        if j.tag not in _JOINT_TYPES:
            raise FormatError(path, f"unsupported joint type <{j.tag}>", line=lines.get(j), field=jname)
        parent = _text(j.find("parent_body"))
        if not parent:
            raise FormatError(path, f"joint {jname!r} has no <parent_body>", line=lines.get(j), field="parent_body")
        if (_text(j.find("reverse")) or "false").lower() == "true":
            raise FormatError(path, f"joint {jname!r} is reversed (<reverse>true</reverse>), which is not supported",
                              line=lines.get(j.find("reverse")), field="reverse")  # fmt: skip
        coords = _coordinates(path, j, lines)
        joints.append(OsimJoint(
            jname, j.tag, _body_name(parent), body.get("name", ""),
            _offset(path, j, "location_in_parent", "orientation_in_parent", lines, jname),
            _offset(path, j, "location", "orientation", lines, jname),
            _axes(path, j, coords, lines), coords, lines.get(j),
        ))  # fmt: skip
    return joints
