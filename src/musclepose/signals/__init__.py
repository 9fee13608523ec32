"""Signals: the seven trajectory channels, repetitions, phases, wave features and quality grade.

Conventions: numpy at this layer's edge; time on axis 0; heights in m above the floor,
angles in degrees, frequencies in Hz, energies in J. See each module's docstring:
:mod:`.channels` (definitions), :mod:`.reps` (repetition segmentation), :mod:`.phases`
(phases and tempo), :mod:`.spectrum`, :mod:`.damping`, :mod:`.energy`, :mod:`.quality`,
:mod:`.waves` (wave features), :mod:`.analysis` (``analyze_motion``).
"""

from .analysis import Analysis, RepSummary, analyze_motion
from .channels import CHANNEL_NAMES, CHANNEL_UNITS, channels_array, channels_from_clip, compute_channels
from .damping import DampingEstimate, estimate_damping
from .energy import MechanicalEnergy, segment_energy
from .phases import PHASES, PhaseSegmenter, PhaseSpan, Tempo
from .quality import QualityScores, grade
from .reps import RepSegmenter
from .spectrum import band_powers, dominant_frequency, harmonics, spectral_entropy
from .waves import WaveFeatures, wave_features

__all__ = [
    "CHANNEL_NAMES",
    "CHANNEL_UNITS",
    "PHASES",
    "Analysis",
    "DampingEstimate",
    "MechanicalEnergy",
    "PhaseSegmenter",
    "PhaseSpan",
    "QualityScores",
    "RepSegmenter",
    "RepSummary",
    "Tempo",
    "WaveFeatures",
    "analyze_motion",
    "band_powers",
    "channels_array",
    "channels_from_clip",
    "compute_channels",
    "dominant_frequency",
    "estimate_damping",
    "grade",
    "harmonics",
    "segment_energy",
    "spectral_entropy",
    "wave_features",
]
