"""The CMU motion-prediction benchmark's files: reader errors, frame checks, skeleton, rate, retargeting."""

from __future__ import annotations

import numpy as np
import pytest

from musclepose.io import cmu_prediction as cmu
from musclepose.io.errors import FormatError

WALK = "mocap/cmu_prediction/train/walking/walking_1.txt"


@pytest.fixture(scope="module")
def walking(refdata):
    return cmu.read_cmu_prediction(refdata(WALK))


def _write(tmp_path, rows, name="walking_1.txt"):
    p = tmp_path / name
    p.write_text("\n".join(",".join(f"{v:.6g}" for v in r) for r in rows) + "\n")
    return p


def test_reads_real_file(walking):
    assert walking.shape == (344, cmu.N_COLUMNS)
    assert np.isfinite(walking).all()


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (
            lambda lines: lines.__setitem__(5, lines[5].replace(lines[5].split(",")[10], "nan", 1)),
            ["frame 5", "not finite"],
        ),
        (lambda lines: lines.__setitem__(3, lines[3] + ",0.1"), ["line 4", "118 values"]),
        (
            lambda lines: lines.__setitem__(7, lines[7].replace(lines[7].split(",")[4], "abc", 1)),
            ["frame 7", "not a number"],
        ),
    ],
)
def test_bad_rows_name_the_file_frame_and_field(tmp_path, walking, edit, words):
    lines = [",".join(repr(v) for v in r) for r in walking[:20].tolist()]
    edit(lines)
    p = tmp_path / "bad.txt"
    p.write_text("\n".join(lines))
    with pytest.raises(FormatError) as e:
        cmu.read_cmu_prediction(p)
    msg = str(e.value)
    assert "bad.txt" in msg and all(w in msg for w in words), msg


def test_nan_names_the_joint(tmp_path, walking):
    rows = walking[:10].copy()
    rows[4, 3 + 3 * 3 + 1] = np.nan  # joint 3 = ltibia, component 1
    with pytest.raises(FormatError, match=r"frame 4.*ltibia\.expmap\[1\]"):
        cmu.read_cmu_prediction(_write(tmp_path, rows))


def test_the_files_are_120_hz(walking):
    # The files carry no rate; at 120 Hz a walking stride (one hip cycle) lasts 0.9-1.4 s and the
    # pelvis moves at 0.8-1.6 m/s, as people walk. At 50 Hz (the H3.6M assumption) neither holds.
    hip = walking[1:, 3 + 3 * 2 + 0]  # lfemur (hip) rotation, first component
    spectrum = np.abs(np.fft.rfft(hip - hip.mean()))
    k = int(np.argmax(spectrum[1:])) + 1
    stride_s = len(hip) / k / cmu.FILE_FPS
    speed = np.median(np.linalg.norm(np.diff(walking[1:, [0, 2]], axis=0), axis=1)) * cmu.UNIT_M * cmu.FILE_FPS
    assert 0.9 < stride_s < 1.4 and 0.8 < speed < 1.6, (stride_s, speed)


def test_forward_kinematics_keeps_bone_lengths_and_puts_feet_lowest(walking):
    pos = cmu.forward_kinematics(walking[1:50], root=True)
    for j, p in enumerate(cmu.PARENTS):
        if p >= 0:
            np.testing.assert_allclose(
                np.linalg.norm(pos[:, j] - pos[:, p], axis=-1), np.linalg.norm(cmu.OFFSETS[j]), atol=1e-9
            )
    lowest = set(np.argmin(pos[..., 1], axis=1))
    assert lowest <= {5, 6, 11, 12}  # toes
    hip_height = pos[:, 0, 1].mean() * cmu.UNIT_M
    assert 0.85 < hip_height < 1.0


def test_forward_kinematics_without_root_is_at_origin(walking):
    pos = cmu.forward_kinematics(walking[1:3], root=False)
    np.testing.assert_allclose(pos[:, 0], 0.0)


def test_injected_jump_is_found_and_cut(walking):
    x = walking[1:200].copy()
    assert cmu.check_frames(x) == [] or all(
        i.field in ("lthumb", "rthumb", "ltoes", "rtoes") for i in cmu.check_frames(x)
    )
    clean = [i for i in cmu.check_frames(x)]
    x[120:, 3 + 3 * 8 : 6 + 3 * 8] += np.array([0.0, 0.8, 0.0])  # rfemur turns 0.8 rad in one frame
    issues = [i for i in cmu.check_frames(x) if i not in clean]
    assert [(i.frame, i.field) for i in issues] == [(120, "rfemur")]
    segs = cmu.continuous_segments(len(x), cmu.check_frames(x), min_len=10)
    assert all(not (a < 120 < b) for a, b in segs)


def test_find_files_and_first_only(tmp_path, walking):
    for i in (2, 1, 10):
        (tmp_path / "walking").mkdir(exist_ok=True)
        _write(tmp_path / "walking", walking[:5], f"walking_{i}.txt")
    files = cmu.find_files(tmp_path)
    assert [f.name for f in files["walking"]] == ["walking_1.txt", "walking_2.txt", "walking_10.txt"]
    assert [f.name for f in cmu.find_files(tmp_path, first_only=True)["walking"]] == ["walking_1.txt"]
    with pytest.raises(FileNotFoundError, match="layout"):
        cmu.find_files(tmp_path / "walking")
