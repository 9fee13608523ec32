"""Synthetic motions and data (a parametric squat now; the exercise library later)."""

from .squat import squat_motion

__all__ = ["squat_motion"]
