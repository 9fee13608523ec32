"""Every file format in and out (readers, writers, load_motion)."""

from .errors import FormatError

__all__ = ["FormatError"]
