"""Stream an HDF5 dataset of clips into PyTorch: an ``IterableDataset`` for DataLoader workers and DDP.

:class:`ClipStream` reads the file written by :func:`musclepose.sim.dataset.build_dataset`
(or any :func:`~musclepose.io.hdf5.write_motions` file) lazily, in the process that
iterates. Every (DDP rank, DataLoader worker) pair gets a disjoint share of the items of the
chosen split: the items are shuffled with ``seed + epoch`` (the same permutation on every
rank), dealt to ranks round-robin, then to that rank's workers. Each item is a dict of
tensors (``q`` and every stored array, float32) plus the JSON labels under ``"labels"``;
``labels["language"]`` is the coach text, a training *target*, never to be fed to a model
as input.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

__all__ = ["ClipStream", "shard_indices"]


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


class ClipStream(IterableDataset):
    """Items of one split of a clip dataset, sharded over DDP ranks and DataLoader workers.

    Parameters
    ----------
    path
        The HDF5 file.
    split
        ``"train"``, ``"val"``, ``"test"`` or None (all items).
    arrays
        Which stored arrays to return (default all), besides ``q``.
    shuffle_seed
        Shuffle with this seed (None: file order). Call :meth:`set_epoch` each epoch.
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

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def items(self) -> list[int]:
        """Indices of the items in the split (reads only the labels)."""
        if self._items is None:
            import h5py

            with h5py.File(self.path, "r") as f:
                attrs = f["extra_attrs"][:] if "extra_attrs" in f else []
                labels = [json.loads(a) for a in attrs]
            n = len(labels)
            self._items = [i for i in range(n) if self.split is None or labels[i].get("split") == self.split]
        return self._items

    def __len__(self) -> int:
        rank, world = _rank_world()
        return len(shard_indices(self.items(), rank, world, 0, 1, None))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        import h5py

        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        rank, world = _rank_world()
        mine = shard_indices(self.items(), rank, world, worker, workers, self.shuffle_seed, self.epoch)
        with h5py.File(self.path, "r") as f:
            offsets = f["offsets"][:]
            extra = f["extra"] if "extra" in f else {}
            names = [k for k in extra if self.arrays is None or k in self.arrays]
            extra_offsets = {k: extra[k]["offsets"][:] for k in names}
            for i in mine:
                item: dict[str, Any] = {
                    "index": i,
                    "q": torch.from_numpy(np.asarray(f["q"][offsets[i] : offsets[i + 1]], dtype=np.float32)),
                    "fps": float(f["fps"][i]),
                    "labels": json.loads(f["extra_attrs"][i]),
                }
                for k in names:
                    o = extra_offsets[k]
                    a = np.asarray(extra[k]["data"][o[i] : o[i + 1]])
                    item[k] = torch.from_numpy(a.astype(np.float32) if a.dtype.kind == "f" else a)
                yield item
