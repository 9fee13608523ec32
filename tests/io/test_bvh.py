"""BVH reader, forward kinematics and writer, against the CMU 131_01 file and analytic cases."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from musclepose.io.bvh import BVHData, read_bvh, write_bvh
from musclepose.io.errors import FormatError

CMU = "mocap/cmu/131_01.bvh"
FIRST_ROW_LINE = 188  # 1-based line of frame 0 in 131_01.bvh (MOTION, Frames:, Frame Time: on 185-187)


@pytest.fixture(scope="module")
def cmu(refdata) -> BVHData:
    return read_bvh(refdata(CMU))


@pytest.fixture(scope="module")
def cmu_text(refdata) -> str:
    return refdata(CMU).read_text()


def test_counts_match_the_file_text(cmu, cmu_text):
    # Independent of the parser: count the keywords and read the header lines with regexes.
    n_joints = len(re.findall(r"^\s*(?:ROOT|JOINT)\s", cmu_text, re.M))
    n_channels = sum(int(n) for n in re.findall(r"CHANNELS\s+(\d+)", cmu_text))
    frames = int(re.search(r"Frames:\s*(\d+)", cmu_text)[1])
    assert (n_joints, n_channels, frames) == (31, 96, 994)
    assert cmu.n_joints == n_joints and cmu.motion.shape == (frames, n_channels)
    assert len(cmu.end_sites) == cmu_text.count("End Site") == 7
    assert cmu.fps == pytest.approx(120.0, abs=1e-3)  # "Frame Time: .0083333"
    first = cmu_text.splitlines()[FIRST_ROW_LINE - 1].split()
    np.testing.assert_array_equal(cmu.motion[0], np.array(first, dtype=float))
    assert cmu.motion[0, :3].tolist() == [5.23, 16.9002, -33.8986]
    # Mixed Euler orders in one file: legs and spine ZYX, arms ZXY.
    assert cmu.channels[cmu.joint_names.index("LeftKnee")] == ["Zrotation", "Yrotation", "Xrotation"]
    assert cmu.channels[cmu.joint_names.index("LeftElbow")] == ["Zrotation", "Xrotation", "Yrotation"]
    assert cmu.parents[cmu.joint_names.index("LeftKnee")] == cmu.joint_names.index("LeftHip")


def test_bone_lengths_are_constant_and_equal_offsets(cmu):
    rot, pos = cmu.global_transforms()
    child = np.arange(1, cmu.n_joints)
    lengths = np.linalg.norm(pos[:, child] - pos[:, cmu.parents[child]], axis=-1)
    np.testing.assert_allclose(
        lengths, np.broadcast_to(np.linalg.norm(cmu.offsets[child], axis=1), lengths.shape), atol=1e-9
    )
    np.testing.assert_allclose(rot @ np.swapaxes(rot, -1, -2), np.broadcast_to(np.eye(3), rot.shape), atol=1e-12)
    index = {n: j for j, n in enumerate(cmu.joint_names)}
    for name, site in cmu.end_site_positions().items():
        d = np.linalg.norm(site - pos[:, index[name]], axis=-1)
        np.testing.assert_allclose(d, np.linalg.norm(cmu.end_sites[name]), atol=1e-9)


def _floor_and_hips(cmu):
    rot, pos = cmu.global_transforms()
    sites = cmu.end_site_positions()
    j = cmu.joint_names.index
    foot_points = [pos[:, j(n)] for n in ("LeftAnkle", "RightAnkle", "LeftToe", "RightToe")]
    feet = np.stack(foot_points + [sites["LeftToe"], sites["RightToe"]], axis=1)[..., 1]  # Y is up in CMU BVH
    everything = np.concatenate([pos, np.stack(list(sites.values()), axis=1)], axis=1)[..., 1]
    return feet.min(axis=1), everything.min(axis=1), pos[:, 0]


def test_feet_stay_on_a_level_floor(cmu):
    # Y-up: the lowest point of the body is a foot in every frame, and the lowest foot point
    # per second stays within a 2-unit band (~11 cm) while the hips are ~17 units high.
    # A wrong Euler order or parent chain sends the feet through or far above the floor.
    foot_min, body_min, root = _floor_and_hips(cmu)
    np.testing.assert_array_equal(foot_min, body_min)
    per_second = [foot_min[t : t + 120].min() for t in range(0, cmu.n_frames, 120)]
    assert max(per_second) - min(per_second) < 2.0
    floor = float(np.median(per_second))
    assert root[0, 1] - floor == pytest.approx(16.3, abs=1.0)  # standing hip height
    assert -0.5 < floor < 1.5


def test_root_walks_a_plausible_distance(cmu):
    foot_min, _, root = _floor_and_hips(cmu)
    leg = root[0, 1] - np.median(foot_min)
    xz = root[:, [0, 2]]
    path = np.linalg.norm(np.diff(xz, axis=0), axis=1).sum()
    net = np.linalg.norm(xz[-1] - xz[0])
    assert 40.0 < net < path < 110.0  # measured: net 46.0, path 80.3 units (~2.6 m and ~4.5 m)
    k = 30  # 0.25 s moving average, so that sway does not count as speed
    smooth = np.stack([np.convolve(xz[:, i], np.ones(k) / k, mode="valid") for i in range(2)], axis=1)
    speed = np.linalg.norm(np.diff(smooth, axis=0), axis=1) * cmu.fps
    # Walking at Froude number ~0.1-0.5 is 1-2.2 leg lengths per second.
    assert 0.8 < speed.max() / leg < 2.5


_TWO_JOINTS = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Arm
  {
    OFFSET 0 2 0
    CHANNELS 3 Zrotation Yrotation Xrotation
    End Site
    {
      OFFSET 0 0 1
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.01
1 2 3 90 0 0 0 0 0
0.5 -1 2 30 -40 75 -20 65 110
"""


def test_fk_analytic_and_against_scipy_intrinsic_euler(tmp_path):
    path = tmp_path / "two.bvh"
    path.write_text(_TWO_JOINTS)
    d = read_bvh(path)
    rot, pos = d.global_transforms()
    # Frame 0: Rz(90) maps the arm offset (0, 2, 0) to (-2, 0, 0).
    np.testing.assert_allclose(pos[0], [[1, 2, 3], [-1, 2, 3]], atol=1e-12)
    np.testing.assert_allclose(d.end_site_positions()["Arm"][0], [-1, 2, 4], atol=1e-12)
    # Frame 1: scipy's upper-case sequences are intrinsic rotations.
    r_root = Rotation.from_euler("ZXY", [30, -40, 75], degrees=True).as_matrix()
    r_arm = Rotation.from_euler("ZYX", [-20, 65, 110], degrees=True).as_matrix()
    np.testing.assert_allclose(rot[1, 0], r_root, atol=1e-12)
    np.testing.assert_allclose(rot[1, 1], r_root @ r_arm, atol=1e-12)
    np.testing.assert_allclose(pos[1, 1], [0.5, -1, 2] + r_root @ [0, 2, 0], atol=1e-12)
    assert d.fps == pytest.approx(100.0)


def test_write_read_round_trip(cmu, tmp_path):
    out = write_bvh(tmp_path / "rt.bvh", cmu)
    back = read_bvh(out)
    assert back.joint_names == cmu.joint_names and back.channels == cmu.channels
    np.testing.assert_array_equal(back.parents, cmu.parents)
    np.testing.assert_array_equal(back.offsets, cmu.offsets)
    np.testing.assert_array_equal(back.motion, cmu.motion)
    assert back.frame_time == cmu.frame_time
    assert {k: v.tolist() for k, v in back.end_sites.items()} == {k: v.tolist() for k, v in cmu.end_sites.items()}
    np.testing.assert_array_equal(back.global_transforms()[1], cmu.global_transforms()[1])
    fixed = read_bvh(write_bvh(tmp_path / "p4.bvh", cmu, precision=4))
    np.testing.assert_allclose(fixed.motion, cmu.motion, atol=5.001e-5)
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic writer left no temporary file


def test_one_frame_file_reads(cmu_text, tmp_path):
    lines = cmu_text.splitlines()
    path = tmp_path / "one.bvh"
    path.write_text("\n".join(lines[: FIRST_ROW_LINE - 3] + ["Frames: 1"] + lines[FIRST_ROW_LINE - 2 : FIRST_ROW_LINE]))
    d = read_bvh(path)
    assert d.n_frames == 1 and d.global_transforms()[1].shape == (1, 31, 3)


def _variant(tmp_path, text: str, name: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def _edit_row(text: str, frame: int, column: int, value: str) -> str:
    lines = text.splitlines()
    toks = lines[FIRST_ROW_LINE - 1 + frame].split()
    toks[column] = value
    lines[FIRST_ROW_LINE - 1 + frame] = " ".join(toks)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("empty.bvh", lambda t: "", ["empty file"]),
        ("nomotion.bvh", lambda t: t[: t.index("MOTION")], ["missing MOTION"]),
        ("truncated.bvh", lambda t: t.rstrip()[:-40], ["line 1181", "frame 993", "expected 96 values, found"]),
        ("garbled.bvh", lambda t: _edit_row(t, 10, 4, "1.2.3"), ["line 198", "frame 10", "Hips.Yrotation", "'1.2.3'"]),
        ("nan.bvh", lambda t: _edit_row(t, 3, 7, "nan"), ["line 191", "frame 3", "LHipJoint.Yrotation", "not finite"]),
        ("inf.bvh", lambda t: _edit_row(t, 993, 95, "-inf"), ["line 1181", "frame 993", "RThumb.Yrotation"]),
        ("count.bvh", lambda t: t.replace("Frames: 994", "Frames: 990"), ["Frames: says 990", "994 rows"]),
        ("long.bvh", lambda t: _edit_row(t, 5, 0, "1 2"), ["line 193", "frame 5", "found 97"]),
        ("channel.bvh", lambda t: t.replace("Zrotation Yrotation", "Zrotation Yrot", 1), ["line 5", "Hips", "'Yrot'"]),
        ("offset.bvh", lambda t: t.replace("OFFSET 2.49329", "OFFSET 2,49329", 1), ["line 16", "'2,49329'"]),
        ("frametime.bvh", lambda t: t.replace("Frame Time: .0083333", "Frame Time: 0"), ["line 187", "Frame Time"]),
        ("brace.bvh", lambda t: t[: t.index("MOTION")].rsplit("}", 1)[0] + t[t.index("MOTION") :], ["end of file"]),
    ],
)  # fmt: skip
def test_malformed_files_name_file_line_and_frame(cmu_text, tmp_path, name, make, expected):
    path = _variant(tmp_path, make(cmu_text), name)
    with pytest.raises(FormatError) as err:
        read_bvh(path)
    msg = str(err.value)
    assert name in msg
    for part in expected:
        assert part in msg, msg


def test_writer_rejects_inconsistent_data(cmu, tmp_path):
    bad = dataclasses.replace(cmu, motion=cmu.motion[:, :-1])
    with pytest.raises(ValueError, match=r"motion must be \(T, 96\)"):
        write_bvh(tmp_path / "bad.bvh", bad)
    assert not (tmp_path / "bad.bvh").exists()
