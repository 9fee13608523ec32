"""A clip (seven channels and wave features) from any recording: io and signals together.

A clip JSON is read as it is; any other recording :func:`~musclepose.io.load.load_motion` reads
becomes a Motion and then its channels (:func:`musclepose.signals.compute_channels`) and wave
features (:func:`musclepose.signals.wave_features`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..io.clip import Clip, is_clip_json, read_clip
from ..io.load import load_motion
from ..io.load_common import say
from ..signals import compute_channels, wave_features

__all__ = ["load_clip"]


def load_clip(path: str | Path, **kwargs: Any) -> Clip:
    """A clip (seven channels) from a clip JSON, or from any motion file :func:`load_motion` reads.

    For a motion file the channels are :func:`musclepose.signals.compute_channels`, the
    wave features :func:`musclepose.signals.wave_features` (as a dict), ``exercise`` is
    ``""`` (unknown: the clip schema requires a string) and ``video_id`` the file name.
    ``kwargs`` go to :func:`load_motion`.
    """
    path = Path(path)
    if path.suffix.lower() == ".json" and is_clip_json(path):
        return read_clip(path)
    motion = load_motion(path, **kwargs)
    say(kwargs.get("progress"), "computing channels and wave features")
    return Clip(
        channels=compute_channels(motion),
        fps=float(motion.fps),
        exercise="",
        video_id=path.name,
        wave_features=wave_features(motion).to_dict(),
    )
