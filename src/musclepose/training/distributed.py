"""Data-parallel training over processes started by ``torchrun`` (or any launcher that sets
``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``).

Every rank holds the whole model and the whole dataset, takes its own share of each batch,
and after ``backward`` the gradients are averaged over the ranks (:func:`average_gradients`),
so every rank takes the same optimiser step and the parameters stay identical. This is what
``torch.nn.parallel.DistributedDataParallel`` does; it is written out here (one flattened
all-reduce per step, no bucketing or overlap) because the same few lines then serve both
stages of the coach — the encoder, and the PhysicsBridge with the peft-wrapped LLM, whose
attributes a DDP wrapper would hide — and a step whose loss is not finite on *any* rank is
skipped on all of them (:func:`all_finite`). The backend is NCCL on CUDA, gloo on the CPU.

Rank 0 alone writes checkpoints and shows progress; the others wait at :func:`barrier`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import torch
import torch.distributed as dist

__all__ = ["all_finite", "average_gradients", "barrier", "broadcast_parameters", "init_from_env", "world"]


def init_from_env(device: str | torch.device = "cpu") -> tuple[int, int]:
    """Join the process group described by the environment (``WORLD_SIZE`` > 1), once.

    Returns ``(rank, world_size)``; ``(0, 1)`` when not launched for several processes. On
    CUDA each process uses the GPU ``LOCAL_RANK``."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size > 1 and not dist.is_initialized():
        cuda = torch.device(device).type == "cuda"
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if cuda else "gloo")
    return world()


def world() -> tuple[int, int]:
    """``(rank, world_size)`` of this process (``(0, 1)`` without a process group)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def barrier() -> None:
    if world()[1] > 1:
        dist.barrier()


def all_finite(loss: torch.Tensor) -> bool:
    """Whether ``loss`` is finite on every rank (so that all ranks skip a bad step together)."""
    ok = torch.isfinite(loss.detach()).all().to(torch.float32).reshape(1)
    if world()[1] > 1:
        dist.all_reduce(ok, op=dist.ReduceOp.MIN)
    return bool(ok.item() > 0.5)


def _params(params: Iterable[torch.Tensor]) -> list[torch.Tensor]:
    return [p for p in params if p.requires_grad]


def average_gradients(params: Iterable[torch.Tensor]) -> None:
    """Replace each parameter's gradient by its mean over the ranks (a missing gradient counts as zero)."""
    size = world()[1]
    if size == 1:
        return
    ps = _params(params)
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in ps]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= size
    offset = 0
    for p, g in zip(ps, grads, strict=True):
        n = g.numel()
        p.grad = flat[offset : offset + n].view_as(p).clone()
        offset += n


def broadcast_parameters(params: Iterable[torch.Tensor], src: int = 0) -> None:
    """Copy rank ``src``'s parameter values to every rank (after a resume or a random init)."""
    if world()[1] == 1:
        return
    with torch.no_grad():
        for p in params:
            dist.broadcast(p.data, src)
