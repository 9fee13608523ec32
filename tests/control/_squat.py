"""The real squat (OpenSim's IK of squats1) cut short and written back as a .mot, for the CLI tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from musclepose.io import load_motion
from musclepose.io.opensim import write_table
from musclepose.io.opensim.coords import opensim_from_motion


def squat_excerpt_mot(source: Path, folder: Path, frames: int) -> Path:
    """The first ``frames`` frames of ``source`` (squats1.mot, 100 Hz) as ``folder/squat_<frames>.mot``."""
    motion = load_motion(source)[0:frames]
    cols = opensim_from_motion(motion, degrees=True)
    path = folder / f"squat_{frames}.mot"
    write_table(path, list(cols), np.stack(list(cols.values()), axis=1), in_degrees=True)
    return path
