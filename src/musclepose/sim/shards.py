"""The bookkeeping of a sharded run on its output folder: lock, stale temporaries, journal, resume, manifest.

A run writes shards ``shard-000000.h5 ...`` (:mod:`musclepose.io.shards`) into one folder.
:class:`ShardedRun` holds that folder for the run's duration:

- an exclusive lock on the run's output (:func:`musclepose.atomic.output_lock`): a second run
  on the same output fails at once instead of mixing its clips in; the kernel releases the
  lock of a killed process;
- temporaries left by killed writers (``.shard-000003.h5.PID-HEX.tmp``) are deleted on entry;
- ``journal.jsonl`` records each finished shard (one fsync'd JSON line, after the shard was
  renamed into place), so an interrupted run resumes with the shards it finished; a shard
  file without its journal line is made again, and a torn last line is ignored;
- :meth:`ShardedRun.finish` writes ``manifest.json`` (atomic) and removes the journal.

The configuration is part of the identity: a folder holding another run's shards is refused
unless ``overwrite``, and files the run did not write are never deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from ..atomic import check_output_dir, is_temporary, output_lock
from ..io.atomic import atomic_write
from ..io.shards import JOURNAL, MANIFEST, Manifest, ShardRecord, shard_name, write_manifest

__all__ = ["ShardedRun", "remove_run_folder"]

_OURS = re.compile(r"^(shard-\d{6}\.h5|manifest\.json|journal\.jsonl)$")


def _ours(name: str) -> bool:
    return bool(_OURS.match(name)) or is_temporary(name)


class ShardedRun:
    """Hold ``folder`` for a run of ``n_shards`` shards with ``config``; see the module docstring.

    Use as a context manager; :attr:`done` maps each finished shard's index to its record
    (from an earlier run's journal or this run), :meth:`pending` lists the rest.
    """

    def __init__(
        self,
        folder: str | Path,
        config: dict[str, Any],
        n_shards: int,
        overwrite: bool = False,
        lock: str | Path | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.lock_target = Path(lock) if lock is not None else self.folder
        self.config = json.loads(json.dumps(config))  # as it reads back from JSON
        self.n_shards = int(n_shards)
        self.overwrite = overwrite
        self.done: dict[int, ShardRecord] = {}
        self.resumed = 0
        self.complete = False
        self._lock: contextlib.ExitStack | None = None
        self._journal = None

    # -- entering: lock, clean, look at what is there
    def __enter__(self) -> ShardedRun:
        # Missing, a file, read-only: each said as it is, naming the folder.
        check_output_dir(self.folder.parent, what="the output's folder")
        if self.folder.exists() and not self.folder.is_dir():
            raise NotADirectoryError(f"{self.folder}: exists and is not a folder")
        stack = contextlib.ExitStack()
        stack.enter_context(output_lock(self.lock_target))
        try:
            self.folder.mkdir(exist_ok=True)
            self._enter_locked()
        except BaseException:
            stack.close()
            raise
        self._lock = stack
        return self

    def _enter_locked(self) -> None:
        # Under the lock every temporary here is a dead writer's (or an orphaned worker's of a killed
        # run, which will fail its rename harmlessly): all go, whether or not their PID still shows.
        for p in self.folder.iterdir():
            if is_temporary(p.name):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
        foreign = sorted(p.name for p in self.folder.iterdir() if not _ours(p.name))
        if foreign:
            raise FileExistsError(
                f"{self.folder}: holds files simulate did not write ({', '.join(foreign[:3])}"
                f"{', ...' if len(foreign) > 3 else ''}); choose an empty or new folder"
            )
        manifest, journal = self.folder / MANIFEST, self.folder / JOURNAL
        records: list[ShardRecord] = []
        if manifest.exists():
            try:
                old = json.loads(manifest.read_text(encoding="utf-8"))
                records = [ShardRecord.from_dict(r) for r in old.get("shards", [])]
            except (OSError, ValueError, TypeError, AttributeError):
                old = {}
            if old.get("config") != self.config or not old.get("complete"):
                self._other_run("a dataset", old.get("config"))
                records = []
        elif journal.exists():
            header, records = _read_journal(journal)
            if header.get("config") != self.config:
                self._other_run("an interrupted run", header.get("config"))
                records = []
        elif any(self.folder.glob("shard-*.h5")):
            self._other_run("shards without a journal", None)
        for rec in records:  # a shard counts as done only if its file is there, whole
            p = self.folder / rec.file
            if 0 <= rec.index < self.n_shards and p.is_file() and p.stat().st_size == rec.bytes:
                self.done[rec.index] = rec
        self.resumed = len(self.done)
        if manifest.exists() and len(self.done) == self.n_shards:
            self.complete = True
            return
        with contextlib.suppress(FileNotFoundError):
            manifest.unlink()  # a manifest whose shards are not all there any more is not a dataset
        if not journal.exists() or not records:
            with atomic_write(journal) as f:
                f.write(json.dumps({"config": self.config, "n_shards": self.n_shards}) + "\n")
                for rec in self.done.values():
                    f.write(json.dumps(rec.__dict__) + "\n")
        self._journal = open(journal, "a", encoding="utf-8")  # noqa: SIM115 - closed in __exit__

    def _other_run(self, what: str, config: Any) -> None:
        if not self.overwrite:
            seed = f" (seed {config.get('seed')}, {config.get('n')} clips)" if isinstance(config, dict) else ""
            raise FileExistsError(
                f"{self.folder}: holds {what} of another configuration{seed}; "
                "use --overwrite to replace it, or another output"
            )
        for p in self.folder.iterdir():
            if _OURS.match(p.name):
                p.unlink()

    def __exit__(self, *exc: object) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # -- during the run
    def pending(self) -> list[int]:
        """Indices of the shards still to make, in order."""
        return [k for k in range(self.n_shards) if k not in self.done]

    def record(self, rec: ShardRecord) -> None:
        """Note a finished shard (its file already renamed into place) in the journal, durably."""
        if self._journal is None:
            raise RuntimeError("record() outside the run's context")
        self.done[rec.index] = rec
        self._journal.write(json.dumps(rec.__dict__) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    def finish(self) -> Manifest:
        """Write the manifest of the finished run and remove the journal (all shards must be done)."""
        missing = self.pending()
        if missing:
            raise RuntimeError(f"{len(missing)} shards are not done (first: {missing[0]})")
        manifest = Manifest(self.config, [self.done[k] for k in range(self.n_shards)], True)
        if not self.complete:
            write_manifest(self.folder, manifest)
            if self._journal is not None:
                self._journal.close()
                self._journal = None
            with contextlib.suppress(FileNotFoundError):
                (self.folder / JOURNAL).unlink()
            self.complete = True
        return manifest

    def shard_path(self, k: int) -> Path:
        return self.folder / shard_name(k)


def _read_journal(path: Path) -> tuple[dict[str, Any], list[ShardRecord]]:
    """The journal's header and its intact records (a torn last line, from a kill mid-write, is skipped)."""
    header: dict[str, Any] = {}
    records = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f):
            try:
                d = json.loads(line)
                if i == 0:
                    header = d
                else:
                    records.append(ShardRecord.from_dict(d))
            except (json.JSONDecodeError, ValueError, TypeError):
                continue
    return header, records


def remove_run_folder(folder: Path) -> None:
    """Delete a staging folder that holds only what a run wrote (used after merging it into one file)."""
    for p in folder.iterdir():
        if not _ours(p.name):
            raise FileExistsError(f"{folder}: holds {p.name}, which simulate did not write; left in place")
    shutil.rmtree(folder)
