"""Reusable CPU buffers for the RNEA kernel (:mod:`._rnea`): a pool of flat tensors and views into them.

On CPU a fresh multi-megabyte tensor is fresh pages from the OS, and first touching them (page
faults) costs as much as the kernel's arithmetic; the kernel therefore carves all its per-chunk
buffers out of flat tensors that it takes from, and gives back to, one process-wide pool.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import torch

# Bytes of CPU buffers kept for reuse across calls (see _Pool): enough for a float64
# forward+backward of 65536 frames; larger batches still work, only without the reuse.
_POOL_BYTES = 1 << 30


class _Pool:
    """Flat CPU buffers kept for reuse. On CPU a fresh multi-megabyte tensor is fresh pages from
    the OS, and first touching them (page faults) costs as much as the arithmetic; reusing the
    same buffers across calls avoids that. A buffer is handed back only when nothing uses it any
    more (end of a no-grad call; for gradients, when the autograd graph that saved it is freed).
    Sizes are rounded up to 1/8 of a power of two so that nearby batch sizes share buffers; at
    most ``_POOL_BYTES`` are kept, the oldest dropped first. GPU buffers are left to PyTorch's
    caching allocator."""

    def __init__(self):
        self.free: list[torch.Tensor] = []  # oldest first
        self.nbytes = 0
        self.lock = threading.Lock()

    @staticmethod
    def bucket(numel: int) -> int:
        step = max(1 << max(numel.bit_length() - 4, 0), 64)
        return -(-numel // step) * step

    def take(self, numel: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        size = self.bucket(numel)
        if device.type == "cpu":
            with self.lock:
                for i in range(len(self.free) - 1, -1, -1):
                    buf = self.free[i]
                    if buf.dtype == dtype and buf.numel() == size:
                        del self.free[i]
                        self.nbytes -= buf.nbytes
                        return buf
        return torch.empty(size, dtype=dtype, device=device)

    def give(self, buf: torch.Tensor) -> None:
        if buf.device.type != "cpu" or buf.nbytes > _POOL_BYTES:
            return
        with self.lock:
            while self.free and self.nbytes + buf.nbytes > _POOL_BYTES:
                self.nbytes -= self.free.pop(0).nbytes
            self.free.append(buf)
            self.nbytes += buf.nbytes


_POOL = _Pool()


class _Lease:
    """Buffers saved for backward; they go back to the pool when the graph frees this object."""

    def __init__(self, bufs: list[torch.Tensor]):
        self.bufs = bufs

    def __del__(self):
        pool = _POOL  # None while the interpreter shuts down
        if pool is not None:
            for b in self.bufs:
                pool.give(b)


def _carve(flat: torch.Tensor | None, shapes: dict[str, tuple[int, ...]]) -> tuple[int, SimpleNamespace]:
    """Views of ``flat`` with the given shapes (each starting at a multiple of 8 elements); with
    ``flat=None`` only the total size."""
    off, views = 0, {}
    for name, shape in shapes.items():
        size = int(np.prod(shape))
        if flat is not None:
            views[name] = flat[off : off + size].view(shape)
        off += -(-size // 8) * 8
    return off, SimpleNamespace(**views)


def _take(shapes: dict[str, tuple[int, ...]], like: torch.Tensor) -> tuple[torch.Tensor, SimpleNamespace]:
    size, _ = _carve(None, shapes)
    flat = _POOL.take(size, like.dtype, like.device)
    return flat, _carve(flat, shapes)[1]
