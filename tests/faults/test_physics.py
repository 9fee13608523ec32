"""Impossible physics never reaches a grade: a rotation that wraps at +-180 deg and a one-frame spike,
driven through the loader and the analysis on a real recording (the first 5.6 s of ``squats1.mot``).

Reported: the wrap gave lumbar moments of 216 N·m/kg (the coach then spoke of heels lifting
77.8 cm) and the spike squat depths of 273-283 deg. The reference for each damaged file is the
same pose written without the damage: the wrapped file must give the unwrapped file's numbers,
the spiked file the clean file's. The control (the loader's check turned off) shows that the
damage does reach the numbers when nothing catches it, so the tests can fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from musclepose.io.load import load_motion
from musclepose.io.opensim import read_table, write_table
from musclepose.motion.kinetics import compute_kinetics
from musclepose.signals import analyze_motion

from .conftest import cli

SQUAT_MOT = "mocap/addbiomechanics_expert1/squats1.mot"
FRAMES = 560  # two squats at 100 Hz


@pytest.fixture(scope="module")
def table(refdata):
    t = read_table(refdata(SQUAT_MOT))
    cols = list(t.columns)
    return cols, np.stack([t.column(c) for c in cols], 1)[:FRAMES]


def _write(path, cols, data):
    write_table(path, cols, data, in_degrees=True, name=path.stem)
    return path


def _analyse(path, kinetics=True):
    m = load_motion(path)
    a = analyze_motion(m, exercise="squat", kinetics=compute_kinetics(m, muscles=False) if kinetics else None)
    return m, a.to_dict()


def _lumbar(doc):
    return np.array([r["peak_moment_nm_per_kg"]["lumbar_flexion"] for r in doc["kinetics"]["reps"]])


@pytest.fixture(scope="module")
def turned(table, tmp_path_factory):
    """The subject turned round: pelvis rotation near 180 deg, swaying +-0.8 deg across it."""
    cols, d = table
    j = cols.index("pelvis_rotation")
    ref = d.copy()
    ref[:, j] += 180.0 + 0.8 * np.sin(np.arange(len(d)) / 9.0)
    wrapped = ref.copy()
    wrapped[:, j] = (wrapped[:, j] + 180.0) % 360.0 - 180.0  # what a file limited to (-180, 180] holds
    assert (np.abs(np.diff(wrapped[:, j])) > 300).sum() >= 4  # it does jump by 360 deg, back and forth
    folder = tmp_path_factory.mktemp("wrap")
    return _write(folder / "unwrapped.mot", cols, ref), _write(folder / "wrapped.mot", cols, wrapped)


def test_a_rotation_wrapping_at_180_deg_gives_the_same_numbers_as_the_unwrapped_pose(turned):
    m_ref, ref = _analyse(turned[0])
    m, doc = _analyse(turned[1])
    assert doc["n_reps"] == ref["n_reps"] == 2 and doc["grade"] == ref["grade"]
    assert np.allclose(_lumbar(doc), _lumbar(ref), atol=1e-6)
    assert np.abs(_lumbar(doc)).max() < 5.0  # N·m/kg: the plausibility limit of the lumbar moment
    flagged = [[(u["quantity"], round(u["value"], 6)) for u in d["reliability"]["unreliable"]] for d in (doc, ref)]
    assert flagged[0] == flagged[1]
    assert [i.cause for i in m.quality.issues] == ["angle wrap"] and "pelvis_rotation" in m.quality.issues[0].detail
    assert [n for n in m.metadata["notes"] if "repaired" in n] == [
        "wrapped.mot: angle wrap in frames 0-559 (0.00-5.59 s): unwrapped pelvis_rotation (repaired)"
    ]  # told to the user (the CLI prints notes as warnings)
    assert not any("repaired" in n for n in m_ref.metadata.get("notes", []))


def test_control_unchecked_the_wrap_makes_impossible_moments(turned, monkeypatch):
    import musclepose.motion.quality as quality

    monkeypatch.setattr(quality, "check_motion", lambda motion, *a, **k: motion)
    _, doc = _analyse(turned[1])
    worst = max(abs(u["value"]) for u in doc["reliability"]["unreliable"] if "lumbar" in u["quantity"])
    assert worst > 50.0  # N·m/kg (216 when reported)


@pytest.fixture(scope="module")
def spiked(table, tmp_path_factory):
    cols, d = table
    folder = tmp_path_factory.mktemp("spike")
    bad = d.copy()
    bad[150, cols.index("knee_angle_r")] += 170.0  # one frame, mid-descent of the first squat
    return _write(folder / "clean.mot", cols, d), _write(folder / "spiked.mot", cols, bad)


def test_a_one_frame_knee_spike_is_repaired_and_flagged_and_depths_stay_true(spiked):
    _, ref = _analyse(spiked[0], kinetics=False)
    m, doc = _analyse(spiked[1], kinetics=False)
    depths = [r["depth_knee_flexion_deg"] for r in doc["reps"]]
    assert doc["n_reps"] == ref["n_reps"] == 2
    assert np.allclose(depths, [r["depth_knee_flexion_deg"] for r in ref["reps"]], atol=0.5)
    assert max(depths) < 140.0  # deg: a knee, not the 273-283 deg reported
    spikes = [i for i in m.quality.issues if i.cause == "spike"]
    assert len(spikes) == 1 and spikes[0].start == 150 and "knee" in spikes[0].detail and spikes[0].repaired
    said = [n for n in m.metadata["notes"] if "repaired" in n]
    assert len(said) == 1 and said[0].startswith("spiked.mot: spike in frame 150 (1.50 s): knee")
    run = cli("analyze", spiked[1], "-e", "squat", "--no-kinetics")
    assert run.code == 0 and "warning: spiked.mot: spike in frame 150" in " ".join(run.err.split()), run.err


def test_control_unchecked_the_spike_becomes_the_depth(spiked, monkeypatch):
    import musclepose.motion.quality as quality

    monkeypatch.setattr(quality, "check_motion", lambda motion, *a, **k: motion)
    _, doc = _analyse(spiked[1], kinetics=False)
    assert max(r["depth_knee_flexion_deg"] for r in doc["reps"]) > 170.0  # deg (273-283 when reported)
