"""Wave features of an exercise clip: quality, energy, damping, frequency, harmonics, phases.

:func:`wave_features` accepts a :class:`~musclepose.motion.core.Motion`, the seven channels
``(T, 7)`` (:data:`~.channels.CHANNEL_NAMES` order) with their frame rate, a single ``(T,)``
signal, or an upstream clip dict, and returns :class:`WaveFeatures`, whose
:meth:`~WaveFeatures.to_dict` has the upstream clip's ``wave_features`` layout (seed 000:
``quality``, ``energy``, ``damping``, ``frequency``, ``harmonic``, ``waves``) plus the
upstream formulas' values under ``upstream``.

Everything is computed on the *primary* channel (the exercise's, see :mod:`.exercises`, or
the automatic choice of :class:`~.reps.RepSegmenter`), except the energy in joules, which is
the whole body's (:mod:`.energy`): segment by segment for a Motion, the hip-height proxy
when only channels and a body are known, absent otherwise. Repetitions are found on the
signal low-passed at 3 Hz (:class:`~.reps.RepSegmenter`); phases, quality and damping use it
low-passed at ``cutoff_hz`` (6 Hz by default, so half-second movements keep their shape);
the spectrum (frequency, bands, entropy, harmonics) uses it unfiltered, so that tremor in the
3-8 Hz band is seen. Upstream computed its features on a bar's vertical position from video
(``trajectory``).

Units: frequencies in Hz, times in s, velocities in the primary channel's unit per second
(m/s or deg/s), energies in J, power in W; scores in [0, 1]. NaN becomes ``None`` in
:meth:`~WaveFeatures.to_dict` so it is valid JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .channels import CHANNEL_NAMES, CHANNEL_UNITS, channels_from_clip, compute_channels, long_motion, motion_fk
from .damping import DampingEstimate, estimate_damping
from .energy import MechanicalEnergy, hip_proxy_energy, proxy_energy, segment_energy
from .exercises import exercise_spec, infer_eccentric_first
from .phases import PhaseSegmenter, Tempo
from .quality import QualityScores, quality_scores, upstream_scores
from .reps import RepSegmenter
from .smoothing import lowpass
from .spectrum import band_powers, dominant_frequency, harmonics, spectral_entropy

if TYPE_CHECKING:
    from ..body import Body

__all__ = ["WaveFeatures", "jsonable", "wave_features"]


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars/arrays made Python and NaN/inf made ``None`` (recursively)."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


@dataclass(frozen=True)
class WaveFeatures:
    """Wave features of one clip (see the module docstring for units).

    Attributes
    ----------
    channel : str
        The primary channel the features describe.
    fps : float
    reps : list of (int, int, int)
        ``(start, extreme, end)`` frames of each repetition.
    eccentric_first : bool
    quality : QualityScores
    energy : dict
        ``unitless`` (upstream's ``1/2 sum v^2`` split by direction), ``joules`` (whole-body
        summary from :class:`~.energy.MechanicalEnergy`, or ``None``), ``peak_power_W`` and
        ``efficiency_pct`` (path efficiency x 100).
    damping : DampingEstimate
    frequency : dict
        ``dominant`` (Hz), ``bands`` (power fraction per band) and ``spectral_entropy``.
    harmonic : dict
        See :func:`~.spectrum.harmonics`.
    waves : dict
        ``phases`` (one entry per phase with its repetition, start, duration and mean/peak
        velocity), ``velocity`` (mean speed per phase name) and ``tempo`` (median tempo).
    upstream : dict
        The upstream formulas' values (:func:`~.quality.upstream_scores`).
    tempo : list of Tempo
    """

    channel: str
    fps: float
    n_frames: int
    reps: list[tuple[int, int, int]]
    eccentric_first: bool
    quality: QualityScores
    energy: dict[str, Any]
    damping: DampingEstimate
    frequency: dict[str, Any]
    harmonic: dict[str, Any]
    waves: dict[str, Any]
    upstream: dict[str, Any]
    tempo: list[Tempo] = field(default_factory=list)
    mechanical_energy: MechanicalEnergy | None = field(default=None, repr=False)

    @property
    def n_reps(self) -> int:
        return len(self.reps)

    @property
    def grade(self) -> str:
        return self.quality.grade

    def to_dict(self) -> dict[str, Any]:
        """The upstream ``wave_features`` layout, JSON-ready."""
        return jsonable(
            {
                "channel": self.channel,
                "fps": self.fps,
                "n_frames": self.n_frames,
                "n_reps": self.n_reps,
                "quality": self.quality.to_dict(),
                "energy": self.energy,
                "damping": self.damping.to_dict(),
                "frequency": self.frequency,
                "harmonic": self.harmonic,
                "waves": self.waves,
                "upstream": self.upstream,
            }
        )


@dataclass
class _Run:
    """Everything one analysis pass produces (shared by :func:`wave_features` and ``analyze_motion``)."""

    features: WaveFeatures
    channels: dict[str, np.ndarray]
    segmenter: RepSegmenter
    phases: PhaseSegmenter


def _as_channels(x: Any, fps: float | None, fk=None) -> tuple[dict[str, np.ndarray], float, Any, str | None]:
    """``(channels, fps, (motion, fk) or None, exercise from a clip)`` from any accepted input
    (``fk``: the motion's :func:`motion_fk`, if the caller has it)."""
    if hasattr(x, "q") and hasattr(x, "body") and hasattr(x, "fps"):
        if fk is None and not long_motion(x):  # one FK for the channels and the energy
            fk = motion_fk(x)
        return compute_channels(x, fk), float(x.fps), (x, fk), None
    exercise = None
    if isinstance(x, Mapping):
        if all(n in x for n in CHANNEL_NAMES):
            arr, clip_fps = channels_from_clip(x)
            exercise = x.get("exercise")
            fps = fps if fps is not None else clip_fps
            x = arr
        else:
            x = {str(k): np.asarray(v, dtype=np.float64) for k, v in x.items()}
            if fps is None:
                raise ValueError("fps is required for a channel dict")
            return x, float(fps), None, None
    arr = np.asarray(x, dtype=np.float64)
    if fps is None:
        raise ValueError("fps is required unless x is a Motion or a clip with 'fps'")
    if arr.ndim == 1:
        return {"signal": arr}, float(fps), None, exercise
    if arr.ndim != 2 or arr.shape[1] != len(CHANNEL_NAMES):
        raise ValueError(f"expected (T,), (T, {len(CHANNEL_NAMES)}) channels; got shape {arr.shape}")
    return {n: arr[:, i] for i, n in enumerate(CHANNEL_NAMES)}, float(fps), None, exercise


def _phase_table(ph: PhaseSegmenter, fps: float) -> tuple[list[dict[str, Any]], dict[str, float]]:
    v = ph.velocity_
    rows, speed = [], {}
    for sp in ph.spans_:
        seg = v[sp.start : sp.end]
        rows.append(
            {
                "type": sp.name,
                "rep": sp.rep,
                "start_s": sp.start / fps,
                "duration_s": sp.duration(fps),
                "mean_velocity": float(seg.mean()),
                "peak_velocity": float(seg[np.argmax(np.abs(seg))]),
            }
        )
        speed.setdefault(sp.name, []).append(np.abs(seg))
    return rows, {k: float(np.concatenate(s).mean()) for k, s in speed.items()}


def run_analysis(
    x: Any,
    fps: float | None = None,
    body: Body | None = None,
    exercise: str | None = None,
    primary: str | None = None,
    cutoff_hz: float | None = 6.0,
    fk: Any = None,
) -> _Run:
    """One analysis pass (see :func:`wave_features`); also returns the algorithm objects
    (``fk``: a Motion's :func:`~.channels.motion_fk`, if the caller has it)."""
    channels, fps, motion, clip_exercise = _as_channels(x, fps, fk)
    exercise = exercise if exercise is not None else clip_exercise
    spec = exercise_spec(exercise)
    if primary is None and spec is not None and spec.primary in channels:
        primary = spec.primary
    names = list(channels)
    table = np.stack([channels[n] for n in names], axis=1)
    seg = RepSegmenter(primary=primary).segment(table, fps, names=names)
    name = str(seg.primary_)
    if spec is not None and spec.eccentric_first is not None:
        ecc_first = spec.eccentric_first
    else:
        heights = {n: channels[n] for n in ("trajectory", "legs_trajectory") if n in channels}
        ecc_first = infer_eccentric_first(heights, name, seg.polarity_, seg.reps_)
    raw = channels[name]
    ph = PhaseSegmenter(eccentric_first=ecc_first, cutoff_hz=cutoff_hz).segment(raw, fps, seg.reps_, seg.polarity_)
    x_f = lowpass(raw, fps, cutoff_hz)

    mech = None
    if motion is not None:
        mech = segment_energy(motion[0], fk=motion[1])
    elif body is not None and "legs_trajectory" in channels:
        mech = hip_proxy_energy(channels["legs_trajectory"], fps, float(body.mass_kg))
    quality = quality_scores(x_f, fps, seg.reps_, ecc_first, tempos=ph.tempo_)
    joules = mech.summary() if mech is not None else None
    energy = {
        "unitless": proxy_energy(ph.velocity_),
        "joules": joules,
        "peak_power_W": joules["peak_power_W"] if joules else None,
        "efficiency_pct": 100.0 * quality.efficiency,
    }
    f0 = dominant_frequency(raw, fps)
    frequency = {"dominant": f0, "bands": band_powers(raw, fps), "spectral_entropy": spectral_entropy(raw, fps)}
    rows, speed = _phase_table(ph, fps)
    median_tempo = Tempo.median(ph.tempo_)
    waves = {
        "channel": name,
        "unit": CHANNEL_UNITS.get(name, ""),
        "phases": rows,
        "velocity": speed,
        "tempo": median_tempo.to_dict() if median_tempo else None,
    }
    features = WaveFeatures(
        channel=name,
        fps=fps,
        n_frames=int(x_f.size),
        reps=list(seg.reps_),
        eccentric_first=ecc_first,
        quality=quality,
        energy=energy,
        damping=estimate_damping(x_f, fps),
        frequency=frequency,
        harmonic=harmonics(raw, fps, f0),
        waves=waves,
        upstream=upstream_scores(raw, fps),
        tempo=list(ph.tempo_),
        mechanical_energy=mech,
    )
    return _Run(features, channels, seg, ph)


def wave_features(
    x: Any,
    fps: float | None = None,
    body: Body | None = None,
    exercise: str | None = None,
    primary: str | None = None,
    cutoff_hz: float | None = 6.0,
) -> WaveFeatures:
    """Wave features of a Motion, a ``(T, 7)`` channel array, a ``(T,)`` signal or a clip dict.

    Parameters
    ----------
    x
        A :class:`~musclepose.motion.core.Motion`; or channels ``(T, 7)`` in
        :data:`~.channels.CHANNEL_NAMES` order; or one signal ``(T,)``; or an upstream clip
        dict (the seven channel lists, ``fps``, optionally ``exercise``).
    fps
        Frame rate (Hz); required unless ``x`` is a Motion or a clip with ``fps``.
    body
        A :class:`~musclepose.body.Body` for energy in joules when ``x`` is not a Motion
        (hip-height proxy, see :mod:`.energy`).
    exercise
        Exercise name (see :mod:`.exercises`); picks the primary channel and the eccentric
        direction. Default: the clip's ``exercise`` or automatic.
    primary
        Force the primary channel by name.
    cutoff_hz
        Low-pass cut-off (Hz) for phases, quality and damping (see the module docstring).

    Returns
    -------
    WaveFeatures
    """
    return run_analysis(x, fps, body, exercise, primary, cutoff_hz).features
