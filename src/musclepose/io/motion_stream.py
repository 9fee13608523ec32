"""Stream training windows of motion from files and HDF5 shards: an ``IterableDataset`` for DataLoader workers and DDP.

Sources are CMU motion-prediction ``.txt`` files (:mod:`.cmu_prediction`, 120 Hz rows of 117
values) and motions HDF5 files (:func:`~.hdf5.write_motions`, one sequence per item, ``q`` at
the item's own rate). Every sequence is checked before use: a non-finite value, a rate that is
not the model's or an integer multiple of it, or a frame that jumps (a joint turning faster
than :data:`~.cmu_prediction.MAX_JOINT_SPEED` or the root moving faster than 12.5 m/s) is a
:class:`~.errors.FormatError` naming the file, item, frame and field. With ``on_jump="split"``
a jump cuts the sequence instead (the benchmark's own files have such frames). A higher rate
that is an integer multiple ``k`` of the model's is decimated into ``k`` sequences (every
``k``-th frame from each phase: the benchmark keeps the even frames, the odd ones are more
data). Sequences are dealt to (DDP rank, DataLoader worker) pairs like
:class:`~.clip_stream.ClipStream` (:func:`~.clip_stream.shard_indices`); each pair reads only
its own, turns them into states with ``transform`` (a picklable callable) and yields windows of
``length`` frames at random offsets, reshuffled each epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from ..body import Body
from ..body.kinematics import gather_euler
from ..body.model import JOINT_EULER_SIGNS
from ..body.rotations import euler_zxy_to_matrix
from . import cmu_prediction as cmu
from .clip_stream import _rank_world, shard_indices
from .errors import FormatError

__all__ = ["MotionWindows", "RawSequence", "SequenceRef", "check_q_frames", "list_sequences", "read_sequences"]


@dataclass(frozen=True)
class SequenceRef:
    """One sequence: a file and, for an HDF5 file, the item index (-1 for a one-sequence file)."""

    path: Path
    item: int = -1

    def __str__(self) -> str:
        return str(self.path) if self.item < 0 else f"{self.path} item {self.item}"


@dataclass
class RawSequence:
    """Frames of one sequence at the model's rate: ``kind`` is ``"cmu_rows"`` (117) or ``"q"`` (47)."""

    ref: SequenceRef
    frames: np.ndarray
    fps: float
    kind: str
    body: Body | None = None
    phase: int = 0
    start: int = 0  # first frame in the source (at its own rate)


def list_sequences(sources: Sequence[str | Path]) -> list[SequenceRef]:
    """The sequences of ``sources`` (``.txt`` benchmark files, ``.h5``/``.hdf5`` motions files,
    or folders laid out like the benchmark)."""
    refs: list[SequenceRef] = []
    for s in sources:
        p = Path(s)
        if p.is_dir():
            refs += [SequenceRef(f) for files in cmu.find_files(p).values() for f in files]
        elif p.suffix.lower() in (".h5", ".hdf5"):
            from .hdf5 import MotionDatasetReader

            with MotionDatasetReader(p) as r:
                refs += [SequenceRef(p, i) for i in range(len(r))]
        elif p.suffix.lower() == ".txt":
            if not p.is_file():
                raise FormatError(p, "no such file")
            refs.append(SequenceRef(p))
        else:
            raise FormatError(
                p, f"not a motion source (.txt benchmark file, .h5 motions file or a folder): {p.suffix!r}"
            )
    return refs


def check_q_frames(q: np.ndarray, fps: float) -> list[cmu.FrameIssue]:
    """Frames of ``q (T, 47)`` where a joint turns faster than :data:`~.cmu_prediction.MAX_JOINT_SPEED`
    or the pelvis moves faster than 12.5 m/s (the frame reported is the second of the pair)."""
    from ..body.skeleton import SEGMENTS

    if len(q) < 2:
        return []
    qt = torch.as_tensor(q, dtype=torch.float64)
    r = euler_zxy_to_matrix(gather_euler(qt) * torch.as_tensor(JOINT_EULER_SIGNS))
    d = r[1:] @ r[:-1].transpose(-1, -2)
    ang = torch.arccos(((d.diagonal(dim1=-2, dim2=-1).sum(-1) - 1.0) / 2.0).clamp(-1.0, 1.0)).numpy()
    issues = [
        cmu.FrameIssue(int(t) + 1, SEGMENTS[j], "joint rotation", float(ang[t, j]))
        for t, j in zip(*np.nonzero(ang > cmu.MAX_JOINT_SPEED / fps), strict=True)
    ]
    step = np.linalg.norm(np.diff(q[:, 0:3], axis=0), axis=1)
    issues += [
        cmu.FrameIssue(int(t) + 1, "root", "root translation", float(step[t]))
        for t in np.flatnonzero(step > cmu.MAX_ROOT_SPEED / fps)
    ]
    return sorted(issues, key=lambda i: (i.frame, i.field))


def _load(ref: SequenceRef) -> tuple[np.ndarray, float, str, Body | None]:
    if ref.item < 0:
        return cmu.read_cmu_prediction(ref.path), cmu.FILE_FPS, "cmu_rows", None
    from .hdf5 import MotionDatasetReader

    with MotionDatasetReader(ref.path) as r:
        q = r.q(ref.item)
        fps, body = float(r._h5()["fps"][ref.item]), r.body(ref.item)
    bad = np.argwhere(~np.isfinite(q))
    if len(bad):
        raise FormatError(ref.path, f"item {ref.item}: not finite", frame=int(bad[0, 0]), field=f"q[{bad[0, 1]}]")
    return q, fps, "q", body


def read_sequences(ref: SequenceRef, fps: float, on_jump: str = "error", min_len: int = 2) -> list[RawSequence]:
    """The sequence ``ref`` at rate ``fps``: checked, cut at jumps (``on_jump="split"``) and
    decimated into one sequence per phase when its rate is an integer multiple of ``fps``.

    Raises
    ------
    FormatError
        Non-finite values, a rate that is neither ``fps`` nor a multiple of it, or (with
        ``on_jump="error"``) a jump; naming the file, item, frame and field.
    """
    if on_jump not in ("error", "split"):
        raise ValueError(f"on_jump must be 'error' or 'split'; got {on_jump!r}")
    frames, rate, kind, body = _load(ref)
    k = rate / fps
    if not (abs(k - round(k)) < 1e-6 and round(k) >= 1):
        raise FormatError(
            ref.path, f"{'item ' + str(ref.item) + ': ' if ref.item >= 0 else ''}frame rate {rate:g} Hz, but the model "
            f"runs at {fps:g} Hz (or an integer multiple of it, decimated): resample it first",
            field="fps",
        )  # fmt: skip
    k = round(k)
    issues = cmu.check_frames(frames, rate) if kind == "cmu_rows" else check_q_frames(frames, rate)
    if issues and on_jump == "error":
        i = issues[0]
        raise FormatError(
            ref.path, f"{'item ' + str(ref.item) + ': ' if ref.item >= 0 else ''}{i.what} of {i.value:.3f} "
            f"{'m' if i.field == 'root' else 'rad'} in one frame at {rate:g} Hz, faster than a body moves: "
            "a jump (bad frame); fix the file or cut sequences there (on_jump='split', --on-jump split)",
            frame=i.frame, field=i.field,
        )  # fmt: skip
    out = []
    for a, b in cmu.continuous_segments(len(frames), issues, min_len=k * min_len):
        for phase in range(k):
            seg = frames[a + phase : b : k]
            if len(seg) >= min_len:
                out.append(RawSequence(ref, seg, fps, kind, body, phase, a + phase))
    return out


class MotionWindows(IterableDataset):
    """Windows ``(length, D)`` of states from motion sources, sharded over DDP ranks and workers.

    Parameters
    ----------
    sources
        Files or folders (see :func:`list_sequences`).
    length
        Frames per window (history + predicted frames).
    fps
        The model's frame rate.
    transform
        ``transform(raw: RawSequence) -> list[Tensor (T, D)]`` (several for augmentation); picklable.
    on_jump
        ``"error"`` (default) or ``"split"``, see :func:`read_sequences`.
    stride
        Frames between window starts within an epoch (default ``length // 4``); each epoch
        shifts the windows by a random phase and shuffles them (``shuffle_seed + epoch``).
    epochs
        Epochs to yield (None: forever).
    """

    def __init__(
        self,
        sources: Sequence[str | Path],
        length: int,
        fps: float,
        transform: Callable[[RawSequence], list[torch.Tensor]],
        on_jump: str = "error",
        stride: int | None = None,
        shuffle_seed: int = 0,
        epochs: int | None = None,
    ) -> None:
        self.refs = list_sequences(sources)
        if not self.refs:
            raise FormatError(None, f"no sequences in {', '.join(map(str, sources))}")
        self.length, self.fps, self.transform, self.on_jump = int(length), float(fps), transform, on_jump
        self.stride = int(stride or max(1, length // 4))
        self.shuffle_seed, self.epochs, self.epoch = shuffle_seed, epochs, 0
        self._cache: dict[int, list[torch.Tensor]] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def states(self, indices: Sequence[int]) -> list[torch.Tensor]:
        """The state sequences of the sources ``indices`` (cached in this process)."""
        out = []
        for i in indices:
            if i not in self._cache:
                seqs = read_sequences(self.refs[i], self.fps, self.on_jump, min_len=self.length)
                self._cache[i] = [s for raw in seqs for s in self.transform(raw) if len(s) >= self.length]
            out += self._cache[i]
        return out

    def __iter__(self) -> Iterator[torch.Tensor]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        rank, world = _rank_world()
        mine = shard_indices(range(len(self.refs)), rank, world, worker, workers, None)
        seqs = self.states(mine)
        if not seqs:
            return
        epoch = self.epoch
        while self.epochs is None or epoch < self.epoch + self.epochs:
            rng = np.random.default_rng(self.shuffle_seed + 1000 * rank + 100 * worker + epoch)
            starts: list[tuple[int, int]] = []
            for s, seq in enumerate(seqs):
                first = int(rng.integers(0, self.stride))
                starts += [(s, t) for t in range(first, len(seq) - self.length + 1, self.stride)]
            for j in rng.permutation(len(starts)):
                s, t = starts[j]
                yield seqs[s][t : t + self.length]
            epoch += 1

    def describe(self) -> dict[str, Any]:
        """Sources, sequence counts and frames (after checks), for a model card."""
        seqs = self.states(range(len(self.refs)))
        return {"sequences": len(self.refs), "state_sequences": len(seqs), "frames": int(sum(len(s) for s in seqs))}
