"""OpenSim files: ``.mot``/``.sto`` tables, ``.trc`` markers, ``.osim`` models, ExternalLoads XML.

OpenSim is Y-up and right-handed like MusclePose; the readers change no axes. Every reader
raises :class:`~musclepose.io.errors.FormatError` naming the file and, where it applies, the
line, frame and field; writers go through :func:`~musclepose.io.atomic.atomic_write`. The
readers re-exported here need numpy only; :mod:`.joints` reads the joints of OpenSim 4 and
OpenSim 3 models with their transform functions (:mod:`.functions`); :mod:`.model` (an OpenSim
marker set on our body) and :mod:`.coords` (OpenSim coordinates as a Motion) need the body
model (torch).
"""

from .external_loads import ExternalForceSpec, read_external_loads
from .osim import OsimBody, read_osim_bodies, read_osim_markers
from .table import OpenSimTable, read_table, write_table
from .trc import TRC_UNITS, MarkerData, read_trc, write_trc

__all__ = [
    "TRC_UNITS",
    "ExternalForceSpec",
    "MarkerData",
    "OpenSimTable",
    "OsimBody",
    "read_external_loads",
    "read_osim_bodies",
    "read_osim_markers",
    "read_table",
    "read_trc",
    "write_table",
    "write_trc",
]
