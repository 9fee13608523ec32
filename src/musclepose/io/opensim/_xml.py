"""XML helpers shared by the ``.osim`` and ``ExternalLoads`` readers: line-numbered parsing."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import xml.parsers.expat
from pathlib import Path

import numpy as np

from ..errors import FormatError


def _parse_xml(path: Path) -> tuple[ET.Element, dict[ET.Element, int]]:
    """Parse XML with expat, remembering each element's line (ElementTree forgets it)."""
    builder = ET.TreeBuilder()
    lines: dict[ET.Element, int] = {}
    parser = xml.parsers.expat.ParserCreate()

    def start(tag: str, attrs: dict[str, str]) -> None:
        lines[builder.start(tag, attrs)] = parser.CurrentLineNumber

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    raw = path.read_bytes()
    if not raw.strip():
        raise FormatError(path, "empty file")
    try:
        parser.Parse(raw, True)
    except xml.parsers.expat.ExpatError as e:
        raise FormatError(path, f"not well-formed XML: {xml.parsers.expat.ErrorString(e.code)}", line=e.lineno) from e
    return builder.close(), lines


def _text(el: ET.Element | None) -> str | None:
    return None if el is None or el.text is None else el.text.strip()


def _vector(path: Path, el: ET.Element | None, n: int, what: str, lines: dict[ET.Element, int]) -> np.ndarray:
    text = _text(el)
    line = lines.get(el) if el is not None else None
    if text is None:
        raise FormatError(path, f"missing {n}-vector", field=what, line=line)
    try:
        v = np.array([float(t) for t in text.split()], dtype=np.float64)
    except ValueError:
        raise FormatError(path, f"{text!r} is not {n} numbers", field=what, line=line) from None
    if v.shape != (n,) or not np.isfinite(v).all():
        raise FormatError(path, f"{text!r} is not {n} finite numbers", field=what, line=line)
    return v


def _body_from_path(frame_path: str) -> str:
    """``/bodyset/pelvis`` -> ``pelvis``, ``/ground`` -> ``ground``, ``pelvis`` -> ``pelvis``."""
    parts = [p for p in frame_path.strip().split("/") if p and p != ".."]
    if "bodyset" in parts and parts.index("bodyset") + 1 < len(parts):
        return parts[parts.index("bodyset") + 1]
    return parts[-1] if parts else frame_path.strip()
