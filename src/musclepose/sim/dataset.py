"""The dataset builder: clips made in shards on local processes or Ray, resumable, into a folder or one HDF5 file.

A run of ``n`` clips (:class:`DatasetConfig`) is cut into shards of ``shard_size``
consecutive clips; shard ``k`` holds clips ``[k S, (k + 1) S)`` and clip ``i`` depends only
on the run's seed and ``i`` (:func:`~.clip.clip_params_for`), so the output is the same,
byte for byte, whatever the number of workers or the backend. Each shard is made by one
task (:func:`make_shard`: synthesise its clips, write ``shard-KKKKKK.h5`` atomically) on
local worker processes (:mod:`.workers`) or as Ray tasks (:mod:`.ray_backend`, ``ray=``).

``out`` a folder: a sharded dataset (:mod:`musclepose.io.shards`: the shards and a manifest
with counts and hashes), read by :class:`musclepose.io.clip_stream.ClipStream`. ``out`` an
``.h5`` file: the shards go to a hidden staging folder ``.NAME.h5.parts`` beside it and are
merged into the one file at the end. Either way the run holds a lock on its folder,
resumes an interrupted run (finished shards are kept), retries a shard whose worker died,
and leaves nothing partial under a final name (:mod:`.shards`).

The clip API (:func:`synthesize_clip`, :func:`clip_kinetics`, ...) lives in :mod:`.clip`
and is re-exported here.
"""

from __future__ import annotations

import errno
import functools
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..io.clip import CLIP_CHANNELS, Clip, write_clip
from ..io.hdf5 import concat_motion_files, write_motions
from ..io.shards import ShardRecord, file_sha256, shard_name
from ..motion import Motion
from .clip import (
    ARRAY_KEYS,
    SPLITS,
    STAGES,
    ClipKinetics,
    SyntheticClip,
    clip_kinetics,
    clip_params_for,
    make_subjects,
    synthesize_clip,
)
from .exercises import GENERATORS
from .ray_backend import run_ray_tasks
from .shards import ShardedRun, remove_run_folder
from .workers import run_tasks

__all__ = [
    "ARRAY_KEYS",
    "MODALITIES",
    "SPLITS",
    "STAGES",
    "ClipKinetics",
    "DatasetConfig",
    "SyntheticClip",
    "UNCOMPRESSED",
    "build_dataset",
    "clip_kinetics",
    "clip_params_for",
    "default_shard_size",
    "make_config",
    "make_shard",
    "make_subjects",
    "synthesize_clip",
]

#: What a clip may hold besides the motion, kinetics and labels (always made).
MODALITIES = ("imu", "keypoints")
MAX_DURATION_S = 120.0
# Noisy float arrays lzf shrinks by 6 % only: stored as they are, a shard takes 3.8 instead of 6.0 ms per clip.
UNCOMPRESSED = ("tau", "imu_acc", "imu_gyro", "keypoints")


def default_shard_size(n: int) -> int:
    """Clips per shard: about n / 12 (work splits evenly over 1, 2, 3, 4 or 6 workers), 10 to 256.

    It depends on ``n`` only, never on the workers, so the shards are the same on any machine.
    """
    return int(min(256, max(10, math.ceil(n / 12))))


@dataclass(frozen=True)
class DatasetConfig:
    """Everything that decides a dataset's content (the manifest's ``config``)."""

    n: int
    seed: int = 0
    exercises: tuple[str, ...] | None = None
    faults: tuple[str, ...] | None = None
    fault_rate: float = 0.5
    duration_s: float | None = 10.0
    n_subjects: int = 3
    modalities: tuple[str, ...] = ("all",)
    keypoints_fps: float | None = None
    shard_size: int = 10
    fatigue_rate: float = 0.0  # share of clips whose concentric phase slows over the set (clip_params_for)

    @property
    def n_shards(self) -> int:
        return -(-self.n // self.shard_size)

    def shard_range(self, k: int) -> range:
        return range(k * self.shard_size, min(self.n, (k + 1) * self.shard_size))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not d["fatigue_rate"]:  # absent from the manifests of runs made before it existed: they still resume
            del d["fatigue_rate"]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DatasetConfig:
        tup = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**tup)


def make_config(
    n: int,
    seed: int,
    exercises,
    faults,
    fault_rate: float,
    duration_s,
    n_subjects,
    modalities,
    keypoints_fps,
    shard_size,
    fatigue_rate: float = 0.0,
) -> DatasetConfig:
    """A validated :class:`DatasetConfig` (``ValueError`` naming the option otherwise)."""
    if n < 1:
        raise ValueError(f"n must be at least 1; got {n}")
    for e in exercises or []:
        if e not in GENERATORS:
            raise ValueError(f"unknown exercise {e!r}; known: {sorted(GENERATORS)}")
    known_faults = {f for spec in GENERATORS.values() for f in spec.faults}
    for f in faults or []:
        if f not in known_faults:
            raise ValueError(f"unknown fault {f!r}; known: {sorted(known_faults)}")
    if faults and exercises and not any(f in GENERATORS[e].faults for f in faults for e in exercises):
        raise ValueError(f"none of the faults {list(faults)} applies to {list(exercises)}")
    if not 0.0 <= fault_rate <= 1.0:
        raise ValueError(f"fault rate must be within [0, 1]; got {fault_rate:g}")
    if not 0.0 <= fatigue_rate <= 1.0:
        raise ValueError(f"fatigue rate must be within [0, 1]; got {fatigue_rate:g}")
    if duration_s is not None and not 0.0 < duration_s <= MAX_DURATION_S:
        raise ValueError(f"duration must be within (0, {MAX_DURATION_S:g}] s; got {duration_s:g}")
    mods = tuple(modalities)
    bad = [m for m in mods if m not in (*MODALITIES, "all")]
    if bad:
        raise ValueError(f"unknown modalities {bad}; choose from {['all', *MODALITIES]} (none: motion and labels only)")
    if keypoints_fps is not None and not 0.0 < keypoints_fps <= 1000.0:
        raise ValueError(f"keypoint rate must be within (0, 1000] Hz; got {keypoints_fps:g}")
    shard_size = default_shard_size(n) if shard_size is None else int(shard_size)
    if shard_size < 1:
        raise ValueError(f"shard size must be at least 1; got {shard_size}")
    n_subjects = int(n_subjects or max(3, n // 8))
    if n_subjects < 1:
        raise ValueError(f"n_subjects must be at least 1; got {n_subjects}")
    return DatasetConfig(
        n=int(n), seed=int(seed), exercises=tuple(exercises) if exercises else None,
        faults=tuple(faults) if faults else None, fault_rate=float(fault_rate),
        duration_s=None if duration_s is None else float(duration_s), n_subjects=n_subjects,
        modalities=mods, keypoints_fps=None if keypoints_fps is None else float(keypoints_fps), shard_size=shard_size,
        fatigue_rate=float(fatigue_rate),
    )  # fmt: skip


@functools.lru_cache(maxsize=4)
def _subjects_of(seed: int, n_subjects: int) -> list[dict[str, Any]]:
    return make_subjects(seed, n_subjects)


def make_shard(
    folder: str, config: dict[str, Any], clips_dir: str | None, k: int, report: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Make shard ``k`` of the run ``config`` in ``folder`` (one task; runs in a worker).

    Synthesises the shard's clips in order, streams them into ``folder/shard-KKKKKK.h5``
    (renamed into place when complete), optionally one clip JSON per clip in ``clips_dir``,
    calls ``report(j)`` after the j-th clip and returns the shard's record
    (:class:`~musclepose.io.shards.ShardRecord` fields).
    """
    torch.set_num_threads(1)  # one process per core; intra-op threads would only compete
    cfg = DatasetConfig.from_dict(config)
    subjects = _subjects_of(cfg.seed, cfg.n_subjects)
    indices = cfg.shard_range(k)
    stats: dict[str, Any] = {"frames": 0, "splits": [], "exercises": {}, "faults": {}}
    pending: list[dict[str, Any]] = []  # write_motions takes each clip's extras right after its motion

    def motions():
        for j, i in enumerate(indices):
            cp, subject = clip_params_for(cfg.seed, i, subjects, cfg.exercises, cfg.faults, cfg.fault_rate,
                                          cfg.duration_s, cfg.fatigue_rate)  # fmt: skip
            clip = synthesize_clip(cp, subject, cfg.modalities, keypoints_fps=cfg.keypoints_fps)
            a = clip.attrs
            stats["frames"] += clip.motion.n_frames
            stats["splits"].append(a["split"])
            stats["exercises"][a["exercise"]] = stats["exercises"].get(a["exercise"], 0) + 1
            for f in a["faults"]:
                stats["faults"][f] = stats["faults"].get(f, 0) + 1
            if clips_dir is not None:
                _write_clip_json(Path(clips_dir) / f"clip_{i:06d}.json", clip)
            meta = {key: v for key, v in clip.motion.metadata.items() if key != "contact"}  # stored as "planted"
            pending.append({**clip.arrays, **a})
            yield Motion(clip.motion.q, clip.motion.fps, clip.motion.body, meta)
            if report is not None:
                report(j + 1)

    def extras():
        while pending:
            yield pending.pop(0)

    path = Path(folder) / shard_name(k)
    expected = _shard_bytes(cfg, len(indices))
    _check_file_size_limit(path, expected)
    write_motions(path, motions(), extras(), dtype="float32", uncompressed=UNCOMPRESSED, expected_bytes=expected)
    return {
        "index": k, "file": path.name, "first": indices.start, "count": len(indices), "frames": stats["frames"],
        "bytes": path.stat().st_size, "sha256": file_sha256(path), "splits": stats["splits"],
        "exercises": stats["exercises"], "faults": stats["faults"],
    }  # fmt: skip


def _shard_bytes(cfg: DatasetConfig, count: int) -> int:
    """A generous bound on a shard's file size: every array uncompressed (about 1.2 kB per
    frame with every modality, measured), clips up to 1.5 times the target length, 100 Hz."""
    frames = math.ceil(1.5 * (cfg.duration_s or 10.0) * 100.0)
    return count * frames * 1400 + (1 << 20)


def _check_file_size_limit(
    path: Path, expected: int, what: str = "a shard's size",
    hint: str = "raise the limit or choose a smaller --shard-size",
) -> None:  # fmt: skip
    """Refuse up front a shard that would break the process's file-size limit (``ulimit -f``).

    HDF5 does not survive a write that fails half-way reliably (h5py 3.16 / HDF5 1.14 crash
    the process afterwards, measured under RLIMIT_FSIZE), so the limit is checked before the
    file is touched; the free space is checked by the writer (``expected_bytes``).
    """
    try:
        import resource
    except ImportError:  # not POSIX: no such limit
        return
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if soft != resource.RLIM_INFINITY and soft < expected:
        raise OSError(
            errno.EFBIG,
            f"the file-size limit (ulimit -f, {soft:,} bytes) is below {what} (up to {expected:,} bytes); {hint}",
            str(path),
        )


def build_dataset(
    out: str | Path,
    n: int,
    seed: int = 0,
    exercises: Sequence[str] | None = None,
    faults: Sequence[str] | None = None,
    fault_rate: float = 0.5,
    duration_s: float | None = 10.0,
    n_subjects: int | None = None,
    workers: int | None = None,
    clips_dir: str | Path | None = None,
    modalities: Sequence[str] = ("all",),
    progress: Callable[[int], None] | None = None,
    *,
    ray: str | None = None,
    shard_size: int | None = None,
    keypoints_fps: float | None = None,
    overwrite: bool = False,
    max_retries: int = 2,
    fatigue_rate: float = 0.0,
) -> dict[str, Any]:
    """Synthesise ``n`` clips into ``out`` (a folder of shards, or one ``.h5`` file); see the module docstring.

    ``workers``: processes, or with ``ray`` (``"auto"`` or a cluster address) Ray tasks at
    once (default: all cores / all the cluster's CPUs). ``progress(k)`` is called with the
    number of clips done (those of a resumed run included). ``overwrite``: replace a folder
    holding another configuration's dataset. Raises ``ValueError`` for a bad option,
    :class:`~musclepose.atomic.OutputBusyError` when another run writes ``out``,
    :class:`~.workers.WorkerLost` / :class:`~.workers.TaskFailed` when a shard cannot be
    made (the finished shards are kept: run again to resume). Returns a summary (clips per
    split, exercise and fault, frames, seconds, shards made and resumed, output bytes).
    """
    cfg = make_config(n, seed, exercises, faults, fault_rate, duration_s, n_subjects, modalities, keypoints_fps,
                  shard_size, fatigue_rate)  # fmt: skip
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1; got {workers}")
    out = Path(out)
    single = out.suffix.lower() in (".h5", ".hdf5")
    if single and out.is_dir():
        raise IsADirectoryError(f"{out}: is a folder; give a file name or a folder without an .h5 suffix")
    folder = out.with_name(f".{out.name}.parts") if single else out
    clips_path = Path(clips_dir) if clips_dir is not None else None
    if clips_path is not None:
        clips_path.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    backend: dict[str, Any] = {}
    with ShardedRun(folder, cfg.to_dict(), cfg.n_shards, overwrite=overwrite or single, lock=out) as run:
        done_clips = sum(r.count for r in run.done.values())
        resumed = dict(run.done)
        partial: dict[int, int] = {}
        if progress is not None and done_clips:
            progress(done_clips)

        def on_result(k: int, rec: dict[str, Any]) -> None:
            nonlocal done_clips
            run.record(ShardRecord.from_dict(rec, f"shard {k}"))
            done_clips += rec["count"]
            partial.pop(k, None)
            if progress is not None:
                progress(done_clips)

        def on_progress(k: int, j: int) -> None:
            partial[k] = j
            if progress is not None:
                progress(done_clips + sum(partial.values()))

        fn = functools.partial(make_shard, str(folder), cfg.to_dict(), None if clips_path is None else str(clips_path))
        pending = run.pending()
        if ray is not None:
            backend = {"backend": "ray", **run_ray_tasks(fn, pending, workers, on_result, ray, max_retries)}
        elif (workers or os.cpu_count() or 1) == 1 or len(pending) <= 1:
            for k in pending:  # in this process: nothing to fork for one worker
                on_result(k, fn(k, lambda j, k=k: on_progress(k, j)))
            backend = {"backend": "in-process", "workers": 1}
        else:
            w = workers or os.cpu_count() or 1
            backend = {"backend": "processes", "workers": w, **run_tasks(fn, pending, w, on_result, on_progress,
                                                                          max_retries)}  # fmt: skip
        manifest = run.finish()
        if single:
            _check_file_size_limit(
                out, sum(s.bytes for s in manifest.shards) + (1 << 20), "the merged file's size",
                f"its {len(manifest.shards)} shards are kept in {folder.name}: rerun with a higher limit to merge "
                "them, or write a sharded folder (--out without .h5)",
            )  # fmt: skip
            concat_motion_files([folder / s.file for s in manifest.shards], out)
            remove_run_folder(folder)
    seconds = time.perf_counter() - t0
    made = [r for k, r in run.done.items() if k not in resumed]
    frames_made = sum(r.frames for r in made)
    summary: dict[str, Any] = {
        "n": cfg.n, "splits": manifest.splits(), "exercises": _total(manifest, "exercises"),
        "faults": _total(manifest, "faults"), "frames": sum(s.frames for s in manifest.shards),
        "seconds": seconds, "shards": cfg.n_shards, "shard_size": cfg.shard_size, "shards_resumed": len(resumed),
        "clips_made": sum(r.count for r in made), **backend,
        "bytes": out.stat().st_size if single else sum(s.bytes for s in manifest.shards),
    }  # fmt: skip
    summary["clips_per_s"] = summary["clips_made"] / seconds
    summary["ten_second_clips_per_s"] = frames_made / 1000.0 / seconds  # 10 s at 100 Hz
    return summary


def _total(manifest, key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in manifest.shards:
        for name, c in getattr(s, key).items():
            out[name] = out.get(name, 0) + c
    return dict(sorted(out.items()))


def _write_clip_json(path: Path, clip: SyntheticClip) -> None:
    a = clip.attrs
    ch = clip.arrays["channels"].astype(np.float64)
    c = Clip(
        channels={name: ch[:, k] for k, name in enumerate(CLIP_CHANNELS)},
        fps=float(clip.motion.fps),
        exercise=a["exercise"],
        expert=not a["faults"],
        error_rate=[float(v["severity"]) for v in a["faults"].values()],
        video_id=path.stem,
        wave_features=a["wave_features"],
        language=a["language"],
        extra={"faults": a["faults"], "grade": a["grade"], "subject": a["subject"], "split": a["split"]},
    )
    write_clip(path, c)
