"""Test fixtures: an OpenSim 4 model rewritten in the OpenSim 3 layout, as OpenSim 3.3 writes it.

OpenSim 3 (``Version="30000"``) keeps each joint inside its child ``<Body>`` under ``<Joint>``
with ``<parent_body>``, ``location_in_parent``/``orientation_in_parent`` (the joint frame on
the parent body) and ``location``/``orientation`` (on the child), coordinates in a
``<CoordinateSet>``, every transform function wrapped in ``<function>``, inertia as
``inertia_xx ... inertia_yz`` and markers on ``<body>``. See OpenSim's 3.x models (gait2392,
gait10dof18musc, Rajagopal 2015) for the layout.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from pathlib import Path


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def _body_of(ref: str) -> str:
    parts = [p for p in ref.strip().split("/") if p and p != ".."]
    return parts[-1]


def _function3(fn: ET.Element) -> ET.Element:
    """An OpenSim 4 function element as OpenSim 3 writes it (no name attribute; inner ones too)."""
    out = copy.deepcopy(fn)
    for el in out.iter():
        el.attrib.pop("name", None)
    return out


def _joint3(joint: ET.Element) -> tuple[str, ET.Element]:
    frames = {f.get("name"): f for f in joint.iter("PhysicalOffsetFrame")}
    pf, cf = frames[joint.findtext("socket_parent_frame").strip()], frames[joint.findtext("socket_child_frame").strip()]
    j3 = ET.Element(joint.tag, name=joint.get("name"))
    _sub(j3, "parent_body", _body_of(pf.findtext("socket_parent")))
    _sub(j3, "location_in_parent", pf.findtext("translation"))
    _sub(j3, "orientation_in_parent", pf.findtext("orientation"))
    _sub(j3, "location", cf.findtext("translation"))
    _sub(j3, "orientation", cf.findtext("orientation"))
    objs = _sub(_sub(j3, "CoordinateSet"), "objects")
    for c in joint.iter("Coordinate"):
        objs.append(copy.deepcopy(c))
    _sub(j3, "reverse", "false")
    st = joint.find("SpatialTransform")
    if st is not None:
        st3 = _sub(j3, "SpatialTransform")
        for ta in st.findall("TransformAxis"):
            ta3 = _sub(st3, "TransformAxis")
            ta3.set("name", ta.get("name"))
            fn = next(c for c in ta if c.tag not in ("coordinates", "axis"))
            _sub(ta3, "function").append(_function3(fn))
            _sub(ta3, "coordinates", ta.findtext("coordinates") or "")
            _sub(ta3, "axis", ta.findtext("axis"))
    return _body_of(cf.findtext("socket_parent")), j3


def to_opensim3(src: Path, dst: Path) -> Path:
    """Write the OpenSim 4 model ``src`` in the OpenSim 3 layout to ``dst`` (bodies, joints, markers)."""
    root = ET.parse(src).getroot()
    model = root.find("Model")
    joints = dict(_joint3(j) for js in model.iter("JointSet") for j in js.find("objects"))
    doc = ET.Element("OpenSimDocument", Version="30000")
    m3 = _sub(doc, "Model")
    m3.set("name", model.get("name"))
    objs = _sub(_sub(m3, "BodySet"), "objects")
    ground = _sub(objs, "Body")
    ground.set("name", "ground")
    for tag, text in (("mass", "0"), ("mass_center", "0 0 0")):
        _sub(ground, tag, text)
    _sub(ground, "Joint")
    for body in model.find("BodySet").find("objects"):
        b3 = _sub(objs, "Body")
        b3.set("name", body.get("name"))
        _sub(b3, "mass", body.findtext("mass"))
        _sub(b3, "mass_center", body.findtext("mass_center"))
        xx, yy, zz, xy, xz, yz = body.findtext("inertia").split()
        for k, v in zip(("xx", "yy", "zz", "xy", "xz", "yz"), (xx, yy, zz, xy, xz, yz), strict=True):
            _sub(b3, f"inertia_{k}", v)
        _sub(b3, "Joint").append(joints[body.get("name")])
    mobjs = _sub(_sub(m3, "MarkerSet"), "objects")
    for mk in model.find("MarkerSet").find("objects"):
        m = _sub(mobjs, "Marker")
        m.set("name", mk.get("name"))
        _sub(m, "body", _body_of(mk.findtext("socket_parent_frame")))
        _sub(m, "location", mk.findtext("location"))
        _sub(m, "fixed", "false")
    ET.indent(doc)
    ET.ElementTree(doc).write(dst, encoding="UTF-8", xml_declaration=True)
    return dst
