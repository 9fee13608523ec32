"""Clip-JSON schema: round trips, defaults, and every way a clip file can be wrong."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from musclepose.io import FormatError, atomic_write
from musclepose.io.clip import CLIP_CHANNELS, Clip, read_clip, write_clip


def example_clip(n_frames: int = 90, fps: float = 30.0, seed: int = 0) -> dict:
    """A clip in the seed schema: a 3-rep squat-like signal on every channel (no real clip files exist)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames) / fps
    reps = 3 / (n_frames / fps)  # Hz
    obj = {
        name: (np.sin(2 * np.pi * reps * t + k) * (k + 1) + 0.01 * rng.standard_normal(n_frames)).tolist()
        for k, name in enumerate(CLIP_CHANNELS)
    }
    obj.update(
        wave_features={
            "quality": {"score": 0.8},
            "energy": {"total": 1.5},
            "damping": {"ratio": 0.1},
            "frequency": {"dominant_hz": reps},
            "harmonic": {"h2": 0.05},
            "waves": {"count": 3},
        },
        LANGUAGE="en",
        exercise="squat",
        fps=fps,
        n_frames=n_frames,
        expert=True,
        error_rate=[0.0, 0.25, 0.0],
        video_id="vid_001",
    )
    return obj


def _write(path: Path, obj) -> Path:
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return path


def test_read_example_clip(tmp_path):
    obj = example_clip()
    clip = read_clip(_write(tmp_path / "clip.json", obj))
    assert clip.n_frames == 90 and clip.fps == 30.0 and clip.exercise == "squat" and clip.expert is True
    assert clip.video_id == "vid_001" and clip.language == "en" and clip.error_rate == [0.0, 0.25, 0.0]
    assert clip.wave_features["frequency"]["dominant_hz"] == pytest.approx(1.0)
    arr = clip.as_array()
    assert arr.shape == (90, 7) and arr.dtype == np.float64
    for k, name in enumerate(CLIP_CHANNELS):  # columns in the schema's order, values exactly the file's
        assert arr[:, k].tolist() == obj[name]
    assert CLIP_CHANNELS[5] == "arm_Trajectory" and CLIP_CHANNELS[6] == "core_"


def test_round_trip_keeps_everything(tmp_path):
    obj = example_clip(n_frames=50)
    obj["annotator"] = {"name": "x", "version": 2}  # unknown keys survive
    clip = read_clip(_write(tmp_path / "a.json", obj))
    assert clip.extra == {"annotator": {"name": "x", "version": 2}}
    write_clip(tmp_path / "b.json", clip)
    again = json.loads((tmp_path / "b.json").read_text())
    assert again == obj
    assert list(again)[:7] == list(CLIP_CHANNELS)


def test_optional_fields_default(tmp_path):
    obj = example_clip()
    for key in ("wave_features", "LANGUAGE", "expert", "error_rate", "video_id"):
        del obj[key]
    clip = read_clip(_write(tmp_path / "min.json", obj))
    assert (clip.wave_features, clip.language, clip.expert, clip.error_rate, clip.video_id) == ({}, "", False, [], "")
    write_clip(tmp_path / "min2.json", clip)
    assert "wave_features" not in json.loads((tmp_path / "min2.json").read_text())


def _drop(key):
    def edit(obj):
        del obj[key]
        return obj

    return edit


def _set(key, value):
    def edit(obj):
        obj[key] = value
        return obj

    return edit


def _set_value(key, frame, value):
    def edit(obj):
        obj[key][frame] = value
        return obj

    return edit


BAD = {
    "missing_channel": (_drop("knee_angle_trajectory"), ["field 'knee_angle_trajectory'", "missing"]),
    "missing_fps": (_drop("fps"), ["field 'fps'", "missing"]),
    "missing_n_frames": (_drop("n_frames"), ["field 'n_frames'", "missing"]),
    "missing_exercise": (_drop("exercise"), ["field 'exercise'", "missing"]),
    "fps_string": (_set("fps", "30"), ["field 'fps'", "must be a number"]),
    "fps_zero": (_set("fps", 0), ["field 'fps'", "positive"]),
    "fps_negative": (_set("fps", -30.0), ["field 'fps'", "positive"]),
    "n_frames_float": (_set("n_frames", 90.0), ["field 'n_frames'", "integer"]),
    "n_frames_bool": (_set("n_frames", True), ["field 'n_frames'", "integer"]),
    "exercise_number": (_set("exercise", 3), ["field 'exercise'", "string"]),
    "expert_string": (_set("expert", "yes"), ["field 'expert'", "true or false"]),
    "language_list": (_set("LANGUAGE", ["en"]), ["field 'LANGUAGE'", "string"]),
    "channel_not_list": (_set("core_", {"a": 1}), ["field 'core_'", "array"]),
    "length_mismatch": (
        lambda o: {**o, "back_trajectory": o["back_trajectory"][:-1]},
        ["field 'back_trajectory'", "89 values", "n_frames is 90"],
    ),
    "n_frames_wrong": (_set("n_frames", 91), ["field 'trajectory'", "90 values", "n_frames is 91"]),
    "nan": (_set_value("legs_trajectory", 17, float("nan")), ["frame 17", "field 'legs_trajectory'", "not finite"]),
    "inf": (_set_value("arm_Trajectory", 42, float("inf")), ["frame 42", "field 'arm_Trajectory'", "not finite"]),
    "null_value": (
        _set_value("shoulder_trajectory", 5, None),
        ["frame 5", "field 'shoulder_trajectory'", "not a number"],
    ),
    "bool_value": (_set_value("trajectory", 0, True), ["frame 0", "field 'trajectory'", "not a number"]),
    "string_value": (_set_value("core_", 89, "1.0"), ["frame 89", "field 'core_'", "not a number"]),
    "too_few_frames": (
        lambda o: {
            **{k: v[:1] for k, v in o.items() if k in CLIP_CHANNELS},
            **{k: v for k, v in o.items() if k not in CLIP_CHANNELS},
            "n_frames": 1,
        },
        ["field 'n_frames'", "at least 2"],
    ),
    "wave_not_dict": (_set("wave_features", [1, 2]), ["field 'wave_features'", "object"]),
    "wave_sub_not_dict": (
        lambda o: {**o, "wave_features": {**o["wave_features"], "damping": 0.3}},
        ["field 'wave_features.damping'", "object"],
    ),
    "error_rate_str": (_set("error_rate", "high"), ["field 'error_rate'", "array"]),
    "error_rate_nan": (_set("error_rate", [0.1, float("nan")]), ["field 'error_rate'", "element 1"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_clip(tmp_path, case):
    edit, fragments = BAD[case]
    path = _write(tmp_path / f"{case}.json", edit(example_clip()))  # json.dumps writes NaN/Infinity tokens
    with pytest.raises(FormatError) as info:
        read_clip(path)
    msg = str(info.value)
    assert path.name in msg
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in {msg!r}"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("", "empty file"), ("[1, 2]", "JSON object"), ('{"fps": 30,\n "n_frames": }', "line 2")],
)
def test_not_a_clip(tmp_path, text, fragment):
    path = _write(tmp_path / "bad.json", text)
    with pytest.raises(FormatError, match=fragment) as info:
        read_clip(path)
    assert "bad.json" in str(info.value)


def test_clip_validates_in_memory():
    good = {name: np.zeros(10) for name in CLIP_CHANNELS}
    with pytest.raises(ValueError, match="missing"):
        Clip(channels={k: v for k, v in good.items() if k != "core_"}, fps=30.0, exercise="squat")
    with pytest.raises(ValueError, match="equally long"):
        Clip(channels={**good, "core_": np.zeros(9)}, fps=30.0, exercise="squat")
    with pytest.raises(ValueError, match="fps"):
        Clip(channels=good, fps=0.0, exercise="squat")
    bad = {**good, "trajectory": np.r_[np.zeros(9), np.nan]}
    with pytest.raises(ValueError, match="frame 9"):
        Clip(channels=bad, fps=30.0, exercise="squat")


def test_write_is_atomic(tmp_path):
    path = tmp_path / "clip.json"
    clip = read_clip(_write(tmp_path / "src.json", example_clip()))
    write_clip(path, clip)
    before = path.read_bytes()
    broken = Clip(channels=clip.channels, fps=30.0, exercise="squat", wave_features={"energy": {"x": float("nan")}})
    with pytest.raises(ValueError):
        write_clip(path, broken)  # refused before anything is written
    with pytest.raises(RuntimeError), atomic_write(path) as f:
        f.write("half a fi")
        raise RuntimeError("crash mid-write")
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["clip.json", "src.json"]  # no temporary left behind
    with atomic_write(tmp_path / "new.txt") as f:
        f.write("done")
    assert (tmp_path / "new.txt").read_text() == "done"
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o666 & ~mask
    with pytest.raises(ValueError, match="write mode"):
        atomic_write(path, "a").__enter__()
