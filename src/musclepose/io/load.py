"""One entry point from any supported recording to a :class:`~musclepose.motion.core.Motion`.

:func:`load_motion` dispatches on the file's extension and, for ``.json``, on its content:
``.trc``, ``.c3d``, ``.mot``/``.sto`` to :mod:`.load_markers`; ``.bvh``, keypoint ``.json`` and
Kinect ``.txt`` (:mod:`.kinect`) to :mod:`.load_skeletons`. A ``.csv`` is IMU data (pose from
IMUs needs the HDT model, a later feature) and a clip JSON holds channels, not a motion
(:func:`musclepose.pipelines.clips.load_clip` reads it): both are errors. Everything unsupported
is a :class:`~musclepose.io.errors.FormatError` that names the file. Conventions: world Y-up,
X anterior, Z to the subject's right, metres, as in :mod:`musclepose.body.skeleton`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .errors import FormatError
from .load_common import Progress

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
    mass_kg: float = 70.0,
    sex: str = "male",
    fps: float | None = None,
    unit_m: float | None = None,
    progress: Progress = None,
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
        Subject mass and the sex of the inertial-parameter table.
    fps
        Frame rate of the result. Inputs with a stated rate and a higher one are solved
        at ``fps`` (nearest source frames; inverse kinematics cost scales with frames);
        keypoint JSON without a rate is read as ``fps`` (default 30 Hz).
    unit_m
        Metres per file unit for ``.bvh`` (overrides the guess from the leg length).
    progress
        Called with a stage name before each long step (a CLI spinner).

    Returns
    -------
    Motion
        ``metadata["source"]`` is the file; the loader records what it chose (marker set,
        scale factors, static file, median marker RMS, units, up axis).

    Raises
    ------
    FormatError
        Unsupported, empty or malformed files, or data that cannot be turned into a pose,
        with the reason and the file name.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(path, "no such file")
    if path.stat().st_size == 0:
        raise FormatError(path, "empty file")
    suffix = path.suffix.lower()
    # The loaders need the body model (torch); imported here so that ``import musclepose.io`` stays light.
    from . import load_markers, load_skeletons

    kw = dict(body=body, mass_kg=mass_kg, sex=sex, fps=fps, progress=progress)
    if suffix == ".trc":
        return load_markers.load_trc(path, model=model, static=static, **kw)
    if suffix in (".mot", ".sto"):
        return load_markers.load_opensim_table(path, model=model, body=body, fps=fps, progress=progress)
    if suffix == ".c3d":
        return load_markers.load_c3d(path, **kw)
    if suffix == ".bvh":
        return load_skeletons.load_bvh(path, unit_m=unit_m, **kw)
    if suffix == ".json":
        return load_skeletons.load_keypoint_json(path, **kw)
    if suffix == ".txt":
        return load_skeletons.load_kinect(path, **kw)
    if suffix == ".csv":
        raise FormatError(
            path, "a CSV is read as IMU data, and pose from IMUs needs the HDT model (a later feature); "
            "read the raw signals with musclepose.io.imu.read_imu_csv",
        )  # fmt: skip
    raise FormatError(path, f"unsupported file type {path.suffix!r}; supported: {', '.join(MOTION_SUFFIXES)}")
