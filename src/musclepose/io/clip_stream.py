"""Stream a clip dataset into PyTorch: an ``IterableDataset`` for DataLoader workers and DDP ranks on many nodes.

:class:`ClipStream` reads one HDF5 file (:func:`~musclepose.io.hdf5.write_motions`) or a
sharded dataset (a folder with a manifest, :mod:`musclepose.io.shards`, as
:func:`musclepose.sim.dataset.build_dataset` writes it) lazily, in the process that
iterates. Items are numbered across the shards in clip order. Every (DDP rank, DataLoader
worker) pair gets a disjoint share of the items of the chosen split: the items are shuffled
with ``seed + epoch`` (the same permutation on every rank and node), dealt to ranks
round-robin, then to that rank's workers, so shares differ by at most one item. The rank and
world size come from ``torch.distributed`` when it is initialised, else from ``RANK`` /
``WORLD_SIZE`` (what torchrun sets); a sharded dataset's split labels come from its manifest,
so no shard is opened before iteration. Each item is a dict of tensors (``q`` and every
stored array, float32) plus the JSON labels under ``"labels"``; ``labels["language"]`` is the
coach text, a training *target*, never to be fed to a model as input.
"""

from __future__ import annotations

import bisect
import json
import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .errors import FormatError
from .shards import is_sharded_dataset, read_manifest

__all__ = ["ClipStream", "shard_indices"]

_OPEN_FILES = 8  # open shard handles per process (least recently used closed first)


def _rank_world() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def shard_indices(
    items: Sequence[int], rank: int, world: int, worker: int, workers: int, seed: int | None, epoch: int = 0
) -> list[int]:
    """This (rank, worker)'s share of ``items``: shuffled by ``seed + epoch`` (None: in order), then dealt out."""
    items = list(items)
    if seed is not None:
        items = [items[i] for i in np.random.default_rng(seed + epoch).permutation(len(items))]
    return items[rank::world][worker::workers]


class _Source:
    """One HDF5 file of the dataset, opened on first use with its offset tables."""

    def __init__(self, path: Path) -> None:
        import h5py

        try:
            self.f = h5py.File(path, "r")
        except OSError as e:
            raise FormatError(path, f"cannot open ({e})") from None
        self.offsets = self.f["offsets"][:]
        self.extra = self.f["extra"] if "extra" in self.f else {}
        self.extra_offsets = {k: self.extra[k]["offsets"][:] for k in self.extra}

    def item(self, i: int, arrays: tuple[str, ...] | None) -> dict[str, Any]:
        f = self.f
        out: dict[str, Any] = {
            "q": torch.from_numpy(np.asarray(f["q"][self.offsets[i] : self.offsets[i + 1]], dtype=np.float32)),
            "fps": float(f["fps"][i]),
            "labels": json.loads(f["extra_attrs"][i]),
        }
        for k, o in self.extra_offsets.items():
            if arrays is None or k in arrays:
                a = np.asarray(self.extra[k]["data"][o[i] : o[i + 1]])
                out[k] = torch.from_numpy(a.astype(np.float32) if a.dtype.kind == "f" else a)
        return out


class ClipStream(IterableDataset):
    """Items of one split of a clip dataset, sharded over DDP ranks and DataLoader workers.

    Parameters
    ----------
    path
        One HDF5 file, or a sharded dataset's folder (or its ``manifest.json``).
    split
        ``"train"``, ``"val"``, ``"test"`` or None (all items).
    arrays
        Which stored arrays to return (default all), besides ``q``.
    shuffle_seed
        Shuffle with this seed (None: dataset order). Call :meth:`set_epoch` each epoch.
    """

    def __init__(
        self,
        path: str | Path,
        split: str | None = "train",
        arrays: Sequence[str] | None = None,
        shuffle_seed: int | None = 0,
    ) -> None:
        self.path = Path(path)
        self.split = split
        self.arrays = None if arrays is None else tuple(arrays)
        self.shuffle_seed = shuffle_seed
        self.epoch = 0
        self._items: list[int] | None = None
        self._files: list[Path] | None = None
        self._starts: list[int] = []

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _index(self) -> None:
        """The files, the first item of each, and the items of the split (reads labels only)."""
        if self._files is not None:
            return
        if self.path.is_dir() or is_sharded_dataset(self.path):  # a folder without a manifest: read_manifest says so
            manifest = read_manifest(self.path)
            folder = self.path if self.path.is_dir() else self.path.parent
            files = [folder / s.file for s in manifest.shards]
            starts = [s.first for s in manifest.shards]
            splits = [name for s in manifest.shards for name in s.splits]
        else:
            import h5py

            with h5py.File(self.path, "r") as f:
                attrs = f["extra_attrs"][:] if "extra_attrs" in f else []
                splits = [json.loads(a).get("split") for a in attrs]
            files, starts = [self.path], [0]
        self._items = [i for i, s in enumerate(splits) if self.split is None or s == self.split]
        self._files, self._starts = files, starts

    def items(self) -> list[int]:
        """Indices of the items in the split (numbered across the dataset's files)."""
        self._index()
        assert self._items is not None
        return self._items

    def __len__(self) -> int:
        rank, world = _rank_world()
        return len(shard_indices(self.items(), rank, world, 0, 1, None))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        rank, world = _rank_world()
        mine = shard_indices(self.items(), rank, world, worker, workers, self.shuffle_seed, self.epoch)
        assert self._files is not None
        opened: OrderedDict[int, _Source] = OrderedDict()
        try:
            for i in mine:
                j = bisect.bisect_right(self._starts, i) - 1
                if j in opened:
                    opened.move_to_end(j)
                else:
                    if len(opened) >= _OPEN_FILES:
                        opened.popitem(last=False)[1].f.close()
                    opened[j] = _Source(self._files[j])
                item = opened[j].item(i - self._starts[j], self.arrays)
                yield {"index": i, **item}
        finally:
            for src in opened.values():
                src.f.close()
