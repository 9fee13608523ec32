"""``musclepose convert``: any loadable recording to OpenSim coordinates, HDF5, clip JSON or TRC.

=========  =======================================================================================
output     what is written
=========  =======================================================================================
``.mot``   OpenSim coordinates (Rajagopal names, :func:`~musclepose.io.opensim.coords.
``.sto``   write_motion_opensim`), ``inDegrees=yes``; translations in m; the DoFs OpenSim
           lacks in ``musclepose_<dof>`` columns where they move
``.h5``    the Motion (``q``, body, metadata) as a one-item motions dataset
           (:func:`~musclepose.io.hdf5.write_motions`); ``.hdf5`` too
``.json``  a clip JSON: the seven channels and wave features (:func:`~musclepose.io.load.load_clip`)
``.trc``   the body's virtual Plug-in Gait markers from forward kinematics, in mm, Y-up
=========  =======================================================================================

A clip JSON input can only become a clip JSON (it has no body). Every file is written
atomically by the io writers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import typer

from ..atomic import check_output_file, output_lock
from ..pipelines.analysis import is_clip_json
from ._common import check_fps, check_mass, check_sex, echo, error_message, fail, print_json
from .analyze import MASS_HELP, check_inputs, spinner

OUTPUTS = (".mot", ".sto", ".h5", ".hdf5", ".json", ".trc")


def write_opensim(path: Path, motion: Any) -> dict[str, Any]:
    """OpenSim coordinates of ``motion`` (degrees) to a ``.mot``/``.sto`` table."""
    from ..io.opensim.coords import write_motion_opensim

    return write_motion_opensim(path, motion)


def write_h5(path: Path, motion: Any) -> dict[str, Any]:
    from ..io.hdf5 import write_motions

    write_motions(path, [motion], expected_bytes=motion.q.numel() * 8 + 2**16)  # refused up front on a full disk
    return {"columns": motion.body.n_dof, "items": 1}


def write_markers(path: Path, motion: Any) -> dict[str, Any]:
    """Virtual Plug-in Gait markers of ``motion`` (forward kinematics) to a ``.trc`` in mm."""
    import torch

    from ..body import PLUG_IN_GAIT, forward_kinematics
    from ..io.opensim import MarkerData, write_trc

    body = motion.body
    with torch.no_grad():
        fk = forward_kinematics(body, motion.q)
    pos = fk.landmarks[..., body.landmark_indices("plug_in_gait"), :].detach().cpu().numpy().astype(np.float64)
    markers = MarkerData(
        path=None,
        names=list(PLUG_IN_GAIT),
        positions=pos,
        fps=float(motion.fps),
        times=motion.times,
        units_in_file="mm",
    )
    write_trc(path, markers, units="mm")
    return {"columns": 3 * len(PLUG_IN_GAIT), "markers": len(PLUG_IN_GAIT), "units": "mm"}


def convert(
    src: Path = typer.Argument(..., help="Input: any file `musclepose analyze` reads, or a clip JSON."),
    dst: Path = typer.Argument(..., help="Output: .mot .sto .h5 .json (clip) .trc (virtual markers)."),
    model: Path | None = typer.Option(None, "--model", help="OpenSim .osim (default: the one beside the input)."),
    static: Path | None = typer.Option(None, "--static", help="Static trial .trc (default: static*.trc beside it)."),
    mass: float | None = typer.Option(None, "--mass", callback=check_mass, help=MASS_HELP),
    sex: str = typer.Option("male", "--sex", callback=check_sex, help="male or female (Dumas 2007 table)."),
    fps: float | None = typer.Option(None, "--fps", callback=check_fps, help="Output rate (downsampling only)."),
    json_out: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Convert a recording: OpenSim .mot/.sto, HDF5 .h5, clip .json or virtual-marker .trc.

    Example: musclepose convert squats1.trc squats1_ik.mot
    """
    from ..io.errors import FormatError

    out_suffix = dst.suffix.lower()
    check_inputs(src, model=model, static=static)
    if out_suffix not in OUTPUTS:
        fail(f"{dst}: cannot write {dst.suffix or 'a file without an extension'!r}; outputs: {', '.join(OUTPUTS)}")
    try:
        check_output_file(dst)
    except OSError as err:
        fail(error_message(err))
    if os.path.lexists(dst) and src.resolve() == dst.resolve():
        fail(f"{dst}: output would overwrite the input")
    kw = dict(model=model, static=static, mass_kg=mass, sex=sex, fps=fps)
    try:
        with output_lock(dst), spinner(f"Converting {src.name}") as say:
            if is_clip_json(src) and out_suffix != ".json":
                raise FormatError(src, f"a clip JSON holds seven channels, not a body pose: it converts to .json only, "
                                  f"not {dst.suffix}")  # fmt: skip
            if out_suffix == ".json":
                from ..io.clip import write_clip
                from ..pipelines.clips import load_clip

                clip = load_clip(src, progress=say, **kw) if not is_clip_json(src) else load_clip(src)
                say(f"writing {dst.name}")
                write_clip(dst, clip)
                info: dict[str, Any] = {"frames": clip.n_frames, "fps": clip.fps, "columns": 7, "kind": "clip"}
            else:
                from ..io.load import load_motion

                motion = load_motion(src, progress=say, **kw)
                say(f"writing {dst.name}")
                writer = {".trc": write_markers, ".h5": write_h5, ".hdf5": write_h5}.get(out_suffix, write_opensim)
                info = {"frames": motion.n_frames, "fps": motion.fps, "kind": "motion", **writer(dst, motion)}
    except (ValueError, KeyError, OSError, RecursionError) as err:
        fail(error_message(err, src))
    if json_out:
        print_json({"input": str(src), "output": str(dst), **info})
        return
    echo(f"wrote {dst} ({info['frames']} frames at {info['fps']:g} Hz, {info['columns']} columns)")
