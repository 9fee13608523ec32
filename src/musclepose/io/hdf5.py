"""HDF5 datasets of many motions (or clips): ragged, chunked, streamable, DataLoader-safe.

Layout (format ``"musclepose.motions"``, version 1)::

    /q              (sum T_i, 47) float, chunked, resizable    all motions concatenated
    /offsets        (N + 1,) int64    motion i is q[offsets[i]:offsets[i + 1]]
    /fps            (N,) float64      Hz
    /height_m       (N,) float64      body parameters per item
    /mass_kg        (N,) float64
    /sex            (N,) utf-8 str
    /body_lengths   (N,) utf-8 str    JSON segment lengths (m), so custom bodies round-trip
    /metadata       (N,) utf-8 str    JSON of Motion.metadata
    /extra/<key>/data     (sum L_i, ...) per-item arrays, concatenated along axis 0
    /extra/<key>/offsets  (N + 1,) int64
    /extra_attrs    (N,) utf-8 str    JSON of per-item scalars and strings
    attrs: format, version, n_items, dof_names (JSON)

``q`` follows :mod:`musclepose.body.skeleton` (root translation in m, angles in rad). A clip
is stored as an ``extra`` array (e.g. ``{"channels": clip.as_array()}``). The file is
written to a temporary name and renamed when complete, through :func:`~musclepose.io.h5write.h5_create`
(no crash on a full disk).

h5py is imported only inside functions; :class:`MotionDatasetReader` opens the file on first
access, in the process that reads (a PyTorch DataLoader worker), never in ``__init__``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..body import Body
from ..motion import Motion
from .errors import FormatError
from .h5write import h5_check, h5_create

__all__ = ["MotionDatasetReader", "concat_motion_files", "read_motion", "write_motions"]

FORMAT = "musclepose.motions"
VERSION = 1
_STR = None  # h5py.string_dtype(), created lazily


def _json_default(v: Any) -> Any:
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray | torch.Tensor):
        return np.asarray(v.detach().cpu() if isinstance(v, torch.Tensor) else v).tolist()
    if isinstance(v, set | tuple):
        return list(v)
    raise TypeError(f"{type(v).__name__} is not JSON serialisable")


class _Ragged:
    """A resizable ``data`` dataset plus its ``offsets`` list, appended item by item."""

    def __init__(self, group, name: str, first: np.ndarray, dtype, chunk_rows: int, compression: str | None):
        self.tail = first.shape[1:]
        self.dtype = dtype
        self.data = group.create_dataset(
            name,
            shape=(0, *self.tail),
            maxshape=(None, *self.tail),
            dtype=dtype,
            chunks=(chunk_rows, *self.tail),
            compression=compression,
        )
        self.offsets = [0]
        self.buf: list[np.ndarray] = []
        self.buffered = 0

    def append(self, a: np.ndarray, what: str) -> None:
        if a.shape[1:] != self.tail:
            raise ValueError(f"{what}: shape {a.shape} does not match earlier items' (L, {self.tail})")
        self.buf.append(a.astype(self.dtype, copy=False))
        self.buffered += a.shape[0]
        self.offsets.append(self.offsets[-1] + a.shape[0])
        if self.buffered >= 1 << 16:
            self.flush()

    def flush(self) -> None:
        if not self.buf:
            return
        block = np.concatenate(self.buf, axis=0)
        n = self.data.shape[0]
        self.data.resize(n + block.shape[0], axis=0)
        self.data[n:] = block
        self.buf, self.buffered = [], 0
        h5_check(self.data.file)  # a full disk stops the writer here, not after the whole dataset


def write_motions(
    path: str | Path,
    motions: Iterable[Motion],
    extra: Iterable[Mapping[str, Any]] | None = None,
    *,
    dtype: str = "float64",
    chunk_rows: int = 1024,
    compression: str | None = "lzf",
    expected_bytes: int | None = None,
    uncompressed: Collection[str] = (),
) -> int:
    """Write motions (streamed: any iterable, any length) to one HDF5 file, atomically.

    Parameters
    ----------
    path
        Destination (``.h5``).
    motions
        The motions; consumed once.
    extra
        Optional per-item dicts, aligned with ``motions``: array values (``np.ndarray`` or
        tensors, ragged along axis 0 but with the same trailing shape and keys for every
        item) go to ``/extra/<key>``; scalars, strings, lists and dicts to ``/extra_attrs``
        as JSON.
    dtype
        Storage type of ``q`` (``"float32"`` halves the size; reads return float64).
    chunk_rows
        Rows per chunk (frames). 1024 x 47 x 8 B = 376 KiB per chunk.
    compression
        h5py filter (``"lzf"`` fast, ``"gzip"`` smaller, ``None``).
    uncompressed
        Extra arrays stored without compression: noisy float data that lzf shrinks by a few per
        cent at the cost of a compression pass (sensor signals, joint moments).
    expected_bytes
        About how many bytes will be written: refused up front if the disk has less free
        (:func:`~musclepose.io.h5write.h5_create`, which also turns a full disk or a file-size
        limit mid-write into an ``OSError`` naming ``path`` instead of a crash).

    Returns
    -------
    int
        Number of motions written.
    """
    import h5py

    extra_iter = iter(extra) if extra is not None else None
    str_dt = h5py.string_dtype()
    with h5_create(path, expected_bytes) as f:
        f.attrs["format"] = FORMAT
        f.attrs["version"] = VERSION
        meta: dict[str, list] = {k: [] for k in ("fps", "height_m", "mass_kg", "sex", "body_lengths", "metadata")}
        attrs_json: list[str] = []
        q_store: _Ragged | None = None
        extras: dict[str, _Ragged] = {}
        dof_names = None
        n = 0
        for n, motion in enumerate(motions, start=1):
            q = motion.q.detach().cpu().numpy()
            if q_store is None:
                q_store = _Ragged(f, "q", q, np.dtype(dtype), chunk_rows, compression)
                dof_names = list(motion.body.dof_names)
            elif list(motion.body.dof_names) != dof_names:
                raise ValueError(f"motion {n - 1} has different DoF names from motion 0")
            q_store.append(q, f"motion {n - 1}")
            body = motion.body
            meta["fps"].append(float(motion.fps))
            meta["height_m"].append(float(body.height_m))
            meta["mass_kg"].append(float(body.mass_kg))
            meta["sex"].append(body.sex)
            meta["body_lengths"].append(json.dumps(dict(body.lengths), sort_keys=True))
            meta["metadata"].append(json.dumps(motion.metadata, default=_json_default))
            item = {}
            if extra_iter is not None:
                item = next(extra_iter, None)
                if item is None:
                    raise ValueError(f"extra has fewer items than motions (ran out at {n - 1})")
            arrays = {k: v for k, v in item.items() if isinstance(v, np.ndarray | torch.Tensor)}
            if n == 1:
                for k, v in arrays.items():
                    a = np.asarray(v.detach().cpu() if isinstance(v, torch.Tensor) else v)
                    a = a.reshape(-1) if a.ndim == 0 else a
                    extras[k] = _Ragged(f.require_group("extra"), f"{k}/data", a, a.dtype, chunk_rows,
                                        None if k in uncompressed else compression)  # fmt: skip
            if set(arrays) != set(extras):
                raise ValueError(f"extra item {n - 1} has arrays {sorted(arrays)}; item 0 had {sorted(extras)}")
            for k, v in arrays.items():
                a = np.asarray(v.detach().cpu() if isinstance(v, torch.Tensor) else v)
                extras[k].append(a.reshape(-1) if a.ndim == 0 else a, f"extra[{n - 1}][{k!r}]")
            attrs_json.append(
                json.dumps({k: v for k, v in item.items() if k not in arrays}, default=_json_default, allow_nan=False)
            )
        if q_store is None:
            raise ValueError("no motions to write")
        if extra_iter is not None and next(extra_iter, None) is not None:
            raise ValueError("extra has more items than motions")
        for store in (q_store, *extras.values()):
            store.flush()
        f.create_dataset("offsets", data=np.asarray(q_store.offsets, dtype=np.int64))
        for k, store in extras.items():
            f["extra"][k].create_dataset("offsets", data=np.asarray(store.offsets, dtype=np.int64))
        for k, values in meta.items():
            f.create_dataset(k, data=np.asarray(values, dtype=str_dt if isinstance(values[0], str) else np.float64))
        f.create_dataset("extra_attrs", data=np.asarray(attrs_json, dtype=str_dt))
        f.attrs["n_items"] = n
        f.attrs["dof_names"] = json.dumps(dof_names)
    return n


class MotionDatasetReader:
    """Random access to a motions file; safe to hand to PyTorch DataLoader workers.

    Nothing is opened in ``__init__``; each process opens its own read-only handle on
    first access (and again after a fork), and pickling drops the handle. ``len(reader)``
    and ``reader[i]`` (a :class:`~musclepose.motion.Motion`) make it a map-style dataset;
    use a ``collate_fn`` that accepts Motions (or :meth:`q` for plain arrays).

    Parameters
    ----------
    path
        A file written by :func:`write_motions`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = None
        self._pid: int | None = None
        self._len: int | None = None
        self._bodies: dict[str, Body] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_file=None, _pid=None, _bodies={})
        return state

    def _h5(self):
        if self._file is None or self._pid != os.getpid():
            import h5py

            try:
                f = h5py.File(self.path, "r")
            except OSError as e:
                if not self.path.exists():
                    raise FileNotFoundError(self.path) from e
                raise FormatError(self.path, f"not an HDF5 file ({e})") from e
            if f.attrs.get("format") != FORMAT:
                f.close()
                raise FormatError(self.path, f"not a MusclePose motions file (format {FORMAT!r})", field="format")
            if int(f.attrs.get("version", -1)) > VERSION:
                f.close()
                raise FormatError(self.path, f"version {f.attrs['version']} is newer than {VERSION}", field="version")
            for name in ("q", "offsets", "fps", "height_m", "mass_kg", "sex", "metadata"):
                if name not in f:
                    f.close()
                    raise FormatError(self.path, "dataset missing", field=name)
            self._file, self._pid = f, os.getpid()
        return self._file

    def close(self) -> None:
        """Close this process's handle (it reopens on the next access)."""
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file = None

    def __enter__(self) -> MotionDatasetReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        if self._len is None:
            self._len = int(self._h5()["offsets"].shape[0]) - 1
        return self._len

    def _index(self, index: int) -> int:
        n = len(self)
        i = int(index) + n if int(index) < 0 else int(index)
        if not 0 <= i < n:
            raise IndexError(f"index {index} out of range for {n} motions in {self.path}")
        return i

    def _span(self, group, i: int) -> np.ndarray:
        start, stop = (int(v) for v in group["offsets"][i : i + 2])
        return group["q" if "q" in group else "data"][start:stop]

    def q(self, index: int) -> np.ndarray:
        """Motion ``index``'s coordinates ``(T, 47)`` as float64 numpy."""
        return np.asarray(self._span(self._h5(), self._index(index)), dtype=np.float64)

    def body(self, index: int) -> Body:
        """The stored body of item ``index`` (cached per distinct body)."""
        f, i = self._h5(), self._index(index)
        h, m = float(f["height_m"][i]), float(f["mass_kg"][i])
        sex = f["sex"][i].decode() if isinstance(f["sex"][i], bytes) else str(f["sex"][i])
        lengths = f["body_lengths"][i] if "body_lengths" in f else b""
        lengths = lengths.decode() if isinstance(lengths, bytes) else str(lengths)
        key = f"{h!r}|{m!r}|{sex}|{lengths}"
        if key not in self._bodies:
            if lengths:
                self._bodies[key] = Body.from_segment_lengths(json.loads(lengths), m, sex, h)
            else:
                self._bodies[key] = Body.standard(h, m, sex)
        return self._bodies[key]

    def extra(self, index: int) -> dict[str, Any]:
        """Item ``index``'s extra arrays and JSON attributes (empty if none were written)."""
        f, i = self._h5(), self._index(index)
        out: dict[str, Any] = {}
        if "extra_attrs" in f:
            raw = f["extra_attrs"][i]
            out.update(json.loads(raw.decode() if isinstance(raw, bytes) else raw))
        if "extra" in f:
            for k in f["extra"]:
                out[k] = np.asarray(self._span(f["extra"][k], i))
        return out

    def __getitem__(self, index: int) -> Motion:
        f, i = self._h5(), self._index(index)
        raw = f["metadata"][i]
        meta = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        q = torch.from_numpy(self.q(i))
        return Motion(q=q, fps=float(f["fps"][i]), body=self.body(i), metadata=meta)


def read_motion(path: str | Path, index: int) -> Motion:
    """Read one motion from a file written by :func:`write_motions`."""
    with MotionDatasetReader(path) as reader:
        return reader[index]


def concat_motion_files(sources: Iterable[str | Path], path: str | Path, *, chunk_rows: int = 1024) -> int:
    """Concatenate files written by :func:`write_motions` into one, item order kept, atomically.

    Datasets are copied array by array (no :class:`~musclepose.motion.Motion` is built), so
    the result holds exactly the sources' values, each array compressed as in the first
    source; every source must have the same DoF names and the same extra arrays. Used to merge
    the shards of a sharded dataset (:mod:`musclepose.io.shards`) into a single file. Returns
    the number of items.
    """
    import h5py

    sources = [Path(s) for s in sources]
    if not sources:
        raise ValueError("no files to concatenate")
    str_dt = h5py.string_dtype()
    per_item = ("fps", "height_m", "mass_kg", "sex", "body_lengths", "metadata", "extra_attrs")
    with h5_create(path) as out:
        stores: dict[str, _Ragged] = {}
        lists: dict[str, list] = {k: [] for k in per_item}
        dof_names = None
        n = 0
        for src in sources:
            with h5py.File(src, "r") as f:
                if f.attrs.get("format") != FORMAT:
                    raise FormatError(src, f"not a MusclePose motions file (format {FORMAT!r})", field="format")
                names = json.loads(f.attrs["dof_names"])
                if dof_names is None:
                    dof_names = names
                    out.attrs["format"], out.attrs["version"] = FORMAT, VERSION
                elif names != dof_names:
                    raise FormatError(src, "DoF names differ from the first file's", field="dof_names")
                keys = {"q": f["q"], **{f"extra/{k}": f["extra"][k] for k in f.get("extra", {})}}
                if stores and set(keys) != set(stores):
                    raise FormatError(src, f"arrays {sorted(keys)} differ from the first file's {sorted(stores)}")
                for key, node in keys.items():
                    data = node if key == "q" else node["data"]
                    offsets = np.asarray(f["offsets"] if key == "q" else node["offsets"][:], dtype=np.int64)
                    block = np.asarray(data[int(offsets[0]) : int(offsets[-1])])
                    if key not in stores:
                        name = "q" if key == "q" else f"{key[len('extra/') :]}/data"
                        group = out if key == "q" else out.require_group("extra")
                        stores[key] = _Ragged(group, name, block, data.dtype, chunk_rows, data.compression)
                    store = stores[key]
                    for i in range(len(offsets) - 1):
                        store.append(block[offsets[i] - offsets[0] : offsets[i + 1] - offsets[0]], f"{src}[{i}]")
                count = int(f["offsets"].shape[0]) - 1
                for k in per_item:
                    values = f[k][:] if k in f else [b"{}" if k == "extra_attrs" else b""] * count
                    lists[k].extend(v.decode() if isinstance(v, bytes) else v for v in values)
                n += count
        for store in stores.values():
            store.flush()
        out.create_dataset("offsets", data=np.asarray(stores["q"].offsets, dtype=np.int64))
        for key, store in stores.items():
            if key != "q":
                out[key].create_dataset("offsets", data=np.asarray(store.offsets, dtype=np.int64))
        for k, values in lists.items():
            text = isinstance(values[0], str)
            out.create_dataset(k, data=np.asarray(values, dtype=str_dt if text else np.float64))
        out.attrs["n_items"] = n
        out.attrs["dof_names"] = json.dumps(dof_names)
    return n
