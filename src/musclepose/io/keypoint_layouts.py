"""The keypoint JSON layouts :func:`~musclepose.io.keypoints.read_keypoints` accepts, decoded to frames.

Layouts are detected from the content, not the file name:

- **per-frame dicts** (MediaPipe / MoveNet / TF.js pose-detection wrappers): ``[{"keypoints":
  [{"x", "y", ("z"), "visibility"|"score"|"confidence", ("name")}, ...]}, ...]``; ``"keypoints":
  []`` is a frame with no person.
- **generic** (what :func:`~musclepose.io.keypoints.write_keypoints` writes): ``{"fps", "layout",
  "frames": [[[x, y, (z), c], ...], ...]}`` with optional ``"normalized"``, ``"image_size"``,
  ``"names"``, ``"dims"``; a frame ``null`` or ``[]`` has no person, a keypoint ``null`` was not
  detected.
- **COCO**: a results list ``[{"image_id", "keypoints": [x, y, v] * K, "score"}, ...]`` (one frame
  per ``image_id`` ascending, the best-scoring person kept) or a dataset ``{"images",
  "annotations"}``. ``(0, 0, 0)`` is "not labelled"; visibility flags ``{0, 1, 2}`` (with a 2)
  become confidence 1, any other ``v`` is the confidence.

Keypoint names and order follow :mod:`musclepose.body.landmarks` (``COCO17``, ``MEDIAPIPE33``).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .errors import FormatError

__all__ = ["KEYPOINT_LAYOUTS", "Layout", "decode_keypoints", "finite_number", "keypoint_names"]

Layout = Literal["mediapipe33", "coco17"]
KEYPOINT_LAYOUTS: dict[str, int] = {"coco17": 17, "mediapipe33": 33}  # layout -> number of keypoints
_BY_COUNT = {k: layout for layout, k in KEYPOINT_LAYOUTS.items()}
_CONF_KEYS = ("visibility", "score", "confidence")


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


def decode_keypoints(path: Path, doc: Any) -> tuple[Layout, np.ndarray, np.ndarray, dict]:
    """A parsed keypoint JSON document as ``(layout, positions (T, K, D), confidence (T, K), meta)``.

    ``meta`` holds the document's optional fields (``fps``, ``normalized``, ``image_size``...).
    """
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
    return (*_assemble(path, frames, meta), meta)


# A frame, once decoded, is None (no person) or a list of K keypoints, each None (not
# detected) or a tuple (x, y, [z,] confidence) of finite floats. Names, if the file gave
# them, come alongside so that they can order the keypoints.
_Frame = tuple[list[tuple[float, ...] | None], list[str] | None] | None


def finite_number(v: Any) -> bool:
    """Whether ``v`` is a finite JSON number (not a bool)."""
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
    return float(v) if finite_number(v) else -math.inf


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
