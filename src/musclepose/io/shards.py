"""Sharded clip datasets: a folder of HDF5 shard files and the manifest that indexes them.

Layout (format ``"musclepose.clip-shards"``, version 1)::

    DIR/manifest.json        the index, written last: config, counts, one record per shard
    DIR/shard-000000.h5      clips [first, first + count) as a write_motions file (io.hdf5)
    DIR/journal.jsonl        while a run is incomplete: one shard record per line

A shard record holds its file name, first clip index, clip count, frames, size in bytes,
SHA-256 of the file and the split (train/val/test) of each of its clips, so a reader can
choose a split without opening the shards. A dataset is complete exactly when
``manifest.json`` exists with ``"complete": true``; shards are renamed into place whole
(:func:`~musclepose.atomic.atomic_path`), so a file under a shard's name is never partial.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .atomic import atomic_write
from .errors import FormatError

__all__ = [
    "FORMAT",
    "JOURNAL",
    "MANIFEST",
    "Manifest",
    "ShardRecord",
    "file_sha256",
    "is_sharded_dataset",
    "read_manifest",
    "shard_name",
    "verify_shards",
    "write_manifest",
]

FORMAT = "musclepose.clip-shards"
VERSION = 1
MANIFEST = "manifest.json"
JOURNAL = "journal.jsonl"


def shard_name(k: int) -> str:
    """File name of shard ``k``."""
    return f"shard-{k:06d}.h5"


@dataclass(frozen=True)
class ShardRecord:
    """One shard file as the manifest records it."""

    index: int
    file: str
    first: int
    count: int
    frames: int
    bytes: int
    sha256: str
    splits: list[str]  # the split of each clip, in order
    exercises: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "shard record") -> ShardRecord:
        try:
            rec = cls(**d)
        except TypeError as e:
            raise ValueError(f"{where}: {e}") from None
        if len(rec.splits) != rec.count or rec.count < 1 or rec.first < 0:
            raise ValueError(f"{where}: count {rec.count}, first {rec.first} and {len(rec.splits)} splits disagree")
        return rec


@dataclass
class Manifest:
    """The index of a sharded dataset: the run's configuration and its shards in clip order."""

    config: dict[str, Any]
    shards: list[ShardRecord]
    complete: bool = True

    @property
    def n_items(self) -> int:
        return sum(s.count for s in self.shards)

    def splits(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.shards:
            for name in s.splits:
                out[name] = out.get(name, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "complete": self.complete,
            "n_items": self.n_items,
            "frames": sum(s.frames for s in self.shards),
            "bytes": sum(s.bytes for s in self.shards),
            "splits": self.splits(),
            "config": self.config,
            "shards": [asdict(s) for s in self.shards],
        }


def is_sharded_dataset(path: str | Path) -> bool:
    """True if ``path`` is a folder holding a manifest, or a manifest file itself."""
    p = Path(path)
    return (p.is_dir() and (p / MANIFEST).is_file()) or (p.is_file() and p.name == MANIFEST)


def read_manifest(path: str | Path) -> Manifest:
    """The manifest of the dataset folder ``path`` (or of the manifest file ``path``).

    Raises :class:`FileNotFoundError` when there is none and :class:`FormatError` naming the
    field when it is malformed, of another format or of a run that did not complete.
    """
    p = Path(path)
    file = p / MANIFEST if p.is_dir() else p
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no manifest (not a sharded dataset, or its run has not completed)")
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FormatError(file, f"not JSON ({e})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise FormatError(file, f"not a MusclePose sharded dataset (format {FORMAT!r})", field="format")
    if int(raw.get("version", -1)) > VERSION:
        raise FormatError(file, f"version {raw.get('version')} is newer than {VERSION}", field="version")
    shards = []
    for k, d in enumerate(raw.get("shards") or []):
        try:
            shards.append(ShardRecord.from_dict(d, f"shards[{k}]"))
        except (ValueError, TypeError) as e:
            raise FormatError(file, str(e), field=f"shards[{k}]") from None
    expected = 0
    for k, s in enumerate(shards):
        if s.first != expected:
            raise FormatError(file, f"starts at clip {s.first}, expected {expected}", field=f"shards[{k}].first")
        expected += s.count
    if not raw.get("complete", False):
        raise FormatError(file, "the run that writes this dataset has not completed", field="complete")
    return Manifest(dict(raw.get("config") or {}), shards, True)


def write_manifest(folder: str | Path, manifest: Manifest) -> Path:
    """Write ``folder/manifest.json`` atomically; returns its path."""
    path = Path(folder) / MANIFEST
    with atomic_write(path) as f:
        json.dump(manifest.to_dict(), f, indent=1)
        f.write("\n")
    return path


def file_sha256(path: str | Path, block: int = 1 << 20) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def verify_shards(folder: str | Path, manifest: Manifest | None = None, hashes: bool = True) -> list[str]:
    """Problems found in a dataset folder: shards missing, of another size or (``hashes``) other content."""
    folder = Path(folder)
    manifest = manifest or read_manifest(folder)
    problems = []
    for s in manifest.shards:
        p = folder / s.file
        if not p.is_file():
            problems.append(f"{p}: missing")
        elif p.stat().st_size != s.bytes:
            problems.append(f"{p}: {p.stat().st_size} bytes, the manifest says {s.bytes}")
        elif hashes and file_sha256(p) != s.sha256:
            problems.append(f"{p}: SHA-256 differs from the manifest's")
    return problems
