"""The original clip-JSON schema: seven trajectory channels of one exercise clip.

A clip file is one JSON object::

    {"trajectory": [...], "legs_trajectory": [...], "shoulder_trajectory": [...],
     "back_trajectory": [...], "knee_angle_trajectory": [...], "arm_Trajectory": [...],
     "core_": [...],                      # seven lists of n_frames numbers (CLIP_CHANNELS)
     "fps": 30.0, "n_frames": 120, "exercise": "squat",
     "expert": false, "error_rate": [...], "video_id": "abc",          # optional, defaulted
     "wave_features": {"quality": {}, "energy": {}, "damping": {},
                       "frequency": {}, "harmonic": {}, "waves": {}}, # optional
     "LANGUAGE": "en"}                                                 # optional

The key spellings (``arm_Trajectory``, ``core_``, ``LANGUAGE``) are the seed schema's and
are kept byte-for-byte. The channels' units are whatever the producer used (the seed did
not record them); :mod:`musclepose.signals` defines what MusclePose writes. Unknown keys are
kept in :attr:`Clip.extra` and written back. Reading validates the schema precisely and
raises :class:`~musclepose.io.errors.FormatError` naming the key and, for channel values,
the 0-based frame index.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write
from .errors import FormatError

__all__ = ["CLIP_CHANNELS", "WAVE_FEATURE_KEYS", "Clip", "is_clip_json", "read_clip", "write_clip"]

#: The seven channels, in the seed schema's order (``Clip.as_array`` columns).
CLIP_CHANNELS: tuple[str, ...] = (
    "trajectory",
    "legs_trajectory",
    "shoulder_trajectory",
    "back_trajectory",
    "knee_angle_trajectory",
    "arm_Trajectory",
    "core_",
)
#: Sub-dictionaries of ``wave_features`` in the seed schema.
WAVE_FEATURE_KEYS: tuple[str, ...] = ("quality", "energy", "damping", "frequency", "harmonic", "waves")
_KNOWN = {
    *CLIP_CHANNELS,
    "wave_features",
    "LANGUAGE",
    "exercise",
    "fps",
    "n_frames",
    "expert",
    "error_rate",
    "video_id",
}
MIN_FRAMES = 2


@dataclass
class Clip:
    """One exercise clip in the seed schema.

    Attributes
    ----------
    channels : dict of str to np.ndarray
        The seven :data:`CLIP_CHANNELS`, each ``(T,)`` float64, finite.
    fps : float
        Frames per second (> 0).
    exercise : str
        Exercise name (e.g. ``"squat"``).
    expert : bool
        Whether an expert performed it (default ``False``).
    error_rate : list of float
        The seed's per-clip error annotations (default empty).
    video_id : str
        Source video identifier (default ``""``).
    wave_features : dict
        Precomputed wave features (``quality``, ``energy``, ``damping``, ``frequency``,
        ``harmonic``, ``waves`` sub-dicts), kept as JSON values; empty when absent.
    language : str
        The ``LANGUAGE`` field (default ``""``).
    extra : dict
        Keys outside the schema, kept verbatim.
    """

    channels: dict[str, np.ndarray]
    fps: float
    exercise: str
    expert: bool = False
    error_rate: list[float] = field(default_factory=list)
    video_id: str = ""
    wave_features: dict[str, Any] = field(default_factory=dict)
    language: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [c for c in CLIP_CHANNELS if c not in self.channels]
        unknown = [c for c in self.channels if c not in CLIP_CHANNELS]
        if missing or unknown:
            raise ValueError(f"channels must be exactly {CLIP_CHANNELS}; missing {missing}, unknown {unknown}")
        self.channels = {c: np.asarray(self.channels[c], dtype=np.float64) for c in CLIP_CHANNELS}
        lengths = {c: v.shape for c, v in self.channels.items()}
        n = self.channels[CLIP_CHANNELS[0]].shape
        if len(n) != 1 or any(s != n for s in lengths.values()):
            raise ValueError(f"channels must be 1-D and equally long; shapes {lengths}")
        if n[0] < MIN_FRAMES:
            raise ValueError(f"a clip needs at least {MIN_FRAMES} frames; got {n[0]}")
        for c, v in self.channels.items():
            if not np.isfinite(v).all():
                raise ValueError(f"channel {c!r} is not finite at frame {int(np.argmin(np.isfinite(v)))}")
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"fps must be positive; got {self.fps!r}")

    @property
    def n_frames(self) -> int:
        return int(self.channels[CLIP_CHANNELS[0]].shape[0])

    def as_array(self) -> np.ndarray:
        """The channels as ``(T, 7)`` float64, columns in :data:`CLIP_CHANNELS` order."""
        return np.stack([self.channels[c] for c in CLIP_CHANNELS], axis=1)

    def to_json(self) -> dict[str, Any]:
        """The clip as a JSON-ready dict in the seed schema."""
        out: dict[str, Any] = {c: self.channels[c].tolist() for c in CLIP_CHANNELS}
        if self.wave_features:
            out["wave_features"] = self.wave_features
        if self.language:
            out["LANGUAGE"] = self.language
        out.update(
            exercise=self.exercise,
            fps=float(self.fps),
            n_frames=self.n_frames,
            expert=bool(self.expert),
            error_rate=[float(v) for v in self.error_rate],
            video_id=self.video_id,
        )
        for k, v in self.extra.items():
            if k in _KNOWN:
                raise ValueError(f"extra key {k!r} collides with a schema key")
            out[k] = v
        return out


def _type_name(v: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(v), "number" if isinstance(v, int | float) else type(v).__name__
    )


def _is_number(v: Any) -> bool:
    return type(v) in (int, float)  # bool is an int subclass: excluded on purpose


def is_clip_json(path: Path) -> bool:
    """Whether ``path`` holds a JSON object with the ``trajectory`` channel (a clip, not keypoints)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(doc, dict) and "trajectory" in doc


def read_clip(path: str | Path) -> Clip:
    """Read and validate a clip-JSON file.

    Parameters
    ----------
    path
        The ``.json`` file.

    Returns
    -------
    Clip

    Raises
    ------
    FormatError
        Not JSON (with line), not an object, a missing required key (the seven channels,
        ``fps``, ``n_frames``, ``exercise``), a wrong type, a channel whose length is not
        ``n_frames``, a non-number / NaN / inf channel value (key and frame index),
        ``fps <= 0``, fewer than 2 frames, or a malformed ``wave_features``.
    """
    path = Path(path)
    text = path.read_bytes().decode("utf-8", errors="replace")
    if not text.strip():
        raise FormatError(path, "empty file")
    try:
        obj = json.loads(text)  # accepts NaN/Infinity tokens so they can be reported below
    except json.JSONDecodeError as e:
        raise FormatError(path, f"not valid JSON: {e.msg} (column {e.colno})", line=e.lineno) from e
    if not isinstance(obj, dict):
        raise FormatError(path, f"top level must be a JSON object, not {_type_name(obj)}")

    def need(key: str, ok, what: str, default: Any = ...) -> Any:
        if key not in obj:
            if default is ...:
                raise FormatError(path, "required key is missing", field=key)
            return default
        if not ok(obj[key]):
            raise FormatError(path, f"must be {what}, not {_type_name(obj[key])} {obj[key]!r:.40}", field=key)
        return obj[key]

    n_frames = need("n_frames", lambda v: type(v) is int, "an integer")
    fps = need("fps", _is_number, "a number")
    exercise = need("exercise", lambda v: isinstance(v, str), "a string")
    expert = need("expert", lambda v: isinstance(v, bool), "true or false", False)
    video_id = need("video_id", lambda v: isinstance(v, str), "a string", "")
    language = need("LANGUAGE", lambda v: isinstance(v, str), "a string", "")
    error_rate = need("error_rate", lambda v: isinstance(v, list), "an array", [])
    wave = need("wave_features", lambda v: isinstance(v, dict), "an object", {})
    if not (math.isfinite(fps) and fps > 0):
        raise FormatError(path, f"fps must be a positive number, got {fps!r}", field="fps")
    if n_frames < MIN_FRAMES:
        raise FormatError(path, f"a clip needs at least {MIN_FRAMES} frames, n_frames is {n_frames}", field="n_frames")
    for i, v in enumerate(error_rate):
        if not _is_number(v) or not math.isfinite(v):
            raise FormatError(path, f"element {i} must be a finite number, not {v!r:.40}", field="error_rate")
    for k in WAVE_FEATURE_KEYS:
        if k in wave and not isinstance(wave[k], dict):
            raise FormatError(path, f"must be an object, not {_type_name(wave[k])}", field=f"wave_features.{k}")

    channels = {}
    for key in CLIP_CHANNELS:
        values = need(key, lambda v: isinstance(v, list), "an array of numbers")
        if len(values) != n_frames:
            raise FormatError(path, f"has {len(values)} values but n_frames is {n_frames}", field=key)
        for i, v in enumerate(values):
            if not _is_number(v):
                raise FormatError(path, f"value {v!r:.40} is not a number", field=key, frame=i)
        arr = np.asarray(values, dtype=np.float64)
        finite = np.isfinite(arr)
        if not finite.all():
            i = int(np.argmin(finite))
            raise FormatError(path, f"value {arr[i]!r} is not finite", field=key, frame=i)
        channels[key] = arr

    return Clip(
        channels=channels,
        fps=float(fps),
        exercise=exercise,
        expert=expert,
        error_rate=[float(v) for v in error_rate],
        video_id=video_id,
        wave_features=wave,
        language=language,
        extra={k: v for k, v in obj.items() if k not in _KNOWN},
    )


def write_clip(path: str | Path, clip: Clip, indent: int | None = None) -> None:
    """Write a clip in the seed schema, atomically (``NaN`` or ``inf`` anywhere is refused).

    Parameters
    ----------
    path
        Destination ``.json``.
    clip
        The clip.
    indent
        JSON indentation (``None``: compact, one line).
    """
    text = json.dumps(clip.to_json(), indent=indent, allow_nan=False, ensure_ascii=False)
    with atomic_write(path, "w", newline="\n") as f:
        f.write(text + "\n")
