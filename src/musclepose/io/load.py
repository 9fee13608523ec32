"""One entry point from any supported recording to a :class:`~musclepose.motion.core.Motion`.

:func:`load_motion` dispatches on the file's extension and, for ``.json``, on its content:
``.trc``, ``.c3d``, ``.mot``/``.sto`` to :mod:`.load_markers`; ``.bvh``, keypoint ``.json`` and
Kinect ``.txt`` (:mod:`.kinect`) to :mod:`.load_skeletons`, a ``.txt`` of CMU motion-prediction
benchmark rows to :mod:`.load_cmu`, a DeepMimic motion ``.txt`` (JSON) to :mod:`.deepmimic`. A
``.csv`` is IMU data (pose from IMUs: :func:`musclepose.pipelines.imu_pose.imu_file_motion`) and a
clip JSON holds channels, not a motion (:func:`musclepose.pipelines.clips.load_clip` reads it):
both are errors. Everything unsupported
is a :class:`~musclepose.io.errors.FormatError` that names the file. Conventions: world Y-up,
X anterior, Z to the subject's right, metres, as in :mod:`musclepose.body.skeleton`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .errors import FormatError, check_input_path
from .load_common import Progress, one_beside, resolve_mass

if TYPE_CHECKING:
    from ..body import Body
    from ..motion.core import Motion

__all__ = ["MOTION_SUFFIXES", "load_motion"]

MOTION_SUFFIXES = (".trc", ".mot", ".sto", ".c3d", ".bvh", ".json", ".txt")


def load_motion(
    path: str | Path,
    *,
    model: str | Path | None = None,
    static: str | Path | None = None,
    body: Body | None = None,
    mass_kg: float | None = None,
    sex: str = "male",
    fps: float | None = None,
    unit_m: float | None = None,
    progress: Progress = None,
    height_m: float = 1.75,
) -> Motion:
    """Read any supported recording as a Motion on our body (inverse kinematics where needed).

    Parameters
    ----------
    path
        The recording (see the module docstring for the formats).
    model
        An OpenSim ``.osim`` model whose marker set (``.trc``) or coordinate axes
        (``.mot``/``.sto``) to use; default: the one ``*.osim`` in the same folder.
    static
        A static-pose ``.trc`` to scale the body and place the markers; default: a
        ``static*.trc`` in the same folder, else scaling from the trial.
    body
        The body to start from (default ``Body.standard(1.75, mass_kg, sex)``; a ``.trc``
        with an OpenSim model builds it from the model's joint centres).
    mass_kg, sex
        Subject mass and the sex of the inertial-parameter table. ``mass_kg`` None: the
        recording's own (its OpenSim model's total mass, a C3D's subject mass), else 70 kg;
        ``metadata["mass_source"]`` says which, and ``metadata["notes"]`` a conflict between a
        given mass and the recording's.
    fps
        Frame rate of the result. Inputs with a stated rate and a higher one are solved
        at ``fps`` (nearest source frames; inverse kinematics cost scales with frames);
        keypoint JSON without a rate is read as ``fps`` (default 30 Hz).
    unit_m
        Metres per file unit for ``.bvh`` (overrides the guess from the leg length).
    progress
        Called with a stage name before each long step (a CLI spinner).
    height_m
        Subject height for 2-D keypoints (the bone lengths of the body fitted through the camera).

    Returns
    -------
    Motion
        ``metadata["source"]`` is the file; the loader records what it chose (marker set,
        scale factors, static file, median marker RMS, units, up axis). Every motion is checked
        (:func:`musclepose.motion.quality.check_motion`): wrapped angles unwrapped, spikes
        repaired, impossible joint speeds flagged in ``motion.quality``.

    Raises
    ------
    FormatError
        Unsupported, empty or malformed files, or data that cannot be turned into a pose,
        with the reason and the file name.
    """
    path = check_input_path(path, what="recording")
    if path.stat().st_size == 0:
        raise FormatError(path, "empty file")
    suffix = path.suffix.lower()
    if suffix == ".c3d":  # its subject mass is read with the file
        # The loaders need the body model (torch); imported here so that ``import musclepose.io`` stays light.
        from . import load_markers

        return _checked(path, load_markers.load_c3d(path, body=body, mass_kg=mass_kg, sex=sex, fps=fps,
                                                    progress=progress))  # fmt: skip
    osim = None
    if suffix in (".trc", ".mot", ".sto"):
        osim = check_input_path(model, what="OpenSim model") if model is not None else one_beside(path, "*.osim")
    mass, mass_info = resolve_mass(mass_kg, _model_mass(osim), f"the model {osim.name if osim else ''}")
    motion = _dispatch(path, suffix, model, static, body, mass, sex, fps, unit_m, progress, height_m)
    notes = [*motion.metadata.get("notes", []), *mass_info.pop("notes", [])]
    motion.metadata.update(mass_info, **({"notes": notes} if notes else {}))
    return _checked(path, motion)


MAX_REPAIR_NOTES = 5


def _checked(path: Path, motion: Motion) -> Motion:
    """:func:`~musclepose.motion.quality.check_motion` (angles unwrapped, spikes repaired, impossible
    joint speeds flagged), each repair also a note naming the file (the CLI prints notes as warnings):
    a value was changed, the user is told which, where and by how much."""
    from ..motion.quality import check_motion  # as the loaders: torch only when a motion is loaded

    checked = check_motion(motion)
    repaired = [i for i in (checked.quality.issues if checked.quality is not None else ()) if i.repaired]
    if not repaired:
        return checked
    said = [f"{path.name}: {i.describe(checked.fps)}" for i in repaired[:MAX_REPAIR_NOTES]]
    if len(repaired) > MAX_REPAIR_NOTES:
        said.append(f"{path.name}: {len(repaired) - MAX_REPAIR_NOTES} more repairs (spikes or wrapped angles)")
    checked.metadata["notes"] = [*checked.metadata.get("notes", []), *said]
    return checked


def _model_mass(osim: Path | None) -> float | None:
    """Total mass of an OpenSim model (None without one, or if it cannot be read: the loader will say why)."""
    if osim is None:
        return None
    from .opensim.osim import read_osim_bodies

    try:
        return float(sum(b.mass for b in read_osim_bodies(osim).values()))
    except (ValueError, OSError):
        return None


def _dispatch(path, suffix, model, static, body, mass_kg, sex, fps, unit_m, progress, height_m) -> Motion:
    from . import load_markers, load_skeletons

    kw = dict(body=body, mass_kg=mass_kg, sex=sex, fps=fps, progress=progress)
    if suffix == ".trc":
        return load_markers.load_trc(path, model=model, static=static, **kw)
    if suffix in (".mot", ".sto"):
        return load_markers.load_opensim_table(path, model=model, **kw)
    if suffix == ".bvh":
        return load_skeletons.load_bvh(path, unit_m=unit_m, **kw)
    if suffix == ".json":
        return load_skeletons.load_keypoint_json(path, height_m=height_m, **kw)
    if suffix == ".txt":
        from .cmu_prediction import is_cmu_prediction
        from .deepmimic import is_deepmimic

        if is_deepmimic(path):  # a DeepMimic reference motion (JSON in a .txt)
            return load_skeletons.load_deepmimic(path, **kw)
        if is_cmu_prediction(path):  # CMU motion-prediction benchmark rows (117 comma-separated values)
            from .load_cmu import load_cmu_prediction

            return load_cmu_prediction(path, **kw)
        return load_skeletons.load_kinect(path, **kw)
    if path.name.lower().endswith(".txt.gz"):  # Kinect joints as UI-PRMD distributes them (gzip)
        return load_skeletons.load_kinect(path, **kw)
    if suffix == ".csv":
        raise FormatError(
            path, "a CSV is read as IMU data: its pose comes from the IMU pose model (the HDT; "
            "musclepose analyze FILE.csv --imu-layout six|phone-watch|auto, or musclepose.pipelines.imu_pose)",
        )  # fmt: skip
    raise FormatError(path, f"unsupported file type {path.suffix!r}; supported: {', '.join(MOTION_SUFFIXES)}")
