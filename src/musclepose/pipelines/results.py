"""The typed per-clip result that the pipelines return and the report and the CLI read.

:class:`ClipResult` is one analysed clip: a recording on the body (``motion`` set) or a clip of
the seven channels alone (``motion`` None). Times in s, heights in m, angles in degrees (channels),
moments in N m (kinetics); the channels are at ``analysis.fps``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..body import Body
    from ..language.prompts import DetectedFault
    from ..motion import Motion
    from ..motion.kinetics import Kinetics
    from ..signals.analysis import Analysis
    from .video_pose import VideoResult

__all__ = ["ClipResult"]


@dataclass
class ClipResult:
    """What the pipelines found in one clip.

    Attributes
    ----------
    analysis
        Repetitions (depth, phases, tempo), wave features, grade and, with kinetics, the peak
        moments, ground reactions and activations per repetition.
    channels
        The seven channels (name -> ``(T,)``) the analysis ran on.
    motion
        The recording on the body; None for a clip of channels only.
    kinetics
        Inverse dynamics, ground reactions and muscle activations of ``motion``, if computed.
    faults
        The form screen's findings, most severe first; None: not screened.
    body
        The body of ``motion``, or the one a channels-only clip's energies are computed for.
    path
        The file the clip was read from, if any.
    loader
        What the loader chose (marker set, static trial, scale factors, fit residual, ...), printable.
    timings_s
        Seconds per stage (``"analysis"``, ...).
    video
        For a video: its landmarks and the body fit (:class:`~.video_pose.VideoResult`).
    """

    analysis: Analysis
    channels: dict[str, np.ndarray] | None = None
    motion: Motion | None = None
    kinetics: Kinetics | None = None
    faults: list[DetectedFault] | None = None
    body: Body | None = None
    path: Path | None = None
    loader: dict[str, Any] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    video: VideoResult | None = None
    measures: dict[str, float] | None = None  # the exercise's catalogue measures (a landing's, a run's)
    form: Any = None  # a .form_analysis.FormReport: the exercise recognised and each repetition's faults

    @property
    def kind(self) -> str:
        """``"motion"`` (a recording on the body) or ``"clip"`` (seven channels only)."""
        return "motion" if self.motion is not None else "clip"

    @property
    def fps(self) -> float:
        return float(self.motion.fps) if self.motion is not None else float(self.analysis.fps)

    @property
    def n_frames(self) -> int:
        if self.motion is not None:
            return int(self.motion.n_frames)
        channels = self.channels if self.channels is not None else self.analysis.channels or {}
        return len(next(iter(channels.values()))) if channels else 0
