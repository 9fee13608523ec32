"""Keypoint JSON from video pose estimators (COCO-17 and MediaPipe-33): reader and writer.

Accepted layouts (detected from the content, not the file name):

- **per-frame dicts**, as written by MediaPipe / MoveNet / TF.js pose-detection wrappers:
  ``[{"keypoints": [{"x": .., "y": .., ("z": ..), "visibility"|"score"|"confidence": ..,
  ("name": ..)}, ...]}, ...]``; ``"keypoints": []`` is a frame with no person.
- **generic** (what :func:`write_keypoints` writes): ``{"fps": 30, "layout": "coco17",
  "frames": [[[x, y, (z), c], ...], ...]}`` with optional ``"normalized"``, ``"image_size"``
  (``[width, height]``), ``"names"`` and ``"dims"``; a frame ``null`` or ``[]`` has no
  person, a keypoint ``null`` was not detected.
- **COCO style**: a results list ``[{"image_id": .., "keypoints": [x, y, v] * K, "score": ..},
  ...]`` (one frame per ``image_id`` in ascending order, the best-scoring person kept; list
  order when there is no ``image_id``), or a dataset dict ``{"images": [..], "annotations":
  [..]}`` (one frame per image, in the order of ``images``). A triple ``(0, 0, 0)`` is COCO's
  "not labelled": NaN position, confidence 0. Otherwise ``v`` is kept as the confidence, or,
  when every ``v`` is a visibility flag in ``{0, 1, 2}`` with at least one 2, mapped to 1.

Conventions
-----------
- ``positions`` are ``(T, K, D)`` image coordinates, ``D`` = 2 (x, y) or 3 (x, y, z), x to
  the right and y *down* as in the image; ``K`` follows the name tuples of
  :mod:`musclepose.body.landmarks` (``COCO17`` or ``MEDIAPIPE33``).
- ``normalized=True``: x and y are fractions of the image width and height (MediaPipe;
  its z is relative depth on the scale of x); otherwise pixels. When the file does not say
  (a ``"normalized"`` field), the coordinates are taken as normalised if every x and y lies
  within ``[-1, 2]``: normalised landmarks may spill past the image border (the real
  MediaPipe sample reaches x = -0.30), but no person fits within two pixels of the corner.
- A frame with no person has NaN positions and confidence 0; :attr:`KeypointData.empty_frames`
  lists them. Any other missing, non-numeric or non-finite value is a
  :class:`~musclepose.io.errors.FormatError` naming the frame (0-based) and the keypoint.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .atomic import atomic_write
from .errors import FormatError

__all__ = ["KEYPOINT_LAYOUTS", "KeypointData", "keypoint_names", "read_keypoints", "write_keypoints"]

Layout = Literal["mediapipe33", "coco17"]
KEYPOINT_LAYOUTS: dict[str, int] = {"coco17": 17, "mediapipe33": 33}  # layout -> number of keypoints
_BY_COUNT = {k: layout for layout, k in KEYPOINT_LAYOUTS.items()}
_CONF_KEYS = ("visibility", "score", "confidence")
_NORMALIZED_RANGE = (-1.0, 2.0)


@dataclass
class KeypointData:
    """Per-frame 2D or 3D keypoints of one person.

    Attributes
    ----------
    path : Path or None
        Source file.
    layout : {"mediapipe33", "coco17"}
        Keypoint set.
    names : tuple of str
        ``K`` keypoint names (``COCO17`` or ``MEDIAPIPE33``).
    positions : np.ndarray
        ``(T, K, D)`` with ``D`` 2 or 3; image coordinates (x right, y down), normalised or
        pixels; NaN where nothing was detected.
    confidence : np.ndarray
        ``(T, K)`` detector confidence (visibility / score), 0 where nothing was detected.
    normalized : bool
        Whether x, y are fractions of the image size.
    image_size : tuple of int or None
        ``(width, height)`` in pixels when the file gives it.
    fps : float or None
        Frame rate when the file or the caller gives it.
    """

    path: Path | None
    layout: Layout
    names: tuple[str, ...]
    positions: np.ndarray
    confidence: np.ndarray
    normalized: bool
    image_size: tuple[int, int] | None
    fps: float | None

    @property
    def n_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.positions.shape[0])

    @property
    def dims(self) -> int:
        """2 for (x, y), 3 for (x, y, z)."""
        return int(self.positions.shape[-1])

    @property
    def empty_frames(self) -> np.ndarray:
        """Indices of the frames with no person (every keypoint NaN)."""
        return np.flatnonzero(np.isnan(self.positions).all(axis=(1, 2)))


@functools.cache
def keypoint_names(layout: str) -> tuple[str, ...]:
    """The keypoint names of ``layout`` (``"coco17"`` or ``"mediapipe33"``), in file order.

    The tuples live in :mod:`musclepose.body.landmarks`; they are imported on first use
    because importing :mod:`musclepose.body` loads torch, which ``import musclepose.io``
    avoids.
    """
    if layout not in KEYPOINT_LAYOUTS:
        raise KeyError(f"unknown keypoint layout {layout!r} (expected one of {list(KEYPOINT_LAYOUTS)})")
    from musclepose.body.landmarks import LANDMARK_SETS

    return LANDMARK_SETS[layout]


def read_keypoints(path: str | Path, fps: float | None = None) -> KeypointData:
    """Read a keypoint JSON file in any of the layouts of this module.

    Parameters
    ----------
    path : str or Path
        The JSON file.
    fps : float, optional
        Frame rate; overrides an ``"fps"`` field in the file (the per-frame layouts have none).

    Returns
    -------
    KeypointData

    Raises
    ------
    FormatError
        Invalid JSON (with its line), an unrecognised structure, a keypoint count that is
        neither 17 nor 33 or changes between frames, a missing coordinate or confidence, a
        non-numeric, NaN or inf value (naming frame and keypoint), or no frames at all.
    """
    path = Path(path)
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number; got {fps}")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise FormatError(path, f"cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise FormatError(path, f"not UTF-8 text (byte {e.start})") from None
    if not text.strip():
        raise FormatError(path, "empty file")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise FormatError(path, f"invalid JSON: {e.msg} (column {e.colno})", line=e.lineno) from None

    meta: dict[str, Any] = {}
    if isinstance(doc, dict) and "frames" in doc:
        meta = doc
        if not isinstance(doc["frames"], list):
            raise FormatError(path, "'frames' must be a list", field="frames")
        frames = _list_frames(path, doc["frames"])  # lists of [x, y, (z), c], or per-frame dicts
    elif isinstance(doc, dict) and "annotations" in doc:
        frames, meta = _coco_dataset_frames(path, doc)
    elif isinstance(doc, list):
        frames = _list_frames(path, doc)
    else:
        raise FormatError(path, "unrecognised keypoint JSON: expected a list of frames or an object with 'frames'")
    if not frames:
        raise FormatError(path, "no frames")
    layout, positions, confidence = _assemble(path, frames, meta)

    normalized = meta.get("normalized")
    if normalized is None:
        xy = positions[..., :2]
        xy = xy[np.isfinite(xy)]
        lo, hi = _NORMALIZED_RANGE
        normalized = bool(xy.size) and bool(xy.min() >= lo and xy.max() <= hi)
    elif not isinstance(normalized, bool):
        raise FormatError(path, f"'normalized' must be true or false; got {normalized!r}", field="normalized")
    file_fps = meta.get("fps")
    if file_fps is not None and not (_is_number(file_fps) and file_fps > 0):
        raise FormatError(path, f"'fps' must be a positive number; got {file_fps!r}", field="fps")
    return KeypointData(
        path=path,
        layout=layout,
        names=keypoint_names(layout),
        positions=positions,
        confidence=confidence,
        normalized=normalized,
        image_size=_image_size(path, meta),
        fps=float(fps) if fps is not None else (None if file_fps is None else float(file_fps)),
    )


# A frame, once decoded, is None (no person) or a list of K keypoints, each None (not
# detected) or a tuple (x, y, [z,] confidence) of finite floats. Names, if the file gave
# them, come alongside so that they can order the keypoints.
_Frame = tuple[list[tuple[float, ...] | None], list[str] | None] | None


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _check_number(path: Path, v: Any, frame: int, field: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise FormatError(path, f"expected a number, found {v!r}", frame=frame, field=field)
    if not math.isfinite(v):
        raise FormatError(path, f"value {v} is not finite", frame=frame, field=field)
    return float(v)


def _kp_label(i: int, k: int | None) -> str:
    """The name of keypoint ``i`` if the count ``k`` identifies a layout, else its index."""
    layout = _BY_COUNT.get(k) if k is not None else None
    return keypoint_names(layout)[i] if layout else f"keypoint {i}"


def _generic_frames(path: Path, frames: list) -> list[_Frame]:
    """Decode frames of ``[[x, y, (z), c] | null, ...] | null``."""
    out: list[_Frame] = []
    for t, fr in enumerate(frames):
        if fr is None or fr == []:
            out.append(None)
            continue
        if not isinstance(fr, list):
            raise FormatError(path, f"a frame must be a list of keypoints; found {type(fr).__name__}", frame=t)
        kps: list[tuple[float, ...] | None] = []
        for i, kp in enumerate(fr):
            if kp is None:
                kps.append(None)
                continue
            label = _kp_label(i, len(fr))
            if not isinstance(kp, list) or len(kp) not in (3, 4):
                raise FormatError(path, f"expected [x, y, (z), confidence], found {kp!r}", frame=t, field=label)
            kps.append(tuple(_check_number(path, v, t, f"{label}[{j}]") for j, v in enumerate(kp)))
        out.append((kps, None))
    return out


def _list_frames(path: Path, doc: list) -> list[_Frame]:
    """Decode a list of frames: generic lists, per-frame dicts or a COCO results list."""
    first = next((fr for fr in doc if fr is not None), None)
    if isinstance(first, list):
        return _generic_frames(path, doc)
    if isinstance(first, dict) and isinstance(first.get("keypoints"), list) and first["keypoints"]:
        if not isinstance(first["keypoints"][0], dict):
            return _coco_results_frames(path, doc)
    frames: list[_Frame] = []
    for t, fr in enumerate(doc):
        if fr is None:
            frames.append(None)
            continue
        if not isinstance(fr, dict) or "keypoints" not in fr:
            raise FormatError(path, "a frame must be an object with 'keypoints'", frame=t, field="keypoints")
        kps = fr["keypoints"]
        if kps is None or kps == []:
            frames.append(None)
            continue
        if not isinstance(kps, list):
            raise FormatError(path, "'keypoints' must be a list", frame=t, field="keypoints")
        frames.append(_dict_keypoints(path, kps, t))
    return frames


def _dict_keypoints(path: Path, kps: list, t: int) -> _Frame:
    """Decode ``[{"x":.., "y":.., ("z":..), "visibility"|"score"|"confidence":.., ("name":..)}, ...]``."""
    out: list[tuple[float, ...] | None] = []
    names: list[str] = []
    for i, kp in enumerate(kps):
        label = _kp_label(i, len(kps))
        if not isinstance(kp, dict):
            raise FormatError(path, f"a keypoint must be an object; found {kp!r}", frame=t, field=label)
        name = kp.get("name", kp.get("part"))
        if name is not None:
            names.append(str(name).lower())
            label = names[-1]
        src = kp["position"] if isinstance(kp.get("position"), dict) else kp  # TF.js PoseNet nests x, y
        coords = ("x", "y", "z") if "z" in src else ("x", "y")
        values = []
        for c in coords:
            if c not in src:
                raise FormatError(path, f"missing {c!r}", frame=t, field=f"{label}.{c}")
            values.append(_check_number(path, src[c], t, f"{label}.{c}"))
        conf_key = next((k for k in _CONF_KEYS if k in kp), None)
        if conf_key is None:
            raise FormatError(path, f"missing confidence (one of {', '.join(_CONF_KEYS)})", frame=t, field=label)
        values.append(_check_number(path, kp[conf_key], t, f"{label}.{conf_key}"))
        out.append(tuple(values))
    if names and len(names) != len(out):
        raise FormatError(path, "some keypoints have a 'name' and some do not", frame=t, field="name")
    return out, (names or None)


def _coco_triples(path: Path, flat: Any, t: int) -> _Frame:
    if flat is None or flat == []:
        return None
    if not isinstance(flat, list) or len(flat) % 3:
        n = len(flat) if isinstance(flat, list) else type(flat).__name__
        raise FormatError(path, f"'keypoints' must be a flat list [x, y, v] * K; found {n} values", frame=t)
    k = len(flat) // 3
    vals = [_check_number(path, v, t, f"{_kp_label(i // 3, k)}[{i % 3}]") for i, v in enumerate(flat)]
    kps: list[tuple[float, ...] | None] = []
    for i in range(k):
        x, y, v = vals[3 * i : 3 * i + 3]
        kps.append(None if x == y == v == 0.0 else (x, y, v))
    if all(kp is None for kp in kps):
        return None
    return kps, None


def _flags_to_confidence(frames: list[_Frame]) -> list[_Frame]:
    """COCO visibility flags (1 occluded, 2 visible; both labelled) become confidence 1."""
    v = {kp[2] for fr in frames if fr is not None for kp in fr[0] if kp is not None}
    if not (v <= {0.0, 1.0, 2.0} and 2.0 in v):
        return frames
    out: list[_Frame] = []
    for fr in frames:
        if fr is None:
            out.append(None)
        else:
            kps = [None if kp is None else (kp[0], kp[1], float(kp[2] > 0)) for kp in fr[0]]
            out.append((kps, fr[1]))
    return out


def _best(cands: list[dict]) -> dict:
    return max(cands, key=lambda a: (_num_or(a.get("score")), _num_or(a.get("num_keypoints"))))


def _num_or(v: Any) -> float:
    return float(v) if _is_number(v) else -math.inf


def _coco_results_frames(path: Path, doc: list) -> list[_Frame]:
    for t, d in enumerate(doc):
        if not isinstance(d, dict) or "keypoints" not in d:
            raise FormatError(path, "a COCO entry must be an object with 'keypoints'", frame=t, field="keypoints")
    if all("image_id" in d for d in doc):
        by_image: dict[Any, list[dict]] = {}
        for d in doc:
            by_image.setdefault(d["image_id"], []).append(d)
        try:
            ids = sorted(by_image)
        except TypeError:
            raise FormatError(path, "image_id values cannot be ordered (mixed types)", field="image_id") from None
        doc = [_best(by_image[i]) for i in ids]
    return _flags_to_confidence([_coco_triples(path, d["keypoints"], t) for t, d in enumerate(doc)])


def _coco_dataset_frames(path: Path, doc: dict) -> tuple[list[_Frame], dict]:
    anns, images = doc["annotations"], doc.get("images")
    if not isinstance(anns, list) or not all(isinstance(a, dict) and "keypoints" in a for a in anns):
        raise FormatError(path, "'annotations' must be a list of objects with 'keypoints'", field="annotations")
    if not isinstance(images, list) or not all(isinstance(im, dict) and "id" in im for im in images):
        return _coco_results_frames(path, anns), {}
    by_image: dict[Any, list[dict]] = {}
    for a in anns:
        by_image.setdefault(a.get("image_id"), []).append(a)
    frames: list[_Frame] = []
    for t, im in enumerate(images):
        cands = by_image.get(im["id"])
        frames.append(None if not cands else _coco_triples(path, _best(cands)["keypoints"], t))
    meta = {}
    if images and "width" in images[0] and "height" in images[0]:
        meta["image_size"] = [images[0]["width"], images[0]["height"]]
    return _flags_to_confidence(frames), meta


def _assemble(path: Path, frames: list[_Frame], meta: dict) -> tuple[Layout, np.ndarray, np.ndarray]:
    first = next((t for t, fr in enumerate(frames) if fr is not None), None)
    declared = meta.get("layout")
    if declared is not None and declared not in KEYPOINT_LAYOUTS:
        raise FormatError(
            path, f"unknown layout {declared!r} (expected one of {list(KEYPOINT_LAYOUTS)})", field="layout"
        )
    if first is None:
        # Every frame is empty: only a declared layout can say what K is.
        if declared is None:
            raise FormatError(path, "no frame has a person and no 'layout' is declared", field="layout")
        dims = meta.get("dims", 2)
        if dims not in (2, 3):
            raise FormatError(path, f"'dims' must be 2 or 3; got {dims!r}", field="dims")
        k = KEYPOINT_LAYOUTS[declared]
        return declared, np.full((len(frames), k, dims), np.nan), np.zeros((len(frames), k))
    k = len(frames[first][0])
    layout = _BY_COUNT.get(k)
    if layout is None:
        raise FormatError(path, f"{k} keypoints per frame: expected 17 (COCO) or 33 (MediaPipe)", frame=first)
    if declared is not None and declared != layout:
        raise FormatError(path, f"layout {declared!r} but frames have {k} keypoints", field="layout", frame=first)
    names = keypoint_names(layout)
    if meta.get("names") is not None and tuple(meta["names"]) != names:
        raise FormatError(path, f"'names' do not match the {layout} keypoint names", field="names")
    entry = next((kp for fr in frames if fr is not None for kp in fr[0] if kp is not None), None)
    dims = meta.get("dims", 2 if entry is None else len(entry) - 1)
    if dims not in (2, 3):
        raise FormatError(path, f"'dims' must be 2 or 3; got {dims!r}", field="dims")
    index = {n: i for i, n in enumerate(names)}
    T = len(frames)
    positions = np.full((T, k, dims), np.nan)
    confidence = np.zeros((T, k))
    for t, fr in enumerate(frames):
        if fr is None:
            continue
        kps, kp_names = fr
        if len(kps) != k:
            raise FormatError(path, f"expected {k} keypoints ({layout}), found {len(kps)}", frame=t)
        order = range(k)
        if kp_names is not None:
            for n in kp_names:
                if n not in index:
                    raise FormatError(path, f"unknown keypoint name {n!r} for {layout}", frame=t, field=n)
            if len(set(kp_names)) != k:
                raise FormatError(path, "repeated keypoint name", frame=t, field="name")
            order = [index[n] for n in kp_names]
        for i, kp in zip(order, kps, strict=True):
            if kp is None:
                continue
            if len(kp) != dims + 1:
                raise FormatError(path, f"{len(kp) - 1} coordinates, expected {dims}", frame=t, field=names[i])
            positions[t, i] = kp[:dims]
            confidence[t, i] = kp[dims]
    return layout, positions, confidence


def _image_size(path: Path, meta: dict) -> tuple[int, int] | None:
    size = meta.get("image_size")
    if size is None and "width" in meta and "height" in meta:
        size = [meta["width"], meta["height"]]
    if size is None:
        return None
    if not (isinstance(size, list) and len(size) == 2 and all(_is_number(v) and v > 0 for v in size)):
        raise FormatError(path, f"'image_size' must be [width, height] in pixels; got {size!r}", field="image_size")
    return int(size[0]), int(size[1])


def write_keypoints(path: str | Path, data: KeypointData) -> Path:
    """Write ``data`` in the generic layout (atomically), one frame per line.

    Empty frames are written as ``null``, keypoints with a NaN coordinate as ``null``;
    everything else round-trips exactly through :func:`read_keypoints`.

    Parameters
    ----------
    path : str or Path
        Destination ``.json`` file.
    data : KeypointData
        The keypoints.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValueError
        If shapes disagree with the layout or a confidence is not finite.
    """
    path = Path(path)
    if data.layout not in KEYPOINT_LAYOUTS:
        raise ValueError(f"unknown layout {data.layout!r}")
    names = keypoint_names(data.layout)
    T, K = data.confidence.shape if data.confidence.ndim == 2 else (-1, -1)
    if data.positions.shape[:2] != (T, K) or K != len(names) or data.dims not in (2, 3):
        raise ValueError(f"positions {data.positions.shape} and confidence {data.confidence.shape} do not fit {K}")
    if not np.isfinite(data.confidence).all():
        raise ValueError("confidence contains NaN or inf")
    header = {
        "format": "musclepose-keypoints",
        "layout": data.layout,
        "names": list(names),
        "fps": data.fps,
        "normalized": bool(data.normalized),
        "image_size": None if data.image_size is None else list(data.image_size),
        "dims": data.dims,
    }
    lines = []
    missing = np.isnan(data.positions).any(axis=-1)
    for t in range(T):
        if missing[t].all():
            lines.append("null")
            continue
        frame = [
            None if missing[t, i] else [*data.positions[t, i].tolist(), float(data.confidence[t, i])] for i in range(K)
        ]
        lines.append(json.dumps(frame, separators=(",", ":"), allow_nan=False))
    head = json.dumps(header, allow_nan=False)[:-1]
    with atomic_write(path, mode="w", newline="\n") as f:
        f.write(head + ', "frames": [\n' + ",\n".join(lines) + "\n]}\n")
    return path
