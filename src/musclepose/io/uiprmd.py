"""UI-PRMD Kinect episodes (Vakanski et al. 2018, *Data* 3:2): one segmented repetition per file.

A ``mMM_sSS_eEE_positions[_inc].txt[.gz]`` file holds, per 30 Hz frame, 22 joints x (x, y, z) in
centimetres (:data:`~.kinect.UIPRMD_JOINTS`): the first triple is the root (``Waist``, Kinect's
SpineBase) in camera space, Y up; every other triple is the joint's offset from its parent in the
parent's frame, i.e. the bone along the axis of a T-pose skeleton, whose *length* Kinect re-estimates
every frame. The joint orientations are in the sibling ``*_angles*`` file (:mod:`.kinect`); without
it only the pelvis path and the bone lengths are known, which is what :class:`UiprmdEpisode` keeps
(``joints`` is set only when the angles file is there). ``_inc``: the incorrect version of the
movement (a typical patient error). Movement codes: :data:`UIPRMD_MOVEMENTS`. Units out: metres.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import FormatError
from .kinect import UIPRMD_JOINTS, uiprmd_positions

__all__ = [
    "UIPRMD_FPS",
    "UIPRMD_MOVEMENTS",
    "UiprmdEpisode",
    "is_uiprmd_positions",
    "parse_uiprmd_name",
    "read_uiprmd",
    "uiprmd_episodes",
]

UIPRMD_FPS = 30.0
#: UI-PRMD movement code -> catalogue exercise name (the dataset's ten movements; m04 side lunge and
#: m05 sit to stand are not in the labelled set here).
UIPRMD_MOVEMENTS: dict[int, str] = {
    1: "deep_squat", 2: "hurdle_step", 3: "inline_lunge", 4: "side_lunge", 5: "sit_to_stand",
    6: "straight_leg_raise", 7: "shoulder_abduction", 8: "shoulder_extension", 9: "shoulder_rotation",
    10: "shoulder_scaption",
}  # fmt: skip
_NAME = re.compile(r"^m(\d{2})_s(\d{2})_e(\d{2})_(positions|angles)(_inc)?\.txt(\.gz)?$", re.IGNORECASE)
_N_VALUES = 3 * len(UIPRMD_JOINTS)


@dataclass
class UiprmdEpisode:
    """One UI-PRMD Kinect episode.

    Attributes
    ----------
    path : Path
        The positions file.
    movement, subject, episode : int or None
        From the file name (None when it does not follow the dataset's pattern).
    correct : bool or None
        False for an ``_inc`` file, True for the correct version, None when the name does not say.
    root_m : (T, 3)
        Pelvis (SpineBase) in camera space, m (Y up).
    bones_m : (T, 21)
        Length of each non-root joint's bone to its parent, m (:data:`~.kinect.UIPRMD_JOINTS` order).
    offsets_m : (T, 21, 3)
        The bone offsets as stored (parent frame), m.
    joints_m : (T, 22, 3) or None
        Global joint positions (m), when the ``*_angles`` file was beside the positions.
    """

    path: Path
    movement: int | None
    subject: int | None
    episode: int | None
    correct: bool | None
    root_m: np.ndarray
    bones_m: np.ndarray
    offsets_m: np.ndarray
    joints_m: np.ndarray | None = None
    fps: float = UIPRMD_FPS

    @property
    def n_frames(self) -> int:
        return int(len(self.root_m))

    @property
    def exercise(self) -> str | None:
        """The catalogue name of the movement the file name says (None if it says none)."""
        return UIPRMD_MOVEMENTS.get(self.movement) if self.movement is not None else None


def parse_uiprmd_name(path: str | Path) -> tuple[int, int, int, bool] | None:
    """``(movement, subject, episode, correct)`` from a UI-PRMD file name; None if it is not one."""
    m = _NAME.match(Path(path).name)
    if m is None:
        return None
    return int(m[1]), int(m[2]), int(m[3]), m[5] is None


def _rows(path: Path) -> np.ndarray:
    """The file's comma-separated rows (plain or gzip text) as a float array, errors naming the line."""
    try:
        raw = gzip.open(path, "rb").read() if path.name.lower().endswith(".gz") else path.read_bytes()
    except (OSError, EOFError) as err:  # gzip raises BadGzipFile (an OSError) or EOFError when truncated
        raise FormatError(path, f"cannot read: {err}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(path, f"not UTF-8 text (byte {e.start})") from None
    out = []
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        try:
            vals = [float(v) for v in line.replace(",", " ").split()]
        except ValueError:
            raise FormatError(path, "not a row of numbers", line=i + 1) from None
        if len(vals) != _N_VALUES:
            raise FormatError(path, f"{len(vals)} values, expected {_N_VALUES} (22 joints x 3)", line=i + 1)
        if not np.isfinite(vals).all():
            raise FormatError(path, "a value is NaN or infinite", line=i + 1, frame=len(out))
        out.append(vals)
    if len(out) < 2:
        raise FormatError(path, f"{len(out)} frame(s); a UI-PRMD episode has at least 2")
    return np.asarray(out, dtype=np.float64)


def is_uiprmd_positions(path: str | Path) -> bool:
    """Whether ``path`` is named like a UI-PRMD Kinect positions file (``.txt`` or ``.txt.gz``)."""
    m = _NAME.match(Path(path).name)
    return m is not None and m[4].lower() == "positions"


def _angles_path(path: Path) -> Path | None:
    name = path.name
    for cand in (name.replace("_positions", "_angles"), re.sub(r"\.gz$", "", name.replace("_positions", "_angles"))):
        p = path.with_name(cand)
        if cand != name and p.is_file():
            return p
    if not name.lower().endswith(".gz"):
        p = path.with_name(name.replace("_positions", "_angles") + ".gz")
        if p.is_file():
            return p
    return None


def read_uiprmd(path: str | Path) -> UiprmdEpisode:
    """Read a UI-PRMD Kinect positions file (module docstring); the angles file beside it is optional.

    Raises
    ------
    FormatError
        Unreadable or truncated (gzip) files, rows that are not 66 numbers, non-finite values,
        fewer than two frames, or an angles file whose shape differs, naming the file and line.
    """
    path = Path(path)
    if "_angles" in path.name.lower():
        raise FormatError(path, "this is a UI-PRMD joint-angle file; read the matching *_positions file")
    raw = _rows(path).reshape(-1, len(UIPRMD_JOINTS), 3) * 0.01  # cm -> m
    offsets = raw[:, 1:]
    joints = None
    apath = _angles_path(path)
    if apath is not None:
        ang = _rows(apath).reshape(-1, len(UIPRMD_JOINTS), 3)
        if ang.shape != raw.shape:
            raise FormatError(apath, f"{len(ang)} frames, but {path.name} has {len(raw)}")
        joints = uiprmd_positions(raw, ang)
    parsed = parse_uiprmd_name(path)
    movement, subject, episode, correct = parsed if parsed is not None else (None, None, None, None)
    return UiprmdEpisode(
        path=path, movement=movement, subject=subject, episode=episode, correct=correct, root_m=raw[:, 0].copy(),
        bones_m=np.linalg.norm(offsets, axis=-1), offsets_m=offsets.copy(), joints_m=joints,
    )  # fmt: skip


def uiprmd_episodes(root: str | Path) -> list[Path]:
    """Every UI-PRMD positions file under ``root`` (recursively), sorted by movement, subject, episode,
    correct before incorrect."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    files = [p for p in root.rglob("*") if p.is_file() and is_uiprmd_positions(p)]

    def key(p: Path) -> tuple:
        m, s, e, ok = parse_uiprmd_name(p)  # type: ignore[misc]
        return m, s, e, not ok

    return sorted(files, key=key)
