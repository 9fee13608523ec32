"""Motion: the ``Motion`` type, differentiation, filtering, resampling (and, later, IK)."""

from .core import Motion
from .differentiate import derivatives

__all__ = ["Motion", "derivatives"]
