"""Running trained things: load a checkpoint (label maps from its config) and turn a recording into typed results.

A pipeline takes a file, a :class:`~musclepose.motion.Motion` or a clip of channels and returns a
dataclass (:class:`ClipResult`, :class:`CoachResult`); the report and the CLI read those. Training,
evaluation and the CLI import this package; it never imports them.
"""

from .analysis import analyze_clip, analyze_file
from .checkpoint import checkpoint_labels, load_checkpoint
from .clips import load_clip
from .coach import CoachModel, CoachResult, default_checkpoint
from .coach_examples import CoachExample, load_examples
from .form_screen import FormScreen, fault_measures
from .labels import LabelMap
from .results import ClipResult

__all__ = [
    "ClipResult",
    "CoachExample",
    "CoachModel",
    "CoachResult",
    "FormScreen",
    "LabelMap",
    "analyze_clip",
    "analyze_file",
    "checkpoint_labels",
    "default_checkpoint",
    "fault_measures",
    "load_checkpoint",
    "load_clip",
    "load_examples",
]
