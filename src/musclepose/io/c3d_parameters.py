"""The C3D parameter section: reading named parameters, and checking its structure before ezc3d.

ezc3d trusts the section's record offsets, element types and dimensions and can crash the
interpreter on a corrupt one, so :func:`check_parameter_section` bounds-checks the records
first (C3D.org, "The C3D File Format User Guide", ch. 3). :func:`parameter` and
:func:`parameter_strings` read ezc3d's parsed parameters (text decoded as Latin-1 where it is
not UTF-8; long lists split over ``NAME``, ``NAME2``...).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FormatError

__all__ = ["check_parameter_section", "fix_text", "header_frames", "parameter", "parameter_strings"]


def fix_text(s: str) -> str:
    # ezc3d decodes bytes as UTF-8 with surrogate escapes; C3D text is usually Latin-1 ("mm/s\xb2").
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        s = s.encode("utf-8", "surrogateescape").decode("latin-1")
    return s.strip()


def parameter(params: dict, group: str, name: str, default: Any = None) -> Any:
    try:
        return params[group][name]["value"]
    except (KeyError, TypeError):
        return default


def parameter_strings(params: dict, group: str, name: str, n: int, fill: str = "") -> list[str]:
    """``NAME`` then ``NAME2``, ``NAME3``... (C3D splits lists over 255 entries), padded to ``n``."""
    out: list[str] = []
    for suffix in ["", *map(str, range(2, 100))]:
        value = parameter(params, group, name + suffix)
        if value is None:
            break
        out.extend(fix_text(str(v)) for v in value)
    return (out + [fill] * n)[:n]


def header_frames(path: Path) -> int | None:
    """Number of 3D frames the 512-byte C3D header announces (None if it cannot tell)."""
    with open(path, "rb") as f:
        head = f.read(512)
        if len(head) < 512 or head[1] != 0x50:
            return None
        f.seek((head[0] - 1) * 512)
        phead = f.read(4)
    endian = ">" if len(phead) == 4 and phead[3] == 86 else "<"  # 86: MIPS (big-endian); 84 Intel, 85 DEC
    first, last = struct.unpack(endian + "HH", head[6:10])
    if last == 0xFFFF or last < first:  # long trials store the range in TRIAL:ACTUAL_*_FIELD
        return None
    return last - first + 1


_PARAM_TYPES = {-1: 1, 1: 1, 2: 2, 4: 4}  # C3D parameter type -> bytes per element
# Parameters ezc3d reads as text or as numbers without checking the stored type.
_TEXT_PARAMS = {"LABELS", "UNITS", "DESCRIPTIONS", "FORMAT"}
_NUMERIC_PARAMS = {
    "USED", "SCALE", "RATE", "DATA_START", "FRAMES", "GEN_SCALE", "OFFSET", "BITS", "ZERO", "TYPE",
    "CORNERS", "ORIGIN", "CHANNEL", "CAL_MATRIX", "ACTUAL_START_FIELD", "ACTUAL_END_FIELD",
}  # fmt: skip
_SCALAR_PARAMS = {
    "POINT:USED", "POINT:SCALE", "POINT:RATE", "POINT:DATA_START", "POINT:FRAMES",
    "ANALOG:USED", "ANALOG:RATE", "ANALOG:GEN_SCALE",
}  # fmt: skip


def check_parameter_section(path: Path) -> None:
    """Walk the C3D parameter section and reject a structurally broken one before ezc3d sees it.

    ezc3d trusts the section's record offsets, element types and dimensions and can crash
    the interpreter (a segmentation fault, not an exception) on a corrupt one, so the records
    are bounds-checked here first (layout: C3D.org, "The C3D File Format User Guide", ch. 3).
    """
    data = path.read_bytes()
    if len(data) < 512 or data[1] != 0x50:
        return  # not a C3D header: ezc3d reports it
    start = (data[0] - 1) * 512
    if data[0] < 2 or start + 4 > len(data):
        raise FormatError(path, f"parameter section (block {data[0]}) lies outside the file", field="header")
    proc = data[start + 3]
    if proc not in (84, 85, 86):
        raise FormatError(path, f"unknown processor type {proc} in the parameter section", field="parameters")
    endian = ">" if proc == 86 else "<"
    n_blocks = data[start + 2]
    end = min(len(data), start + 512 * n_blocks) if n_blocks else len(data)
    pos = start + 4
    groups: dict[int, str] = {}
    params: list[tuple[int, str, int]] = []
    while pos + 2 <= end:
        n_chars, ident = struct.unpack("bb", data[pos : pos + 2])
        if n_chars == 0:
            break
        name_end = pos + 2 + abs(n_chars)
        if ident == 0 or name_end + 2 > end:
            raise FormatError(path, f"corrupt parameter record at byte {pos}", field="parameters")
        name = data[pos + 2 : name_end].decode("latin-1")
        (offset,) = struct.unpack(endian + "h", data[name_end : name_end + 2])
        nxt = name_end + offset if offset else end
        if offset and not (name_end + 2 < nxt <= end):
            raise FormatError(path, f"record {name!r} points outside the parameter section", field=name)
        body = name_end + 2
        if ident < 0:
            groups[-ident] = name.upper()
            need = body + 1 + (data[body] if body < end else 0)
        else:
            if body + 2 > nxt:
                raise FormatError(path, f"parameter {name!r} is cut short", field=name)
            kind, n_dims = struct.unpack("bB", data[body : body + 2])
            if kind not in _PARAM_TYPES or n_dims > 7 or body + 2 + n_dims > nxt:
                raise FormatError(path, f"parameter {name!r} has type {kind} and {n_dims} dimensions", field=name)
            dims = data[body + 2 : body + 2 + n_dims]
            size = _PARAM_TYPES[kind] * int(np.prod(list(dims), dtype=np.int64))
            base = name.upper().rstrip("0123456789")
            if base in _TEXT_PARAMS and (kind != -1 or n_dims == 0):
                raise FormatError(path, f"text parameter {name!r} has type {kind} and {n_dims} dimensions", field=name)
            if kind == -1 and base in _NUMERIC_PARAMS:
                raise FormatError(path, f"numeric parameter {name!r} is stored as text", field=name)
            params.append((ident, name, size))
            desc = body + 2 + n_dims + size
            need = desc + 1 + (data[desc] if desc < end else 0)
        if need > nxt:
            raise FormatError(path, f"record {name!r} overruns the next one", field=name)
        if not offset:
            break
        pos = nxt
    orphans = [name for g, name, _ in params if g not in groups]
    if orphans:
        raise FormatError(path, f"parameter {orphans[0]!r} belongs to no group", field=orphans[0])
    for g, name, size in params:
        full = f"{groups[g]}:{name.upper()}"
        if size == 0 and full in _SCALAR_PARAMS:
            raise FormatError(path, "parameter holds no value", field=full)
