"""Bad input everywhere: truncated, garbled and edge-case versions of every format the readers take.

Each sample is cut from a real recording (a few frames, so the whole file runs in seconds)
and mutated: empty, header only, one frame, truncated at several byte offsets, a garbled
number, NaN, inf, an overflowing exponent, a wrong units string, missing columns or keys,
mismatched lengths, and seeded random byte flips. For every case a reader either succeeds
with finite output (some mutations are harmless) or raises a ``ValueError`` (normally
:class:`~musclepose.io.errors.FormatError`) whose message names the file and, unless the
problem is the whole file, the line, frame or field; never an ``IndexError``, ``KeyError``,
``UnicodeDecodeError``, ``struct.error`` or a crash from deep inside.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from musclepose.io.errors import FormatError

# Messages about the file as a whole, which have no line, frame or field to name.
WHOLE_FILE = (
    "empty file",
    "not a readable C3D",
    "not UTF-8",
    "no frames",
    "unrecognised keypoint JSON",
    "top level must be",
    "must be a JSON object",
    "no such file",
    "truncated",
    "cannot solve a pose",
    "cannot tell where the markers",
    "cannot map the skeleton",
    "no knee and ankle",
    "no frame shows",
    "values per row",
    "UI-PRMD",
    "keypoints are 2D",
    "cannot fit a body to the 2-D keypoints",
    "2-D keypoints need the image size",
    "no keypoint was detected",
    "is not a C3D",
    "time must increase uniformly",
    "does not match the positions file",
)


@dataclass(frozen=True)
class Fmt:
    """A file format: how to cut a small real sample, read it, and check a successful read."""

    name: str
    suffix: str
    sample: Callable[[Callable[[str], Path]], str]  # refdata -> small text sample
    read: Callable[[Path], Any]
    finite: Callable[[Any], bool]
    data_line: Callable[[list[str]], int]  # index of the first data line
    extra: tuple[tuple[str, Callable[[str], str]], ...] = ()


def _no_inf(*arrays: np.ndarray) -> bool:
    return all(not np.isinf(np.asarray(a, dtype=np.float64)).any() for a in arrays)


def _finite(*arrays: np.ndarray) -> bool:
    return all(np.isfinite(np.asarray(a, dtype=np.float64)).all() for a in arrays)


# ----------------------------------------------------------------------------- samples
def _trc_sample(refdata) -> str:
    lines = refdata("mocap/addbiomechanics_expert1/squats1.trc").read_text().splitlines()
    head = lines[:5]
    rows = [ln for ln in lines[5:] if ln.strip()][:4]
    cells = head[2].split("\t")
    cells[2] = cells[7] = "4"  # NumFrames, OrigNumFrames
    return "\n".join([*head[:2], "\t".join(cells), *head[3:], "", *rows]) + "\n"


def _table_sample(rel: str, n: int = 4) -> Callable:
    def make(refdata) -> str:
        lines = refdata(rel).read_text().splitlines()
        end = next(i for i, s in enumerate(lines) if s.strip().lower() == "endheader")
        head = [re.sub(r"^nRows=\d+", f"nRows={n}", s) for s in lines[: end + 2]]
        return "\n".join(head + lines[end + 2 : end + 2 + n]) + "\n"

    return make


def _bvh_sample(refdata) -> str:
    text = refdata("mocap/cmu/131_01.bvh").read_text()
    head, motion = text.split("MOTION", 1)
    mlines = motion.strip().splitlines()
    rows = [ln for ln in mlines[2:] if ln.strip()][:3]
    return head + "MOTION\nFrames: 3\n" + mlines[1].strip() + "\n" + "\n".join(rows) + "\n"


def _keypoints_sample(refdata) -> str:
    frames = json.loads(refdata("keypoints/pushfit_format/mediapipe_correct10.json").read_text())[:3]
    return json.dumps(frames, indent=1)


def _clip_sample(refdata) -> str:
    from musclepose.io.clip import Clip
    from musclepose.io.opensim import read_table
    from musclepose.io.opensim.coords import motion_from_opensim
    from musclepose.signals import compute_channels

    tmp = refdata("mocap/addbiomechanics_expert1/squats1.mot")
    table = read_table(tmp)
    table.data = table.data[:6]
    ch = compute_channels(motion_from_opensim(table))
    clip = Clip(channels=ch, fps=100.0, exercise="squat", video_id="squats1", wave_features={"quality": {}})
    return json.dumps(clip.to_json(), indent=1)


def _imu_sample(refdata) -> str:
    lines = refdata("imu/gaitmap/imu_sample.csv").read_text().splitlines()
    return "\n".join(lines[:6]) + "\n"


def _osim_sample(refdata) -> str:
    return refdata("kinetics/opensim_gait10dof18musc/subject01.osim").read_text()


def _first_data(pattern: str) -> Callable[[list[str]], int]:
    def find(lines: list[str]) -> int:
        for i, s in enumerate(lines):
            if re.match(pattern, s):
                return i
        return len(lines)

    return find


def _marker_location(lines: list[str]) -> int:
    """The first marker's ``<location>`` line (joint locations elsewhere are not read)."""
    start = next((i for i, s in enumerate(lines) if "<MarkerSet" in s), 0)
    return next((i for i in range(start, len(lines)) if "<location>" in lines[i]), len(lines))


def _table_data(lines: list[str]) -> int:
    end = next((i for i, s in enumerate(lines) if s.strip().lower() == "endheader"), len(lines) - 2)
    return min(end + 2, len(lines))


# ----------------------------------------------------------------------------- readers
def _read_trc(p: Path):
    from musclepose.io.opensim import read_trc

    return read_trc(p)


def _read_table(p: Path):
    from musclepose.io.opensim import read_table

    return read_table(p)


def _read_bvh(p: Path):
    from musclepose.io.bvh import read_bvh

    d = read_bvh(p)
    d.global_transforms()
    return d


def _read_keypoints(p: Path):
    from musclepose.io.keypoints import read_keypoints

    return read_keypoints(p)


def _read_clip(p: Path):
    from musclepose.io.clip import read_clip

    return read_clip(p)


def _read_imu(p: Path):
    from musclepose.io.imu import read_imu_csv

    return read_imu_csv(p, fps=102.4)


def _read_osim(p: Path):
    from musclepose.io.opensim import read_osim_bodies, read_osim_markers

    return read_osim_markers(p), read_osim_bodies(p)


def _sub(pattern: str, repl: str, count: int = 1) -> Callable[[str], str]:
    return lambda s: re.sub(pattern, repl, s, count=count, flags=re.MULTILINE)


FORMATS = [
    Fmt(
        "trc",
        ".trc",
        _trc_sample,
        _read_trc,
        lambda d: _finite(d.times, [d.fps]) and _no_inf(d.positions),
        _first_data(r"^\d+\t"),
        (
            ("units_furlongs", _sub(r"\tmm\t", "\tfurlongs\t")),
            ("units_missing", _sub(r"\tmm\t", "\t\t")),
            ("numframes_wrong", _sub(r"^(100\.0\t100\.0\t)4\t", r"\g<1>7\t")),
            ("nummarkers_wrong", _sub(r"^(100\.0\t100\.0\t4\t)51\t", r"\g<1>52\t")),
            ("datarate_zero", _sub(r"^100\.0\t", "0\t")),
            ("drop_marker_cells", _sub(r"(\t[^\t\n]+){3}$", "")),
            ("half_blank_triple", _sub(r"^(1\t[^\t]+\t)[^\t]+", r"\g<1>")),
            ("time_backwards", _sub(r"^2\t0\.01\d*", "2\t-1.0")),
            ("dup_marker_name", _sub(r"\tr_shank_antsup\t", "\tr_knee\t")),
        ),
    ),
    Fmt(
        "mot",
        ".mot",
        _table_sample("mocap/addbiomechanics_expert1/squats1.mot"),
        _read_table,
        lambda t: _finite(t.data),
        _table_data,
        (
            ("indegrees_maybe", _sub(r"inDegrees=yes", "inDegrees=maybe")),
            ("nrows_wrong", _sub(r"nRows=4", "nRows=9")),
            ("ncolumns_wrong", _sub(r"nColumns=36", "nColumns=35")),
            ("ncolumns_garbled", _sub(r"nColumns=36", "nColumns=3x6")),
            ("drop_label", _sub(r"\tpelvis_tilt", "")),
            ("dup_label", _sub(r"\tpelvis_list", "\tpelvis_tilt")),
            ("no_endheader", _sub(r"^endheader\n", "")),
            ("datatype_string", _sub(r"^version=1", "DataType=string")),
        ),
    ),
    Fmt(
        "sto",
        ".sto",
        _table_sample("kinetics/opensim_gait10dof18musc/subject01_walk_ID.sto"),
        _read_table,
        lambda t: _finite(t.data),
        _table_data,
        (("first_label_not_time", _sub(r"^time", "tim")),),
    ),
    Fmt(
        "bvh",
        ".bvh",
        _bvh_sample,
        _read_bvh,
        lambda d: _finite(d.motion, d.offsets, [d.frame_time]),
        _first_data(r"^-?\d"),
        (
            ("frames_wrong", _sub(r"^Frames: 3", "Frames: 5")),
            ("frames_garbled", _sub(r"^Frames: 3", "Frames: three")),
            ("frame_time_zero", _sub(r"^Frame Time: .*$", "Frame Time: 0")),
            ("frame_time_negative", _sub(r"^Frame Time: .*$", "Frame Time: -0.01")),
            ("unknown_channel", _sub(r"Xrotation", "Wrotation")),
            ("missing_brace", _sub(r"^\t}\n", "")),
            ("offset_garbled", _sub(r"OFFSET 1\.24777", "OFFSET 1..24777")),
            ("channels_count_wrong", _sub(r"CHANNELS 3", "CHANNELS 4")),
            ("no_motion", lambda s: s.split("MOTION")[0]),
        ),
    ),
    Fmt(
        "keypoints",
        ".json",
        _keypoints_sample,
        _read_keypoints,
        lambda k: _no_inf(k.positions) and _finite(k.confidence),
        _first_data(r"^\s+\"x\""),
        (
            ("missing_x", _sub(r"\"x\": [^,\n]+,", "")),
            ("string_value", _sub(r"(\"y\": )[^,\n]+", r'\g<1>"0.4"')),
            ("null_value", _sub(r"(\"z\": )[^,\n]+", r"\g<1>null")),
            ("nan_token", _sub(r"(\"x\": )[^,\n]+", r"\g<1>NaN")),
            ("keypoints_not_list", _sub(r"\"keypoints\": \[", '"keypoints": {"a": [', 1)),
            ("one_keypoint_less", lambda s: json.dumps([{"keypoints": f["keypoints"][:-1]} for f in json.loads(s)])),
            (
                "ragged_frames",
                lambda s: json.dumps([{"keypoints": f["keypoints"][: 33 - i]} for i, f in enumerate(json.loads(s))]),
            ),
            ("object_not_list", lambda s: json.dumps({"frames": 3})),
            ("empty_list", lambda s: "[]"),
        ),
    ),
    Fmt(
        "clip",
        ".json",
        _clip_sample,
        _read_clip,
        lambda c: _finite(c.as_array(), [c.fps]),
        _first_data(r"^  \d|^  -"),
        (
            ("missing_channel", lambda s: json.dumps({k: v for k, v in json.loads(s).items() if k != "core_"})),
            ("missing_fps", lambda s: json.dumps({k: v for k, v in json.loads(s).items() if k != "fps"})),
            ("length_mismatch", lambda s: json.dumps({**json.loads(s), "n_frames": 5})),
            ("fps_zero", lambda s: json.dumps({**json.loads(s), "fps": 0})),
            ("fps_string", lambda s: json.dumps({**json.loads(s), "fps": "100"})),
            ("n_frames_float", lambda s: json.dumps({**json.loads(s), "n_frames": 6.0})),
            ("channel_string_value", lambda s: json.dumps({**json.loads(s), "arm_Trajectory": ["1"] * 6})),
            ("channel_nested", lambda s: json.dumps({**json.loads(s), "arm_Trajectory": [[1.0]] * 6})),
            ("channel_null", lambda s: json.dumps({**json.loads(s), "trajectory": None})),
            ("wave_features_list", lambda s: json.dumps({**json.loads(s), "wave_features": []})),
            ("wave_quality_number", lambda s: json.dumps({**json.loads(s), "wave_features": {"quality": 3}})),
            ("nan_token", _sub(r"^( \"trajectory\": \[\n\s+)[^,\n]+", r"\g<1>NaN")),
            ("top_level_list", lambda s: "[" + s + "]"),
        ),
    ),
    Fmt(
        "imu",
        ".csv",
        _imu_sample,
        _read_imu,
        lambda d: _finite(d.time, *d.acc.values(), *d.gyro.values()),
        _first_data(r"^\d+,"),
        (
            ("drop_gyr_z_column", lambda s: "\n".join(",".join(r.split(",")[:-1]) for r in s.splitlines()) + "\n"),
            ("unknown_axis", _sub(r"gyr_z,gyr_z", "gyr_w,gyr_w")),
            ("empty_cell", _sub(r"^(1,)[^,]+", r"\g<1>")),
            ("short_row", _sub(r",[^,\n]+$", "")),
            ("no_header", lambda s: "\n".join(s.splitlines()[2:]) + "\n"),
            ("unit_header_furlongs", _sub(r"acc_x,acc_x", "acc_x [furlong/s^2],acc_x [furlong/s^2]")),
        ),
    ),
    Fmt(
        "osim",
        ".osim",
        _osim_sample,
        _read_osim,
        lambda r: all(_finite(loc) for _, loc in r[0].values()),
        _marker_location,
        (
            (
                "location_two_numbers",
                _sub(r"<location>\s*(\S+)\s+(\S+)\s+(\S+)\s*</location>", r"<location>\1 \2</location>"),
            ),
            ("location_garbled", _sub(r"<location>\s*(\S+)", r"<location>abc")),
            ("location_nan", _sub(r"<location>\s*(\S+)", r"<location>nan")),
            ("marker_no_name", _sub(r"<Marker name=\"[^\"]*\"", "<Marker")),
            ("no_markerset", lambda s: re.sub(r"<MarkerSet.*?</MarkerSet>", "", s, flags=re.DOTALL)),
            ("unclosed_tag", _sub(r"</Model>", "")),
        ),
    ),
]


def _mutations(fmt: Fmt, text: str) -> dict[str, bytes]:
    """Every mutation of ``text`` (the sample itself first): name -> file bytes."""
    lines = text.splitlines(keepends=True)
    d = fmt.data_line([ln.rstrip("\r\n") for ln in lines])
    data = "".join(lines[d:])
    m = re.search(r"-?\d+\.\d+", data)
    pos = len("".join(lines[:d])) + (m.start() if m else 0)
    end = pos + (len(m.group()) if m else 0)

    def at(repl: str) -> str:
        return text[:pos] + repl + text[end:]

    raw = text.encode()
    out = {
        "original": text,
        "crlf": text.replace("\n", "\r\n"),
        "empty": "",
        "blank": "\n \n\t\n",
        "header_only": "".join(lines[:d]),
        "one_frame": "".join(lines[: d + 1]),
        "garbled_number": at("1.2.3"),
        "letters": at("abc"),
        "nan": at("nan"),
        "inf": at("inf"),
        "overflow": at("1e999"),
        "blank_number": at(""),
        "drop_data_line": "".join(lines[: d + 1] + lines[d + 2 :]),
        "dup_data_line": "".join(lines[: d + 1] + lines[d:]),
    }
    for frac in (0.05, 0.3, 0.55, 0.8, 0.97):
        out[f"trunc_{frac:.2f}"] = raw[: int(len(raw) * frac)]
    out["trunc_last_byte"] = raw[:-2]
    for seed in range(6):
        rng = random.Random(seed)
        b = bytearray(raw)
        for _ in range(4):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        out[f"flip_{seed}"] = bytes(b)
    out["binary"] = random.Random(99).randbytes(300)
    for name, fn in fmt.extra:
        mutated = fn(text)
        assert mutated != text, f"{fmt.name}: mutation {name} did not change the sample"
        out[name] = mutated
    return {k: v.encode() if isinstance(v, str) else v for k, v in out.items()}


def check_outcome(
    read: Callable[[Path], Any], path: Path, finite: Callable[[Any], bool], also: tuple[Path, ...] = ()
) -> str:
    """Read ``path``; return "ok" or "error", failing the test on anything else.

    ``also``: companion files an error may name instead (the angles file beside a Kinect file).
    """
    try:
        result = read(path)
    except ValueError as err:  # FormatError is a ValueError
        msg = str(err)
        assert any(p.name in msg for p in (path, *also)), f"{type(err).__name__} without the file name: {msg}"
        located = isinstance(err, FormatError) and (err.line, err.frame, err.field) != (None, None, None)
        assert located or any(w in msg for w in WHOLE_FILE) or re.search(r"line|frame|field|column", msg), (
            f"{type(err).__name__} names no line, frame or field: {msg}"
        )
        return "error"
    except Exception as err:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{path.name}: {type(err).__name__} escaped the reader: {err!r}")
    assert finite(result), f"{path.name}: read without error but the output is not finite"
    return "ok"


@pytest.fixture(scope="module")
def samples(refdata) -> dict[str, str]:
    return {f.name: f.sample(refdata) for f in FORMATS}


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.name for f in FORMATS])
def test_reader_fuzz(fmt: Fmt, samples, tmp_path):
    outcomes = {}
    for name, data in _mutations(fmt, samples[fmt.name]).items():
        path = tmp_path / f"{fmt.name}_{name}{fmt.suffix}"
        path.write_bytes(data)
        outcomes[name] = check_outcome(fmt.read, path, fmt.finite)
    assert outcomes["original"] == "ok" and outcomes["crlf"] == "ok"
    # These must be refused whatever the format.
    for name in ("empty", "blank", "garbled_number", "letters", "inf", "binary", "trunc_0.30"):
        assert outcomes[name] == "error", f"{fmt.name}: {name} was accepted"
    assert list(outcomes.values()).count("error") >= len(outcomes) // 2


# ----------------------------------------------------------------------------- C3D (binary)
@pytest.fixture(scope="module")
def small_c3d(refdata, tmp_path_factory) -> bytes:
    """Five frames and eight Plug-in Gait markers of the Vicon walking trial, written by ezc3d."""
    ezc3d = pytest.importorskip("ezc3d")
    src = ezc3d.c3d(str(refdata("kinetics/vicon_plugingait_walk/walk.c3d")))
    labels = list(src["parameters"]["POINT"]["LABELS"]["value"])
    keep = [labels.index(n) for n in ("LASI", "RASI", "LPSI", "RPSI", "LKNE", "RKNE", "LANK", "RANK")]
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [100.0]
    c["parameters"]["POINT"]["LABELS"]["value"] = [labels[i] for i in keep]
    c["parameters"]["POINT"]["UNITS"]["value"] = ["mm"]
    c["data"]["points"] = np.asarray(src["data"]["points"])[:, keep, 60:65]
    path = tmp_path_factory.mktemp("c3d") / "small.c3d"
    c.write(str(path))
    return path.read_bytes()


def _c3d_mutations(raw: bytes) -> dict[str, bytes]:
    out = {
        "original": raw,
        "empty": b"",
        "text": b"PathFileType\t4\tnot a c3d\n",
        "binary": random.Random(5).randbytes(2048),
    }
    for off in (1, 2, 100, 511, 512, 530, 700, 1023, 1200, len(raw) - 300, len(raw) - 10):
        out[f"trunc_{off}"] = raw[:off]
    for seed in range(12):
        rng = random.Random(seed)
        b = bytearray(raw)
        for _ in range(3):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        out[f"flip_{seed}"] = bytes(b)
    # Bytes in the parameter section that made ezc3d crash (segfault) before it was checked first:
    # a LABELS dimension count of 0, and record offsets / types pointing anywhere.
    for i, v in ((550, 0), (675, 255), (698, 255), (714, 0), (752, 255), (1018, 255)):
        b = bytearray(raw)
        b[i] = v
        out[f"param_{i}_{v}"] = bytes(b)
    return out


def test_c3d_fuzz(small_c3d, tmp_path):
    from musclepose.io.c3d import read_c3d

    def read(p):
        d = read_c3d(p)
        return d.markers

    outcomes = {}
    for name, data in _c3d_mutations(small_c3d).items():
        path = tmp_path / f"c3d_{name}.c3d"
        path.write_bytes(data)
        outcomes[name] = check_outcome(read, path, lambda m: _finite(m.times, [m.fps]) and _no_inf(m.positions))
    assert outcomes["original"] == "ok"
    for name in ("empty", "text", "binary", "trunc_100", "trunc_1200"):
        assert outcomes[name] == "error", name


# ----------------------------------------------------------------------------- load_motion
@pytest.fixture(scope="module")
def kinect_sample(refdata) -> tuple[str, str]:
    pos = refdata("mocap/uiprmd_kinect/m01_s01_e01_positions.txt").read_text().splitlines()[:4]
    ang = refdata("mocap/uiprmd_kinect/m01_s01_e01_angles.txt").read_text().splitlines()[:4]
    return "\n".join(pos) + "\n", "\n".join(ang) + "\n"


def _load(path: Path):
    from musclepose.io.load import load_motion

    return load_motion(path)


def _q_finite(m) -> bool:
    return bool(np.isfinite(m.q.numpy()).all()) and m.n_frames >= 1


@pytest.mark.parametrize(
    "case", ["original", "nan", "inf", "letters", "short_row", "empty", "one_row", "angles_missing", "angles_short"]
)
def test_load_motion_kinect(case, kinect_sample, tmp_path):
    pos, ang = kinect_sample
    first = pos.split(",")[0]
    pos = {
        "nan": pos.replace(first, "nan", 1),
        "inf": pos.replace(first, "inf", 1),
        "letters": pos.replace(first, "x1", 1),
        "short_row": pos.rsplit(",", 1)[0] + "\n",
        "empty": "",
        "one_row": pos.splitlines()[0] + "\n",
    }.get(case, pos)
    path = tmp_path / "m01_s01_e01_positions.txt"
    path.write_text(pos)
    if case != "angles_missing":
        (tmp_path / "m01_s01_e01_angles.txt").write_text(ang if case != "angles_short" else ang.splitlines()[0])
    outcome = check_outcome(_load, path, _q_finite, also=(tmp_path / "m01_s01_e01_angles.txt",))
    # A NaN or inf joint is taken as missing (the pose is still solved from the others).
    if case in ("letters", "short_row", "empty", "one_row", "angles_missing", "angles_short"):
        assert outcome == "error"


@pytest.mark.parametrize("fmt_name", ["mot", "bvh", "keypoints"])
@pytest.mark.parametrize("case", ["original", "one_frame", "nan", "trunc_0.80", "flip_1"])
def test_load_motion_fuzz(fmt_name, case, samples, tmp_path):
    fmt = next(f for f in FORMATS if f.name == fmt_name)
    data = _mutations(fmt, samples[fmt_name])[case]
    path = tmp_path / f"{fmt_name}_{case}{fmt.suffix}"
    path.write_bytes(data)
    outcome = check_outcome(_load, path, _q_finite)
    if case == "original":
        assert outcome == "ok"


def test_load_motion_trc_and_c3d(samples, small_c3d, tmp_path):
    # A .trc of OpenSim marker names with no model beside it, and a tiny C3D: short IK problems.
    for name, data in (("trc_ok.trc", samples["trc"].encode()), ("small.c3d", small_c3d)):
        path = tmp_path / name
        path.write_bytes(data)
        check_outcome(_load, path, _q_finite)
    bad = bytearray(small_c3d)
    bad[550] = 0
    (tmp_path / "bad.c3d").write_bytes(bytes(bad))
    assert check_outcome(_load, tmp_path / "bad.c3d", _q_finite) == "error"


# ----------------------------------------------------------------------------- CLI
@pytest.mark.parametrize(
    ("fmt_name", "case", "command"),
    [
        ("trc", "empty", "analyze"),
        ("mot", "garbled_number", "analyze"),
        ("bvh", "trunc_0.55", "analyze"),
        ("clip", "missing_channel", "analyze"),
        ("keypoints", "nan_token", "convert"),
        ("mot", "nrows_wrong", "convert"),
        ("clip", "nan_token", "convert"),
    ],
)
def test_cli_bad_input_exits_2(fmt_name, case, command, samples, tmp_path):
    from typer.testing import CliRunner

    from musclepose.cli import app

    fmt = next(f for f in FORMATS if f.name == fmt_name)
    path = tmp_path / f"bad_{fmt_name}_{case}{fmt.suffix}"
    path.write_bytes(_mutations(fmt, samples[fmt_name])[case])
    args = [command, str(path)] + ([str(tmp_path / "out.json")] if command == "convert" else ["--json"])
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2, (r.exit_code, r.output, r.exception)
    assert path.name in r.output and r.output.count("\n") <= 3  # one line, no traceback
    assert not (tmp_path / "out.json").exists()
