"""MusclePose: physics, understanding and language for recordings of human exercise."""

__version__ = "0.1.0"
