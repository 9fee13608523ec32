"""Atomic file writes (re-exported from :mod:`musclepose.atomic`, which every layer may use)."""

from ..atomic import atomic_path, atomic_write

__all__ = ["atomic_path", "atomic_write"]
