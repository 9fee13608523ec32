"""HDF5 motion datasets: ragged layout, exact round trips, atomic writes, DataLoader workers."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

h5py = pytest.importorskip("h5py")

from musclepose.body import Body  # noqa: E402
from musclepose.io import FormatError  # noqa: E402
from musclepose.io.hdf5 import MotionDatasetReader, read_motion, write_motions  # noqa: E402
from musclepose.motion import Motion  # noqa: E402

LENGTHS = (30, 7, 120, 1, 64)


def _motions():
    rng = np.random.default_rng(7)
    custom = Body.from_segment_lengths({"thigh": 0.47, "shank": 0.41}, 82.0, "male", 1.83)
    bodies = [Body.standard(1.75, 70.0, "male"), Body.standard(1.62, 58.0, "female"), custom]
    out = []
    for i, n in enumerate(LENGTHS):
        q = torch.as_tensor(0.3 * rng.standard_normal((n, 47)))
        meta = {"source": f"synthetic_{i}", "subject": i, "history": ["made"], "tags": ("a", "b")}
        out.append(Motion(q=q, fps=[30.0, 60.0, 100.0][i % 3], body=bodies[i % 3], metadata=meta))
    return out


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("h5") / "motions.h5"
    motions = _motions()
    extra = [
        {"channels": np.full((len(m), 7), float(i)), "rep_starts": np.arange(i), "grade": "A" if i % 2 else "B"}
        for i, m in enumerate(motions)
    ]
    n = write_motions(path, iter(motions), extra=iter(extra), chunk_rows=16)  # generators: streamed
    assert n == len(LENGTHS)
    return path, motions


def test_layout_is_ragged_and_chunked(dataset):
    path, motions = dataset
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "musclepose.motions" and f.attrs["n_items"] == len(LENGTHS)
        assert f["q"].shape == (sum(LENGTHS), 47) and f["q"].chunks == (16, 47) and f["q"].compression == "lzf"
        assert f["offsets"][:].tolist() == np.concatenate([[0], np.cumsum(LENGTHS)]).tolist()
        assert f["height_m"][:].tolist() == [1.75, 1.62, 1.83, 1.75, 1.62]
        assert [s.decode() for s in f["sex"][:]] == ["male", "female", "male", "male", "female"]
        assert f["extra/channels/data"].shape == (sum(LENGTHS), 7)
        assert f["extra/rep_starts/offsets"][:].tolist() == [0, 0, 1, 3, 6, 10]


def test_round_trip_exact(dataset):
    path, motions = dataset
    with MotionDatasetReader(path) as reader:
        assert len(reader) == len(LENGTHS)
        for i, m in enumerate(motions):
            back = reader[i]
            assert torch.equal(back.q, m.q) and back.q.dtype == torch.float64
            assert back.fps == m.fps
            assert (back.body.height_m, back.body.mass_kg, back.body.sex) == (
                m.body.height_m,
                m.body.mass_kg,
                m.body.sex,
            )
            np.testing.assert_array_equal(back.body.offsets, m.body.offsets)  # custom segment lengths survive
            np.testing.assert_array_equal(back.body.masses, m.body.masses)
            assert back.metadata == {**m.metadata, "tags": ["a", "b"]}
            ex = reader.extra(i)
            assert ex["grade"] == ("A" if i % 2 else "B")
            np.testing.assert_array_equal(ex["channels"], np.full((len(m), 7), float(i)))
            np.testing.assert_array_equal(ex["rep_starts"], np.arange(i))
        assert torch.equal(reader[-1].q, motions[-1].q)
        with pytest.raises(IndexError, match="out of range"):
            reader[len(LENGTHS)]
    assert torch.equal(read_motion(path, 2).q, motions[2].q)


def test_float32_storage(tmp_path):
    motions = _motions()
    path = tmp_path / "f32.h5"
    write_motions(path, motions, dtype="float32", compression=None)
    back = read_motion(path, 0)
    assert back.q.dtype == torch.float64
    torch.testing.assert_close(back.q, motions[0].q.float().double(), rtol=0, atol=0)
    with h5py.File(path, "r") as f:
        assert f["q"].dtype == np.float32 and f["q"].compression is None


def _crashing(motions):
    yield from motions[:2]
    raise RuntimeError("generator died")


def test_write_is_atomic(tmp_path, dataset):
    path = tmp_path / "data.h5"
    write_motions(path, _motions()[:1])
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="generator died"):
        write_motions(path, _crashing(_motions()))
    with pytest.raises(ValueError, match="fewer items"):
        write_motions(path, _motions(), extra=[{}])
    with pytest.raises(ValueError, match="no motions"):
        write_motions(path, [])
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["data.h5"]


def _collate(items):
    return [(len(m), float(m.q.sum())) for m in items]


def test_dataloader_workers_open_their_own_handle(dataset):
    path, motions = dataset
    reader = MotionDatasetReader(path)
    assert reader._file is None  # nothing opened in __init__
    len(reader)  # opens here, in the parent...
    clone = pickle.loads(pickle.dumps(reader))
    assert clone._file is None and len(clone) == len(LENGTHS)  # ...but the handle does not travel
    loader = torch.utils.data.DataLoader(reader, batch_size=2, num_workers=2, collate_fn=_collate)
    got = [item for batch in loader for item in batch]
    assert got == [(len(m), float(m.q.sum())) for m in motions]
    reader.close()


def test_not_a_motions_file(tmp_path):
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    with pytest.raises(FormatError, match="text.h5: not an HDF5 file"):
        len(MotionDatasetReader(text))
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(FormatError, match="other.h5: field 'format'"):
        read_motion(other, 0)
    with pytest.raises(FileNotFoundError):
        len(MotionDatasetReader(tmp_path / "missing.h5"))
