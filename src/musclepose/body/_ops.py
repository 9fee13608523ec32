"""Small-vector algebra for batches of 3-vectors and 3x3 matrices, tuned for CPU and torch.compile.

Eager PyTorch runs tiny batched matrix products fastest as ``torch.matmul`` (one batched
GEMM call), but under ``torch.compile`` a matmul is an opaque library call that breaks the
fusion of the surrounding element-wise code; written out as element-wise products the whole
inverse dynamics fuses into a few loops. These helpers pick the form by mode; both forms
are the same mathematics (tested by comparing eager and compiled results).
"""

from __future__ import annotations

import torch

__all__ = ["cross", "mm", "mv"]


def _compiling() -> bool:
    return torch.compiler.is_compiling()


def mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b`` for ``(..., 3, 3)`` matrices (broadcasting)."""
    if not _compiling():
        return a @ b
    return a[..., :, 0:1] * b[..., 0:1, :] + a[..., :, 1:2] * b[..., 1:2, :] + a[..., :, 2:3] * b[..., 2:3, :]


def mv(a: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``a @ v`` for ``(..., 3, 3)`` matrices and ``(..., 3)`` vectors (broadcasting)."""
    if not _compiling():
        return (a @ v[..., None])[..., 0]
    return a[..., :, 0] * v[..., 0:1] + a[..., :, 1] * v[..., 1:2] + a[..., :, 2] * v[..., 2:3]


def cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cross product of ``(..., 3)`` vectors, component-wise (faster than ``torch.linalg.cross`` here)."""
    a0, a1, a2 = a.unbind(-1)
    b0, b1, b2 = b.unbind(-1)
    return torch.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim=-1)
