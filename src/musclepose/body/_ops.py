"""Small-vector algebra for batches of 3-vectors and 3x3 matrices (any leading shape)."""

from __future__ import annotations

import torch

__all__ = ["cross", "mm", "mv"]


def mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b`` for ``(..., 3, 3)`` matrices (broadcasting)."""
    return a @ b


def mv(a: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``a @ v`` for ``(..., 3, 3)`` matrices and ``(..., 3)`` vectors (broadcasting)."""
    return (a @ v[..., None])[..., 0]


def cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cross product of ``(..., 3)`` vectors, component-wise (faster than ``torch.linalg.cross`` here)."""
    a0, a1, a2 = a.unbind(-1)
    b0, b1, b2 = b.unbind(-1)
    return torch.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim=-1)
