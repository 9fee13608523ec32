"""Atomic file writes for the io layer: the one implementation is :mod:`musclepose.atomic` (every layer uses it)."""

from ..atomic import atomic_path, atomic_write

__all__ = ["atomic_path", "atomic_write"]
