"""Shared by the shard tests here and the slow fault-injection ones (tests/faults/test_simulate.py):
one small sharded run's settings and what to compare between runs."""

from __future__ import annotations

from pathlib import Path

from musclepose.io.shards import read_manifest

N, SIZE = 6, 2
KW = {"seed": 11, "exercises": ["squat"], "fault_rate": 0.5, "duration_s": 2.0, "shard_size": SIZE}


def shard_hashes(folder: Path) -> list[str]:
    """The SHA-256 of each shard, in order, from the run's manifest."""
    return [s.sha256 for s in read_manifest(folder).shards]


def leftovers(folder: Path) -> list[str]:
    """Hidden files (temporaries, journals, locks) left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
