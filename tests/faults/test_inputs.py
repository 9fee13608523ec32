"""Inputs: a missing file, a folder, a symlink loop or dangling link, a device, a deep BVH, a huge
marker list, file names with Rich markup: each is a one-line error that says what is wrong
with which file (never "no such file" for something that exists), or, for odd names, a result
that prints the name as it is."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from .conftest import assert_refused, cli

SQUAT_MOT = "mocap/addbiomechanics_expert1/squats1.mot"


@pytest.mark.parametrize("command", [["analyze"], ["convert", "{dst}"], ["coach"]])
def test_missing_folder_loop_and_dangling_link_are_told_apart(tmp_path, command):
    (tmp_path / "loop_a").symlink_to(tmp_path / "loop_b")
    (tmp_path / "loop_b").symlink_to(tmp_path / "loop_a")
    (tmp_path / "dangling.mot").symlink_to(tmp_path / "gone.mot")
    (tmp_path / "folder").mkdir()
    cases = {
        "missing.mot": "no such file",
        "loop_a": "symbolic link loop",
        "dangling.mot": "which does not exist",
    }
    if command[0] != "analyze" and command[0] != "coach":  # both take an image folder as video input
        cases["folder"] = "is a folder"
    for name, problem in cases.items():
        args = [command[0], str(tmp_path / name), *[a.format(dst=tmp_path / "out.mot") for a in command[1:]]]
        assert_refused(cli(*args), name, problem)
    assert not (tmp_path / "out.mot").exists()


def test_a_folder_that_is_not_a_video_is_not_called_missing(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "notes.txt").write_text("no images here")
    run = cli("analyze", tmp_path / "folder")
    assert run.code == 2 and "Traceback" not in run.err
    assert "no such file" not in run.err and "folder" in run.err


def test_a_device_is_not_a_recording(tmp_path):
    run = cli("convert", "/dev/null", tmp_path / "x.mot")
    assert_refused(run, "/dev/null", "not a regular file")


def test_10000_joint_bvh_is_refused_with_its_name(tmp_path):
    n = 10_000
    lines = ["HIERARCHY", "ROOT Hips", "{", "OFFSET 0 0 0", "CHANNELS 6 Xposition Yposition Zposition Zrotation "
             "Xrotation Yrotation"]  # fmt: skip
    for i in range(n):
        lines += [f"JOINT j{i}", "{", "OFFSET 0 1 0", "CHANNELS 3 Zrotation Xrotation Yrotation"]
    lines += ["End Site", "{", "OFFSET 0 1 0", "}", *["}"] * (n + 1), "MOTION", "Frames: 1", "Frame Time: 0.01"]
    lines.append(" ".join(["0"] * (6 + 3 * n)))
    deep = tmp_path / "deep.bvh"
    deep.write_text("\n".join(lines) + "\n")
    assert_refused(cli("analyze", deep, "--no-kinetics"), "deep.bvh", "nested")


def test_a_huge_message_is_cut_to_one_readable_line(tmp_path):
    """A TRC with 5,000 markers of no known set: the reader lists the names (~60 kB); the user sees one
    line of a few hundred characters that still names the file and the problem."""
    names = [f"marker_with_a_long_name_{i:05d}" for i in range(5000)]
    head = ["PathFileType\t4\t(X/Y/Z)\tx.trc",
            "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
            f"100\t100\t3\t{len(names)}\tm\t100\t1\t3",
            "Frame#\tTime\t" + "\t\t\t".join(names),
            "\t\t" + "\t".join(f"X{i + 1}\tY{i + 1}\tZ{i + 1}" for i in range(len(names)))]  # fmt: skip
    cells = "\t".join(f"0.1\t{1.7 * i / len(names):.4f}\t0.2" for i in range(len(names)))  # a person's height span
    rows = [f"{k + 1}\t{k / 100:.2f}\t{cells}" for k in range(3)]
    trc = tmp_path / "many.trc"
    trc.write_text("\n".join(head + [""] + rows) + "\n")
    run = cli("analyze", trc, "--no-kinetics")
    assert_refused(run, "many.trc", "characters left out")
    assert len(run.err.strip().splitlines()) <= 3


def test_rich_markup_in_a_file_name_is_printed_as_it_is(tmp_path):
    from musclepose.io.clip import Clip, write_clip
    from musclepose.signals.channels import CHANNEL_NAMES

    t = np.arange(300) / 30.0
    channels = {n: 0.9 - 0.1 * np.sin(2 * np.pi * t / 3.0) for n in CHANNEL_NAMES}
    odd = tmp_path / "[bold]squat [x].json"  # Rich would print "squat" in bold and drop both tags
    write_clip(odd, Clip(channels=channels, fps=30.0, exercise="squat"))
    run = cli("analyze", odd)
    assert run.code == 0, run.err
    assert "[bold]squat [x].json" in " ".join(run.out.split())
    missing = tmp_path / "[red]gone.mot"
    assert_refused(cli("analyze", missing), "[red]gone.mot", "no such file")


def test_internal_names_do_not_reach_the_user(tmp_path):
    """A 10 Hz recording (CMU-style joint angles) cannot be low-passed at 6 Hz: analysed unfiltered, said in
    plain words, never as ``cutoff_hz``."""
    import numpy as np

    from musclepose.body import Body
    from musclepose.io.opensim import write_table
    from musclepose.io.opensim.coords import opensim_from_motion
    from musclepose.sim import generate

    motion = generate("squat", Body.standard(), {"reps": 2})
    slow = motion.resampled(10.0)
    cols = opensim_from_motion(slow, degrees=True)
    names = list(cols)
    mot = tmp_path / "slow.mot"
    write_table(mot, names, np.column_stack([cols[n] for n in names]), in_degrees=True)
    run = cli("analyze", mot, "-e", "squat", "--json")
    assert run.code == 0, run.err
    assert "cutoff_hz" not in run.err + run.out and "All-NaN" not in run.err
    assert json.loads(run.out)["analysis"]["n_reps"] == 2


def test_mass_and_sex_are_honoured_for_opensim_coordinates(refdata):
    """The README's force-plate example: the .mot's model weighs 72.6 kg; it was analysed at 70 kg."""
    walk = refdata("kinetics/opensim_gait10dof18musc/subject01_walk_IK.mot")
    run = cli("analyze", walk, "--no-kinetics", "--json")
    body = json.loads(run.out)["input"]["body"]
    assert body["mass_kg"] == pytest.approx(72.6) and "subject01.osim" in body["mass_source"]
    run = cli("analyze", walk, "--no-kinetics", "--json", "--mass", "80", "--sex", "female")
    doc = json.loads(run.out)
    assert doc["input"]["body"]["mass_kg"] == 80.0 and doc["input"]["body"]["sex"] == "female"
    assert "72.6 kg" in run.err and "warning" in run.err  # the conflict is reported
    assert any("72.6" in n for n in doc["input"]["notes"])


def test_a_recording_that_cannot_be_read_says_so(tmp_path, monkeypatch):
    """Permission denied (simulated: tests may run as root, which reads everything)."""
    f = tmp_path / "locked.mot"
    f.write_text("x")
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p) == str(f) else real(p, mode, **kw))
    assert_refused(cli("analyze", f), "locked.mot", "read")  # "is not readable" or "cannot be read"
