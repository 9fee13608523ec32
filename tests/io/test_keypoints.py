"""Keypoint JSON reader and writer, against the PushFit MediaPipe and MoveNet samples."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from musclepose.body.landmarks import COCO17, MEDIAPIPE33
from musclepose.io.errors import FormatError
from musclepose.io.keypoints import KeypointData, read_keypoints, write_keypoints

MEDIAPIPE = "keypoints/pushfit_format/mediapipe_correct10.json"
MOVENET = "keypoints/pushfit_format/movenet_correct10.json"


@pytest.fixture(scope="module")
def mediapipe(refdata) -> KeypointData:
    return read_keypoints(refdata(MEDIAPIPE))


@pytest.fixture(scope="module")
def movenet(refdata) -> KeypointData:
    return read_keypoints(refdata(MOVENET))


def test_mediapipe_sample(mediapipe, refdata):
    text = refdata(MEDIAPIPE).read_text()
    assert mediapipe.layout == "mediapipe33" and mediapipe.names == MEDIAPIPE33
    assert mediapipe.positions.shape == (45, 33, 3) and mediapipe.dims == 3
    assert mediapipe.normalized and mediapipe.image_size is None and mediapipe.fps is None
    # One frame (index 1) has no person: the text holds exactly one empty keypoint list.
    assert text.count('"keypoints": []') == 1
    assert mediapipe.empty_frames.tolist() == [1]
    assert np.isnan(mediapipe.positions[1]).all() and (mediapipe.confidence[1] == 0).all()
    assert np.isfinite(mediapipe.positions).all(axis=(1, 2)).sum() == 44 == text.count('"visibility"') // 33
    # Frame 0, nose, as written in the file.
    assert mediapipe.positions[0, 0].tolist() == [0.5505260825157166, 0.39645615220069885, -0.5706009864807129]
    assert mediapipe.confidence[0, 0] == 0.9898430109024048
    # Last frame, right_foot_index; and x spills past the image border (normalised, not clipped).
    assert mediapipe.positions[-1, 32].tolist() == [-0.26793208718299866, 0.7557543516159058, -0.2869046628475189]
    assert mediapipe.confidence[-1, 32] == 0.6158369183540344
    assert np.nanmin(mediapipe.positions[..., 0]) == pytest.approx(-0.30306920409202576)


def test_movenet_sample(movenet, refdata):
    doc = json.loads(refdata(MOVENET).read_text())
    assert movenet.layout == "coco17" and movenet.names == COCO17
    assert movenet.positions.shape == (45, 17, 2) and not movenet.normalized
    assert movenet.empty_frames.size == 0 and len(doc) == 45
    assert movenet.positions[0, 0].tolist() == [471.85604095458984, 145.12924432754517]
    assert movenet.confidence[0, 0] == 0.6871575117111206
    assert movenet.positions[-1, 16].tolist() == [8.941583633422852, 209.00349855422974]
    assert movenet.confidence[-1, 16] == 0.013781466521322727
    flat = np.array([[kp["x"], kp["y"], kp["score"]] for fr in doc for kp in fr["keypoints"]])
    np.testing.assert_array_equal(
        np.concatenate([movenet.positions, movenet.confidence[..., None]], -1), flat.reshape(45, 17, 3)
    )


def test_two_estimators_see_the_same_clip(mediapipe, movenet):
    # Same push-up clip through two estimators: after mapping MediaPipe's landmarks to
    # the COCO names, each pixel coordinate is an affine function of the normalised one.
    # A wrong keypoint order for either layout breaks this.
    idx = [MEDIAPIPE33.index(n) for n in COCO17]
    mp, mv = mediapipe.positions[:, idx, :2], movenet.positions
    ok = np.isfinite(mp[..., 0]) & (movenet.confidence > 0.3) & (mediapipe.confidence[:, idx] > 0.5)
    for axis in (0, 1):
        assert np.corrcoef(mp[..., axis][ok], mv[..., axis][ok])[0, 1] > 0.95


@pytest.mark.parametrize("fixture", ["mediapipe", "movenet"])
def test_write_read_round_trip(fixture, request, tmp_path):
    data: KeypointData = request.getfixturevalue(fixture)
    data = dataclasses.replace(data, fps=30.0)
    back = read_keypoints(write_keypoints(tmp_path / "kp.json", data))
    assert (back.layout, back.names, back.normalized, back.image_size) == (
        data.layout,
        data.names,
        data.normalized,
        None,
    )
    assert back.fps == 30.0
    np.testing.assert_array_equal(back.positions, data.positions)
    np.testing.assert_array_equal(back.confidence, data.confidence)
    assert read_keypoints(tmp_path / "kp.json", fps=25.0).fps == 25.0  # the argument wins
    doc = json.loads((tmp_path / "kp.json").read_text())
    assert doc["layout"] == data.layout and len(doc["frames"]) == 45


def test_generic_layout_with_missing_keypoints(tmp_path):
    frame = [[100.0 + i, 200.0 + i, 0.9] for i in range(17)]
    frame[3] = None
    doc = {"fps": 30, "layout": "coco17", "image_size": [640, 480], "frames": [frame, None, []]}
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc))
    d = read_keypoints(path)
    assert (d.layout, d.fps, d.image_size, d.normalized, d.n_frames) == ("coco17", 30.0, (640, 480), False, 3)
    assert d.positions[0, 4].tolist() == [104.0, 204.0] and d.confidence[0, 4] == 0.9
    assert np.isnan(d.positions[0, 3]).all() and d.confidence[0, 3] == 0.0
    assert d.empty_frames.tolist() == [1, 2]


def test_coco_results_list(tmp_path):
    def person(x0, score):
        kps = []
        for i in range(17):
            kps += [x0 + 10 * i, 50.0 + i, 2]
        kps[0:3] = [0, 0, 0]  # nose not labelled
        return {"image_id": None, "category_id": 1, "keypoints": kps, "score": score}

    entries = [person(100, 0.9), person(300, 0.5), person(200, 0.8)]
    entries[0]["image_id"], entries[1]["image_id"], entries[2]["image_id"] = 7, 3, 3
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(entries))
    d = read_keypoints(path)
    assert d.layout == "coco17" and d.n_frames == 2  # image 3 (best: score 0.8), then image 7
    assert d.positions[0, 1].tolist() == [210.0, 51.0] and d.positions[1, 1].tolist() == [110.0, 51.0]
    assert np.isnan(d.positions[:, 0]).all() and (d.confidence[:, 0] == 0).all()
    assert d.confidence[0, 1] == 1.0  # visibility flag 2 (labelled, visible)


def _frames(n=2, k=17, dims=2):
    """``n`` per-frame dicts of ``k`` keypoints with ``dims`` coordinates."""
    z = {"z": 0.1} if dims == 3 else {}
    return [{"keypoints": [{"x": 10.0 + i, "y": 20.0 + i, **z, "score": 0.5} for i in range(k)]} for _ in range(n)]


def _set(doc, t, i, key, value):
    doc[t]["keypoints"][i][key] = value
    return doc


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.json", "", ["empty file"]),
        ("syntax.json", '[\n{"keypoints": [\n{"x": 1,,}]}]', ["line 3", "invalid JSON"]),
        ("nokeys.json", _frames(1) + [{"points": []}], ["frame 1", "'keypoints'"]),
        ("count.json", [{"keypoints": _frames(1)[0]["keypoints"][:16]}], ["frame 0", "16 keypoints"]),
        ("mismatch.json", _frames(2) + _frames(1, 33), ["frame 2", "expected 17", "found 33"]),
        ("garbled.json", _set(_frames(3), 2, 9, "x", "12.5px"), ["frame 2", "left_wrist.x", "'12.5px'"]),
        ("nan.json", _set(_frames(3), 1, 15, "y", float("nan")), ["frame 1", "left_ankle.y", "not finite"]),
        ("inf.json", _set(_frames(3), 0, 0, "score", float("inf")), ["frame 0", "nose.score", "not finite"]),
        ("noy.json", [{"keypoints": [{"x": 1.0, "score": 1.0}] * 17}], ["frame 0", "nose.y", "missing 'y'"]),
        ("noconf.json", [{"keypoints": [{"x": 1.0, "y": 2.0}] * 33}], ["frame 0", "field 'nose'", "confidence"]),
        ("dims.json", _frames(1) + _frames(1, dims=3), ["frame 1", "field 'nose'", "3 coordinates, expected 2"]),
        ("layout.json", {"layout": "mediapipe33", "frames": [[[1, 2, 0.5]] * 17]}, ["layout", "17 keypoints"]),
        ("allempty.json", [{"keypoints": []}, {"keypoints": []}], ["no frame has a person"]),
        ("noframes.json", [], ["no frames"]),
        ("generic.json", {"layout": "coco17", "frames": [[[1, 2, 0.5]] * 16 + [[1, 2]]]}, ["frame 0", "right_ankle"]),
        ("name.json", [{"keypoints": [{"name": "snout", "x": 1, "y": 2, "score": 1}] * 17}], ["frame 0", "'snout'"]),
    ],
)  # fmt: skip
def test_malformed_files_name_frame_and_keypoint(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(FormatError) as err:
        read_keypoints(path)
    msg = str(err.value)
    assert name in msg
    for part in expected:
        assert part in msg, msg


def test_one_frame_and_names_reorder(tmp_path):
    kps = [
        {"name": n.upper(), "x": float(i), "y": 2.0 * i, "z": 0.0, "visibility": 0.7} for i, n in enumerate(MEDIAPIPE33)
    ]
    path = tmp_path / "one.json"
    path.write_text(json.dumps([{"keypoints": kps[::-1]}]))
    d = read_keypoints(path)
    assert d.n_frames == 1 and d.layout == "mediapipe33"
    np.testing.assert_array_equal(d.positions[0, :, 0], np.arange(33.0))  # reordered by name
    assert not d.normalized  # x reaches 32: pixels
