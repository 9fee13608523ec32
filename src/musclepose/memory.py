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

__all__ = ["bound_heap", "release"]

# glibc's mallopt parameter: allocations above this many bytes get their own mapping, returned to
# the system when freed. glibc raises it on its own (up to 32 MB) each time such a block is freed,
# after which the arrays of a long recording's windows stay in the heap, fragment it and hold
# resident memory that malloc_trim cannot return; fixed at 1 MB it stays put.
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 1 << 20


@functools.cache
def _libc_function(name: str):
    lib = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(lib), name) if lib else None
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows)
        return None


@functools.cache
def bound_heap() -> None:
    """Fix glibc's mmap threshold at 1 MB for the rest of the process (above; a no-op elsewhere).

    Called where a long recording's block-by-block computation starts, not everywhere: every
    allocation above 1 MB then costs a fresh mapping and its page faults, which makes the many
    short clips of ``simulate`` (arrays of a few MB each) slower."""
    mallopt = _libc_function("mallopt")
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)


def release() -> None:
    """Give freed heap memory back to the operating system (glibc only; a no-op elsewhere).

    Called between the blocks of a long computation (with :func:`bound_heap` at its start)."""
    trim = _libc_function("malloc_trim")
    if trim is not None:
        trim(0)
