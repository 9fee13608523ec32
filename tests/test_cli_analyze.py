"""``musclepose analyze`` and ``convert`` in-process (typer's CliRunner) on the real squat recording."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from musclepose.cli import app

SQUATS = "mocap/addbiomechanics_expert1/squats1"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def squat_clip(refdata, tmp_path_factory):
    """A clip JSON of squats1.mot (channels from our body), written by ``convert``."""
    out = tmp_path_factory.mktemp("clip") / "squats1_clip.json"
    r = invoke("convert", refdata(SQUATS + ".mot"), out, "--json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["kind"] == "clip" and info["columns"] == 7 and info["frames"] == 1302
    return out


def test_analyze_trc_finds_five_squats(refdata):
    # squats1.trc: markers; generic.osim and static1.trc beside it give the marker set and scaling.
    r = invoke("analyze", refdata(SQUATS + ".trc"), "--exercise", "squat", "--json")
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    a = res["analysis"]
    assert a["n_reps"] == 5 and a["exercise"] == "squat"
    assert res["input"]["loader"]["static"].endswith("static1.trc")
    assert "generic.osim" in res["input"]["loader"]["marker_set"]
    # Deep bodyweight squats: 80-140 deg knee flexion at the bottom, each rep 1.5-4 s.
    for rep in a["reps"]:
        assert 80 < rep["depth_knee_flexion_deg"] < 140
        assert 1.5 < rep["duration_s"] < 4.0
        assert rep["min_hip_height_m"] < 0.75


def test_analyze_mot_tables(refdata):
    r = invoke("analyze", refdata(SQUATS + ".mot"), "--exercise", "squat")
    assert r.exit_code == 0, r.output
    for title in ("Analysis", "Repetitions", "Phases", "Wave features", "dominant frequency Hz", "eccentric"):
        assert title in r.stdout
    assert "repetitions" in r.stdout and "│ 5" in r.stdout


def test_analyze_clip_json(squat_clip):
    r = invoke("analyze", squat_clip, "--exercise", "squat", "--json")
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["input"]["kind"] == "clip"
    a = res["analysis"]
    assert a["n_reps"] == 5 and a["primary"] in ("legs_trajectory", "knee_angle_trajectory")
    # Channels only: energy in joules comes from the hip-height proxy.
    assert a["wave_features"]["energy"]["joules"] is not None
    assert all(80 < rep["depth_knee_flexion_deg"] < 140 for rep in a["reps"])


def test_convert_mot_round_trip(refdata, tmp_path):
    from musclepose.io.opensim import read_table
    from musclepose.io.opensim.coords import motion_from_opensim, opensim_from_motion

    src = refdata(SQUATS + ".mot")
    out = tmp_path / "squats1_out.mot"
    r = invoke("convert", src, out, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["frames"] == 1302
    back = read_table(out)
    assert back.in_degrees is True and back.n_rows == 1302
    original = read_table(src)
    # The knee maps one to one onto knee_flexion: the written values are the source's.
    expected = opensim_from_motion(motion_from_opensim(original, osim_path=src.parent / "generic.osim"))
    for side in ("r", "l"):
        np.testing.assert_allclose(back.column(f"knee_angle_{side}"), expected[f"knee_angle_{side}"], atol=1e-6)
        np.testing.assert_allclose(back.column(f"knee_angle_{side}"), original.column(f"knee_angle_{side}"), atol=1e-6)
    np.testing.assert_allclose(back.time, original.time, atol=1e-9)
    assert not list(tmp_path.glob("*.tmp*"))


def test_convert_mot_to_h5_reads_back_equal(refdata, tmp_path):
    from musclepose.io.hdf5 import read_motion
    from musclepose.io.load import load_motion

    src = refdata(SQUATS + ".mot")
    out = tmp_path / "squats1.h5"
    r = invoke("convert", src, out)
    assert r.exit_code == 0, r.output
    assert "wrote" in r.stdout and "1302 frames" in r.stdout
    m = read_motion(out, 0)
    ref = load_motion(src)
    assert m.fps == pytest.approx(ref.fps)
    np.testing.assert_array_equal(m.q.numpy(), ref.q.numpy())


def test_convert_to_clip_reads_back(squat_clip):
    from musclepose.io.clip import CLIP_CHANNELS, read_clip

    clip = read_clip(squat_clip)
    assert clip.n_frames == 1302 and clip.fps == pytest.approx(100.0)
    assert set(clip.channels) == set(CLIP_CHANNELS)
    knee = clip.channels["knee_angle_trajectory"]
    assert 80 < knee.max() < 140 and knee.min() > -15
    assert clip.wave_features["quality"]["grade"] in "ABCDF"


def test_convert_clip_to_clip_and_unsupported_pairs(squat_clip, tmp_path):
    r = invoke("convert", squat_clip, tmp_path / "copy.json")
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["convert", str(squat_clip), str(tmp_path / "x.mot")])
    assert r.exit_code == 2 and "clip JSON" in r.output and squat_clip.name in r.output
    r = runner.invoke(app, ["convert", str(squat_clip), str(tmp_path / "x.xlsx")])
    assert r.exit_code == 2 and "x.xlsx" in r.output
    assert not (tmp_path / "x.mot").exists()


def test_convert_virtual_markers_trc(refdata, tmp_path):
    from musclepose.body import PLUG_IN_GAIT
    from musclepose.io.opensim import read_trc

    out = tmp_path / "markers.trc"
    r = invoke("convert", refdata(SQUATS + ".mot"), out, "--fps", "25", "--json")
    assert r.exit_code == 0, r.output
    trc = read_trc(out)
    assert trc.names == list(PLUG_IN_GAIT) and trc.fps == pytest.approx(25.0)
    # Standing at the start: head markers ~1.6-1.8 m up, heel markers near the floor.
    y = trc.positions[0, :, 1]
    assert 1.5 < y[trc.names.index("LFHD")] < 1.9 and y[trc.names.index("LHEE")] < 0.15


def test_missing_file_exits_2(tmp_path):
    r = runner.invoke(app, ["analyze", str(tmp_path / "nope.trc")])
    assert r.exit_code == 2 and "nope.trc" in r.output


def test_analyze_gait_with_force_plates_and_plots(refdata, tmp_path):
    """OpenSim's IK of the example gait + its ExternalLoads: moments per cycle and the three figures."""
    folder = refdata("kinetics/opensim_gait10dof18musc")
    figs = tmp_path / "figs"
    r = invoke(
        "analyze", folder / "subject01_walk_IK.mot", "--loads", folder / "subject01_walk_grf.xml",
        "--mass", "72.6", "--json", "--plot", figs,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    kin = res["analysis"]["kinetics"]
    assert kin["source"] == "force plates"
    # Walking: peak plantarflexor moment ~1.5-1.8 N m/kg (OpenSim's ID: 1.79 right, 1.50 left),
    # vertical GRF peaks ~1.0-1.3 body weights.
    peak_pf = min(rep["peak_moment_nm_per_kg"]["ankle_dorsiflexion_r"] for rep in kin["reps"])
    assert -2.0 < peak_pf < -1.3
    assert all(0.8 < rep["peak_vertical_grf_bw"]["foot_r"] < 1.4 for rep in kin["reps"])
    assert sorted(p.name for p in figs.iterdir()) == ["activations.png", "grf.png", "moments.png"]
    assert all(p.stat().st_size > 10_000 for p in figs.iterdir())


def test_analyze_bad_loads_exit_2(refdata, tmp_path):
    bad = tmp_path / "loads.txt"
    bad.write_text("not loads")
    r = invoke("analyze", refdata(SQUATS + ".mot"), "--loads", bad)
    assert r.exit_code == 2 and "loads.txt" in r.output


def test_analyze_loads_data_found_beside_or_given(refdata, tmp_path):
    """An ExternalLoads XML from another machine (Windows absolute <datafile>): the error names the XML
    and says what to do; ``--loads-data`` gives the file; beside the XML it is found by name."""
    folder = refdata("kinetics/opensim_gait10dof18musc")
    motion = tmp_path / "walk_IK.mot"
    motion.write_bytes((folder / "subject01_walk_IK.mot").read_bytes())
    (tmp_path / "subject01.osim").write_bytes((folder / "subject01.osim").read_bytes())
    xml = tmp_path / "grf.xml"
    stored = r"C:\Users\someone\data\subject01_walk_grf.mot"
    xml.write_text((folder / "subject01_walk_grf.xml").read_text().replace(">subject01_walk_grf.mot<", f">{stored}<"))
    r = runner.invoke(app, ["analyze", str(motion), "--loads", str(xml), "--mass", "72.6"])
    assert r.exit_code == 2
    err = " ".join(r.output.split())
    assert f"{xml}: line 44, field 'datafile'" in err and "--loads-data" in err and "walk_IK.mot" not in err
    r = invoke("analyze", motion, "--loads", xml, "--loads-data", folder / "subject01_walk_grf.mot",
               "--mass", "72.6", "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    given = json.loads(r.stdout)["analysis"]["kinetics"]
    assert given["source"] == "force plates"
    (tmp_path / "subject01_walk_grf.mot").write_bytes((folder / "subject01_walk_grf.mot").read_bytes())
    r = invoke("analyze", motion, "--loads", xml, "--mass", "72.6", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["analysis"]["kinetics"] == given
    r = runner.invoke(app, ["analyze", str(motion), "--loads-data", str(folder / "subject01_walk_grf.mot")])
    assert r.exit_code == 2 and "--loads-data is the data file of an ExternalLoads .xml" in " ".join(r.output.split())


def test_analyze_grade_agrees_with_the_faults_it_reports(refdata):
    """squats1 is a clean squat (issue 22): OpenSim's IK of the trial flexes the spine 48 deg and leans the
    hip-to-shoulder line 45 deg beyond the shins, inside a clean squat's range, so no repetition has a fault
    and the wave grade stands uncapped; the recognition is one flat object."""
    r = invoke("analyze", refdata(SQUATS + ".mot"), "-e", "squat", "--no-kinetics", "--json")
    assert r.exit_code == 0, r.output
    a = json.loads(r.stdout)["analysis"]
    assert [rep["faults"] for rep in a["reps"]] == [[]] * 5
    assert a["grade"] in ("A", "B") and not a.get("grade_cap")
    assert a["recognition"]["exercise"] == "squat" and a["recognition"]["from"] == "given (--exercise)"


def test_a_real_labelled_fault_caps_the_grade(refdata):
    """A real person's deep squat done wrong (UI-PRMD s03, the labelled incorrect episode) is screened by
    the real-data form model, which finds a pronounced fault: the grade is capped to agree with it. The
    same person's correct episode keeps its grade, uncapped."""
    folder = "labelled/uiprmd_kinect/{}/Positions/m01_s03_e01_positions{}.txt.gz"
    r = invoke("analyze", refdata(folder.format("incorrect", "_inc")), "--json")
    assert r.exit_code == 0, r.output
    a = json.loads(r.stdout)["analysis"]
    assert any(rep["faults"] for rep in a["reps"]) and a["recognition"]["exercise"] == "deep_squat"
    assert a["grade"] in ("C", "D", "F") and a["grade_cap"] == f"at most {a['grade']} with a pronounced fault"
    r = invoke("analyze", refdata(folder.format("correct", "")), "--json")
    assert r.exit_code == 0, r.output
    a = json.loads(r.stdout)["analysis"]
    assert not any(rep["faults"] for rep in a["reps"]) and not a.get("grade_cap")
