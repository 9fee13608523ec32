"""OpenSim readers and writers against the real reference recordings and mutated copies of them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from musclepose.io import FormatError
from musclepose.io.opensim import (
    MarkerData,
    read_external_loads,
    read_osim_bodies,
    read_osim_markers,
    read_table,
    read_trc,
    write_table,
    write_trc,
)

SQUATS_TRC = "mocap/addbiomechanics_expert1/squats1.trc"
SQUATS_MOT = "mocap/addbiomechanics_expert1/squats1.mot"
GAIT = "kinetics/opensim_gait10dof18musc/"


def _lines(path: Path) -> list[str]:
    return path.read_text().replace("\r\n", "\n").split("\n")


def _mutate(src: Path, dst: Path, edit) -> Path:
    """Write ``edit(lines)`` of ``src`` to ``dst`` (the bad-file factory)."""
    lines = _lines(src)
    dst.write_text("\n".join(edit(lines)))
    return dst


def _raises(path: Path, *fragments: str) -> FormatError:
    with pytest.raises(FormatError) as info:
        (read_trc if path.suffix == ".trc" else read_table)(path)
    msg = str(info.value)
    assert path.name in msg
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in {msg!r}"
    return info.value


# ============================================================================ TRC
@pytest.fixture(scope="module")
def squats(refdata) -> MarkerData:
    return read_trc(refdata(SQUATS_TRC))


def test_trc_squats_counts_units_and_values(refdata, squats):
    assert len(squats.names) == 51 and squats.positions.shape == (1302, 51, 3)
    assert squats.fps == 100.0 and squats.units_in_file == "mm"
    lines = _lines(refdata(SQUATS_TRC))
    first, last = lines[6].split("\t"), lines[1307].split("\t")
    assert squats.names[0] == "r_knee" == lines[3].split("\t")[2]
    # mm in the file -> m: the first value of the first marker, and the last marker's last Z.
    assert squats.positions[0, 0, 0] == float(first[2]) / 1000 == pytest.approx(-0.22452613)
    assert squats.positions[-1, -1, 2] == pytest.approx(float(last[2 + 3 * 51 - 1]) / 1000, abs=1e-15)
    assert squats.times[1] == pytest.approx(0.01) and squats.times[-1] == pytest.approx(13.01)
    assert np.isfinite(squats.positions).all()
    # Y-up lab data: knee marker about half a metre above the floor.
    assert 0.3 < np.median(squats.marker("r_knee")[:, 1]) < 0.7


def test_trc_gait_60hz(refdata):
    m = read_trc(refdata(GAIT + "subject01_walk.trc"))
    assert (len(m.names), m.n_frames, m.fps) == (41, 151, 60.0)
    assert m.names[0] == "R.ASIS" and m.positions[0, 0] == pytest.approx([0.61724762, 1.05527502, 0.17078198])


def test_trc_round_trip(tmp_path, squats):
    pos = squats.positions[:50].copy()
    pos[3, 4] = np.nan  # a missing sample survives as blank cells
    m = MarkerData(None, squats.names, pos, squats.fps, squats.times[:50], "mm")
    for units in ("mm", "m", "cm"):
        out = tmp_path / f"rt_{units}.trc"
        write_trc(out, m, units=units)
        back = read_trc(out)
        assert back.names == m.names and back.fps == m.fps and back.units_in_file == units
        np.testing.assert_allclose(back.times, m.times, rtol=0, atol=1e-15)
        np.testing.assert_allclose(back.positions, pos, rtol=1e-14, atol=1e-15, equal_nan=True)
        assert np.isnan(back.positions[3, 4]).all() and np.isfinite(back.positions[3, 5]).all()
    assert not list(tmp_path.glob(".*.tmp"))


def test_trc_blank_cells_become_nan(tmp_path, refdata, squats):
    def blank(lines):
        cells = lines[9].split("\t")
        cells[2 + 3 * 7 : 2 + 3 * 8] = ["", "", ""]  # marker 8, frame 4
        lines[9] = "\t".join(cells)
        return lines

    m = read_trc(_mutate(refdata(SQUATS_TRC), tmp_path / "blank.trc", blank))
    assert np.isnan(m.positions[3, 7]).all()
    assert np.isnan(m.positions).sum() == 3
    np.testing.assert_array_equal(m.positions[4], squats.positions[4])


def _set_cell(row: int, col: int, text: str):
    def edit(lines):
        cells = lines[row].split("\t")
        cells[col] = text
        lines[row] = "\t".join(cells)
        return lines

    return edit


TRC_BAD = {
    "empty": (lambda lines: [], ["empty file"]),
    "header_only": (lambda lines: lines[:6], ["no data rows"]),
    "not_trc": (lambda lines: ["hello"] + lines[1:], ["line 1", "PathFileType"]),
    "truncated_last_row": (lambda lines: lines[:-2] + [lines[-2][:200]], ["line 1308", "frame 1302", "truncated"]),
    "garbled_number": (_set_cell(6, 2, "-224.5x613"), ["line 7", "frame 1", "'r_knee.X'", "not a number"]),
    "inf": (_set_cell(8, 4, "inf"), ["line 9", "frame 3", "'r_knee.Z'", "not a finite"]),
    "missing_column": (
        lambda lines: lines[:10] + ["\t".join(lines[10].split("\t")[:-5])] + lines[11:],
        ["line 11", "frame 5", "cells, expected 155"],
    ),
    "wrong_units": (lambda lines: lines[:2] + [lines[2].replace("mm", "furlong")] + lines[3:], ["line 3", "'Units'"]),
    "numframes_mismatch": (lambda lines: lines[:-2] + [""], ["line 3", "'NumFrames'", "1301 data rows"]),
    "nummarkers_mismatch": (
        lambda lines: lines[:2] + [lines[2].replace("\t51\t", "\t50\t")] + lines[3:],
        ["line 4", "'NumMarkers'"],
    ),
    "all_markers_missing": (
        lambda lines: lines[:6] + ["\t".join(s.split("\t")[:2]) for s in lines[6:] if s] + [""],
        ["'r_knee'", "no marker has samples"],
    ),
    "blank_time": (_set_cell(12, 1, ""), ["line 13", "frame 7", "'Time'", "missing value"]),
    "half_blank": (_set_cell(20, 3, ""), ["line 21", "frame 15", "'r_knee'", "partly blank"]),
    "time_goes_back": (_set_cell(30, 1, "0.1"), ["line 31", "frame 25", "'Time'", "does not increase"]),
    "bad_datarate": (
        lambda lines: lines[:2] + [lines[2].replace("100.0", "fast", 1)] + lines[3:],
        ["line 3", "'DataRate'"],
    ),
}


@pytest.mark.parametrize("case", sorted(TRC_BAD))
def test_trc_malformed(tmp_path, refdata, case):
    edit, fragments = TRC_BAD[case]
    _raises(_mutate(refdata(SQUATS_TRC), tmp_path / f"{case}.trc", edit), *fragments)


def _blank_markers(first: int, last_n: int, strip_tail: bool):
    """Blank marker index ``first`` in every frame and the last ``last_n`` markers (cells dropped
    from every row when ``strip_tail``, as tools that trim trailing tabs write them)."""

    def edit(lines):
        out = lines[:6]
        for s in lines[6:]:
            if not s:
                continue
            cells = s.rstrip("\t").split("\t")
            cells[2 + 3 * first : 5 + 3 * first] = ["", "", ""]
            cells = cells[: -3 * last_n] if strip_tail else cells[: -3 * last_n] + [""] * (3 * last_n)
            out.append("\t".join(cells))
        return out + [""]

    return edit


@pytest.mark.parametrize("strip_tail", [False, True])
def test_trc_markers_without_samples_are_skipped_with_a_warning(tmp_path, refdata, squats, strip_tail):
    # Virtual markers (e.g. joint centres a tool did not compute) blank in every frame: OpenSim
    # reads such a file, so do we, leaving them out and naming them.
    path = _mutate(refdata(SQUATS_TRC), tmp_path / "virtual.trc", _blank_markers(4, 2, strip_tail))
    with pytest.warns(UserWarning, match=r"virtual\.trc: skipped 3 marker\(s\) with no samples") as rec:
        m = read_trc(path)
    gone = [squats.names[4], *squats.names[-2:]]
    assert all(n in str(rec[0].message) for n in gone)
    assert m.skipped == gone and len(m.names) == 48 and not set(gone) & set(m.names)
    keep = [squats.names.index(n) for n in m.names]
    np.testing.assert_array_equal(m.positions, squats.positions[:, keep])
    # Rows cut short in the middle of a marker, or only some rows short, are still truncation.
    ragged = _mutate(
        path, tmp_path / "ragged.trc", lambda lines: lines[:-2] + ["\t".join(lines[-2].split("\t")[:-2]), ""]
    )
    with pytest.raises(FormatError, match="truncated"):
        read_trc(ragged)


def test_trc_with_a_blank_virtual_marker_goes_through_inverse_kinematics(tmp_path, refdata):
    from musclepose.io import load_motion

    src = refdata(GAIT + "subject01_walk.trc")
    for name in ("subject01.osim",):
        (tmp_path / name).write_bytes(refdata(GAIT + name).read_bytes())

    def add_blank(lines):  # a 42nd marker, blank throughout
        lines[2] = lines[2].replace("\t41\t", "\t42\t")
        lines[3] += "\tV.HJC\t\t"
        lines[4] += "\tX42\tY42\tZ42"
        return lines[:6] + [s + "\t\t\t" for s in lines[6:] if s] + [""]

    trc = _mutate(src, tmp_path / "walk.trc", add_blank)
    with pytest.warns(UserWarning, match="V.HJC"):
        motion = load_motion(trc, mass_kg=72.6, fps=20.0)  # 51 frames: enough to show it solves
    with pytest.warns(UserWarning, match="V.HJC"):
        assert read_trc(trc).names == read_trc(src).names
    assert motion.n_frames == 51 and motion.metadata["marker_rms_m"] < 0.03


# ============================================================================ .mot / .sto
def test_mot_squats_header_and_values(refdata):
    path = refdata(SQUATS_MOT)
    t = read_table(path)
    assert t.in_degrees is True and t.header["name"] == "Coordinates"
    assert t.data.shape == (1302, 36) and t.columns[:3] == ["time", "pelvis_tilt", "pelvis_list"]
    lines = _lines(path)
    assert lines[10].split("\t")[0] == "time"
    row = lines[11].split()  # the first data row, line 12
    assert t.column("pelvis_tilt")[0] == float(row[1]) == -6.59568123
    assert t.data[0, 7] == float(row[7])
    assert t.time[-1] == 13.01 and np.all(np.diff(t.time) > 0)
    with pytest.raises(KeyError, match="pelvis_tilt"):
        t.column("no_such_column")


def test_sto_inverse_dynamics_and_grf(refdata):
    ident = read_table(refdata(GAIT + "subject01_walk_ID.sto"))
    assert ident.in_degrees is False and ident.header["name"] == "Inverse Dynamics Generalized Forces"
    assert ident.data.shape == (151, 11) and ident.time[0] == -0.0000005
    assert ident.column("knee_angle_r_moment")[0] == -43.84569114
    grf = read_table(refdata(GAIT + "subject01_walk_grf.mot"))  # header lines end in stray tabs
    assert grf.data.shape == (1501, 19) and grf.in_degrees is True
    # Independent physics: subject01 (72.6 kg model) loads the right plate at heel strike.
    assert grf.column("ground_force_vy")[0] == 745.4661142


def test_table_round_trip_exact(tmp_path, refdata):
    t = read_table(refdata(SQUATS_MOT))
    for in_deg in (True, False, None):
        out = tmp_path / "rt.sto"
        write_table(out, t.columns, t.data, in_deg, name="squats")
        back = read_table(out)
        assert back.columns == t.columns and back.in_degrees is in_deg and back.header["name"] == "squats"
        np.testing.assert_array_equal(back.data, t.data)
    text = out.read_text().split("\n")
    assert text[:4] == ["squats", "version=1", "nRows=1302", "nColumns=36"] and text[4] == "endheader"
    with pytest.raises(ValueError, match="time"):
        write_table(out, t.columns[::-1], t.data, True)
    bad = t.data.copy()
    bad[3, 3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        write_table(out, t.columns, bad, True)
    np.testing.assert_array_equal(read_table(out).data, t.data)  # failed writes left the file alone


def test_table_other_headers_and_spaces(tmp_path, refdata):
    ref = read_table(refdata(GAIT + "subject01_walk_IK.mot"))
    body = _lines(refdata(GAIT + "subject01_walk_IK.mot"))[10:]
    opensim4 = ["IK", "OpenSimVersion=4.5", "DataType=double", "version=3", "inDegrees=yes", "endheader"]
    simm = ["IK", "datacolumns 11", "datarows 151", "range 0.0 2.5", "endheader"]
    for name, head in (("v4", opensim4), ("simm", simm)):
        p = tmp_path / f"{name}.mot"
        p.write_text("\n".join(head + body))
        t = read_table(p)
        np.testing.assert_array_equal(t.data, ref.data)
        assert t.columns == ref.columns
    spaced = tmp_path / "spaces.mot"
    spaced.write_text("\n".join(_lines(refdata(GAIT + "subject01_walk_IK.mot"))).replace("\t", "   "))
    np.testing.assert_array_equal(read_table(spaced).data, ref.data)
    assert read_table(tmp_path / "simm.mot").in_degrees is None


def _mot_cell(row: int, col: int, text: str):
    def edit(lines):
        cells = lines[row].split("\t")
        cells[col] = text
        lines[row] = "\t".join(cells)
        return lines

    return edit


MOT_BAD = {
    "empty": (lambda lines: ["", ""], ["empty file"]),
    "no_endheader": (lambda lines: lines[:9] + lines[10:], ["no 'endheader'"]),
    "header_only": (lambda lines: lines[:10], ["line 10", "no column labels"]),
    "labels_only": (lambda lines: lines[:11] + [""], ["line 11", "no data rows"]),
    "truncated_last_row": (lambda lines: lines[:-2] + [lines[-2][:100]], ["line 1313", "expected 36", "truncated"]),
    "garbled_number": (_mot_cell(11, 1, "     -6.59x68123"), ["line 12", "'pelvis_tilt'", "not a number"]),
    "nan": (_mot_cell(20, 5, "nan"), ["line 21", "'pelvis_ty'", "not finite"]),
    "inf": (_mot_cell(30, 2, "-inf"), ["line 31", "'pelvis_list'", "not finite"]),
    "missing_column": (
        lambda lines: lines[:10] + [lines[10].replace("pelvis_list\t", "")] + lines[11:],
        ["line 4", "'nColumns'", "36 columns"],
    ),
    "nrows_mismatch": (lambda lines: lines[:-2] + [""], ["line 3", "'nRows'", "1301"]),
    "bad_indegrees": (
        lambda lines: [s.replace("inDegrees=yes", "inDegrees=maybe") for s in lines],
        ["line 5", "'inDegrees'"],
    ),
    "vec3": (lambda lines: lines[:2] + ["DataType=Vec3"] + lines[2:], ["line 3", "Vec3"]),
    "no_time": (lambda lines: lines[:10] + [lines[10].replace("time", "t")] + lines[11:], ["line 11", "'t'", "'time'"]),
    "time_repeats": (_mot_cell(40, 0, "      0.28000000"), ["line 41", "'time'", "does not increase"]),
}


@pytest.mark.parametrize("case", sorted(MOT_BAD))
def test_table_malformed(tmp_path, refdata, case):
    edit, fragments = MOT_BAD[case]
    _raises(_mutate(refdata(SQUATS_MOT), tmp_path / f"{case}.mot", edit), *fragments)


# ============================================================================ .osim and ExternalLoads
def test_osim_markers_opensim4(refdata):
    path = refdata(GAIT + "subject01.osim")
    markers = read_osim_markers(path)
    text = path.read_text()
    assert len(markers) == len(re.findall(r"<Marker name=", text)) == 39
    body, loc = markers["Sternum"]
    assert body == "torso"
    np.testing.assert_array_equal(loc, [0.103606, 0.31243900000000002, 1.0431799999999999e-06])
    generic = read_osim_markers(refdata("mocap/addbiomechanics_expert1/generic.osim"))
    assert len(generic) == 49 and generic["C7"][0] == "torso"
    # The trial's markers pair with the model's by name, except the 10 arm and temple markers
    # that the armless gait10dof18musc model does not carry.
    trc = read_trc(refdata(GAIT + "subject01_walk.trc"))
    unmatched = set(trc.names) - set(markers)
    assert len(set(trc.names) & set(markers)) == 31 and len(unmatched) == 10
    assert all(any(k in n for k in ("Elbow", "Bicep", "Wrist", "Temple")) for n in unmatched)


def test_osim_bodies_opensim4(refdata):
    path = refdata(GAIT + "subject01.osim")
    bodies = read_osim_bodies(path)
    text = path.read_text()
    bodyset = text[text.index("<BodySet") : text.index("</BodySet>")]
    masses = [float(m) for m in re.findall(r"<mass>([^<]+)</mass>", bodyset)]
    assert len(bodies) == len(masses) == 12
    assert sum(b.mass for b in bodies.values()) == pytest.approx(sum(masses)) == pytest.approx(72.6, abs=0.01)
    parents = {n: b.parent for n, b in bodies.items()}
    assert parents["pelvis"] == "ground" and parents["femur_r"] == "pelvis" and parents["torso"] == "pelvis"
    assert parents["calcn_l"] == "talus_l" and parents["toes_r"] == "calcn_r"
    np.testing.assert_allclose(np.diag(bodies["pelvis"].inertia), [0.104234, 0.0883147, 0.0587075])
    np.testing.assert_allclose(bodies["pelvis"].mass_center, [-0.0724378, 0, 0])


OSIM3 = """<?xml version="1.0" encoding="UTF-8"?>
<OpenSimDocument Version="30000">
  <Model name="old">
    <BodySet><objects>
      <Body name="ground"><mass>0</mass><mass_center>0 0 0</mass_center></Body>
      <Body name="pelvis"><mass>10.5</mass><mass_center>-0.07 0 0</mass_center>
        <inertia_xx>0.1</inertia_xx><inertia_yy>0.09</inertia_yy><inertia_zz>0.05</inertia_zz>
        <inertia_xy>0</inertia_xy><inertia_xz>0</inertia_xz><inertia_yz>0.01</inertia_yz>
        <Joint><CustomJoint name="ground_pelvis"><parent_body>ground</parent_body></CustomJoint></Joint>
      </Body>
    </objects></BodySet>
    <MarkerSet><objects>
      <Marker name="RASI"><body>pelvis</body><location>0.01 0.02 0.13</location></Marker>
    </objects></MarkerSet>
  </Model>
</OpenSimDocument>
"""


def test_osim_opensim3_style(tmp_path):
    p = tmp_path / "old.osim"
    p.write_text(OSIM3)
    body, loc = read_osim_markers(p)["RASI"]
    assert body == "pelvis" and loc.tolist() == [0.01, 0.02, 0.13]
    pelvis = read_osim_bodies(p)["pelvis"]
    assert pelvis.parent == "ground" and pelvis.mass == 10.5
    assert pelvis.inertia[1, 2] == pelvis.inertia[2, 1] == 0.01 and pelvis.inertia[0, 0] == 0.1


def test_osim_malformed(tmp_path, refdata):
    text = refdata(GAIT + "subject01.osim").read_text()
    cut = tmp_path / "cut.osim"
    cut.write_text(text[: len(text) // 2])
    with pytest.raises(FormatError, match=r"cut\.osim: line \d+: not well-formed"):
        read_osim_markers(cut)
    bad = tmp_path / "bad.osim"
    bad.write_text(OSIM3.replace("0.01 0.02 0.13", "0.01 zero 0.13"))
    with pytest.raises(FormatError, match=r"bad\.osim: line 13, field 'RASI\.location'"):
        read_osim_markers(bad)
    empty = tmp_path / "empty.osim"
    empty.write_text("")
    with pytest.raises(FormatError, match="empty"):
        read_osim_bodies(empty)


def test_external_loads(refdata):
    specs = read_external_loads(refdata(GAIT + "subject01_walk_grf.xml"))
    assert [s.name for s in specs] == ["right", "left"]
    right, left = specs
    assert right.applied_to_body == "calcn_r" and left.applied_to_body == "calcn_l"
    assert right.force_expressed_in_body == right.point_expressed_in_body == "ground"
    assert (right.force_identifier, right.point_identifier, right.torque_identifier) == (
        "ground_force_v",
        "ground_force_p",
        "ground_torque_",
    )
    assert left.force_identifier == "1_ground_force_v" and right.data_source_name is None and right.enabled
    assert right.datafile == refdata(GAIT + "subject01_walk_grf.mot")
    grf = read_table(right.datafile)
    for spec in specs:
        for col in (*spec.force_columns, *spec.point_columns, *spec.torque_columns):
            assert col in grf.columns
    # Physics: over the 2.5 s (about one stride) the two feet carry roughly body weight on average.
    vertical = grf.column(right.force_columns[1]) + grf.column(left.force_columns[1])
    assert 0.85 < vertical.mean() / (72.6 * 9.81) < 1.15


def test_external_loads_malformed(tmp_path, refdata):
    text = refdata(GAIT + "subject01_walk_grf.xml").read_text()
    p = tmp_path / "noforce.xml"
    p.write_text(text.replace("<force_identifier>1_ground_force_v</force_identifier>", ""))
    with pytest.raises(FormatError, match=r"noforce\.xml: line 23, field 'force_identifier'"):
        read_external_loads(p)


# ------------------------------------------------------------------ the <datafile> of an ExternalLoads
FOREIGN = r"C:\Users\someone\data\subject01_walk_grf.mot"


def _loads_folder(tmp_path: Path, refdata, stored: str, data_at: str | None) -> Path:
    """``grf.xml`` whose <datafile> says ``stored``, with the plate data copied to ``data_at``."""
    text = refdata(GAIT + "subject01_walk_grf.xml").read_text()
    xml = tmp_path / "study" / "grf.xml"
    xml.parent.mkdir()
    xml.write_text(text.replace("<datafile>subject01_walk_grf.mot</datafile>", f"<datafile>{stored}</datafile>"))
    if data_at is not None:
        (tmp_path / data_at).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / data_at).write_bytes(refdata(GAIT + "subject01_walk_grf.mot").read_bytes())
    return xml


@pytest.mark.parametrize(
    ("stored", "data_at"),
    [
        (FOREIGN, "study/subject01_walk_grf.mot"),  # another machine's absolute path: by name beside the XML
        ("/nowhere/lab/subject01_walk_grf.mot", "study/subject01_walk_grf.mot"),
        ("plates/walk.mot", "study/plates/walk.mot"),  # relative to the XML, not to the working folder
        (r"plates\walk.mot", "study/plates/walk.mot"),  # the same written on Windows
    ],
)
def test_external_loads_datafile_found_beside_the_xml(tmp_path, refdata, stored, data_at):
    from musclepose.io.loads import opensim_loads

    xml = _loads_folder(tmp_path, refdata, stored, data_at)
    spec = read_external_loads(xml)[0]
    assert spec.datafile == tmp_path / data_at and spec.datafile_stored == stored
    ours = opensim_loads(xml)
    ref = opensim_loads(refdata(GAIT + "subject01_walk_grf.xml"))
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_array_equal(a.force, b.force)
        np.testing.assert_array_equal(a.point, b.point)


def test_external_loads_missing_datafile_names_the_xml_and_can_be_given(tmp_path, refdata):
    from musclepose.io.loads import opensim_loads

    xml = _loads_folder(tmp_path, refdata, FOREIGN, None)
    with pytest.raises(FormatError) as info:
        opensim_loads(xml)
    msg = str(info.value)
    assert msg.startswith(f"{xml}: line 44, field 'datafile'") and "--loads-data" in msg and FOREIGN in msg
    # --loads-data: the data file given explicitly, wherever it is.
    data = tmp_path / "elsewhere" / "plates.mot"
    data.parent.mkdir()
    data.write_bytes(refdata(GAIT + "subject01_walk_grf.mot").read_bytes())
    records = opensim_loads(xml, datafile=data)
    assert [r.segment for r in records] == ["foot_r", "foot_l"] and records[0].source == str(data)
    with pytest.raises(FileNotFoundError, match=r"nothing\.mot: no such loads data file \(given for grf\.xml\)"):
        opensim_loads(xml, datafile=tmp_path / "nothing.mot")
    # A column the XML names but the data file lacks: the data file is named, and the XML too.
    bad = tmp_path / "elsewhere" / "cut.mot"
    bad.write_text(data.read_text().replace("1_ground_force_vy", "1_ground_force_vq"))
    with pytest.raises(FormatError, match=r"cut\.mot: field '1_ground_force_vy': ExternalForce 'left' of grf\.xml"):
        opensim_loads(xml, datafile=bad)
