"""Every file format in and out (readers, writers, load_motion).

Heavy dependencies stay out of ``import musclepose.io``: ezc3d and h5py are imported inside
the functions that need them, and the HDF5 dataset names (which need torch and the body
model) are loaded on first use.
"""

from __future__ import annotations

from typing import Any

from .atomic import atomic_path, atomic_write
from .c3d import C3DData, C3DEvent, ForcePlate, PlateWrench, plate_wrenches, read_c3d
from .clip import CLIP_CHANNELS, Clip, read_clip, write_clip
from .errors import FormatError
from .load import load_motion
from .opensim import (
    ExternalForceSpec,
    MarkerData,
    OpenSimTable,
    OsimBody,
    read_external_loads,
    read_osim_bodies,
    read_osim_markers,
    read_table,
    read_trc,
    write_table,
    write_trc,
)

_LAZY = {"MotionDatasetReader": "hdf5", "read_motion": "hdf5", "write_motions": "hdf5"}

__all__ = [
    "CLIP_CHANNELS",
    "C3DData",
    "C3DEvent",
    "Clip",
    "ExternalForceSpec",
    "ForcePlate",
    "FormatError",
    "MarkerData",
    "MotionDatasetReader",
    "OpenSimTable",
    "OsimBody",
    "PlateWrench",
    "atomic_path",
    "atomic_write",
    "load_motion",
    "plate_wrenches",
    "read_c3d",
    "read_clip",
    "read_external_loads",
    "read_motion",
    "read_osim_bodies",
    "read_osim_markers",
    "read_table",
    "read_trc",
    "write_clip",
    "write_motions",
    "write_table",
    "write_trc",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
