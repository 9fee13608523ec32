"""One seeding rule for every simulated sensor: a seed or ``None`` (seed 0) becomes a torch generator."""

from __future__ import annotations

import torch

__all__ = ["randn", "torch_generator"]


def torch_generator(generator: torch.Generator | int | None) -> torch.Generator:
    """``generator`` itself, or a new CPU generator seeded with it (``None``: 0)."""
    if isinstance(generator, torch.Generator):
        return generator
    g = torch.Generator()
    g.manual_seed(0 if generator is None else int(generator))
    return g


def randn(g: torch.Generator, shape, like: torch.Tensor) -> torch.Tensor:
    return torch.randn(tuple(shape), generator=g, dtype=torch.float64).to(dtype=like.dtype, device=like.device)
