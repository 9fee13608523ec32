"""Returning freed memory to the operating system between the blocks of a long computation.

Long recordings are processed in windows (the kinetic chain, forward kinematics); each window's
temporaries are freed, but glibc keeps small and medium freed blocks in its heap, so the process's
resident memory (what the kernel and ``ulimit -v`` count) would still grow with the recording.
:func:`release` asks glibc to hand them back (``malloc_trim``); elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

__all__ = ["release"]


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows)
        return None


def release() -> None:
    """Give freed heap memory back to the operating system (glibc only; a no-op elsewhere)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
