"""Frame reading (musclepose.io.video): containers written here by OpenCV, image folders, rotation, bad files."""

from __future__ import annotations

import numpy as np
import pytest

from musclepose.io.errors import FormatError
from musclepose.io.video import CameraSource, is_video_input, open_video, rotate_upright

cv2 = pytest.importorskip("cv2")


def _write(path, n=12, fps=25.0, size=(64, 48), fourcc="mp4v"):
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert w.isOpened()
    for i in range(n):
        w.write(np.full((size[1], size[0], 3), (10 * i) % 250, np.uint8))
    w.release()
    return path


@pytest.mark.parametrize(("suffix", "fourcc"), [(".mp4", "mp4v"), (".mov", "mp4v"), (".avi", "MJPG")])
def test_containers_stream_frames_with_their_timestamps(tmp_path, suffix, fourcc):
    src = open_video(_write(tmp_path / f"clip{suffix}", n=12, fps=25.0, fourcc=fourcc))
    frames = list(src)
    assert src.size == (64, 48) and src.fps == pytest.approx(25.0)
    assert [f.index for f in frames] == list(range(12))
    # Presentation times from the container: 1/25 s apart.
    assert np.diff([f.time_s for f in frames]) == pytest.approx(np.full(11, 0.04), abs=2e-3)
    # Frame content survives the codec: brightness rises 10 per frame.
    assert [int(round(f.image.mean() / 10)) for f in frames] == list(range(12))
    assert src.truncated_at is None


def test_image_folder_in_name_order_at_the_given_rate(tmp_path):
    for i in (2, 0, 1):
        cv2.imwrite(str(tmp_path / f"f{i:03d}.png"), np.full((20, 30, 3), 50 * i, np.uint8))
    assert is_video_input(tmp_path)
    frames = list(open_video(tmp_path, fps=10.0))
    assert [f.time_s for f in frames] == pytest.approx([0.0, 0.1, 0.2])
    assert [int(f.image.mean()) for f in frames] == [0, 50, 100]


def test_not_a_video_and_empty_files_name_the_file(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is text, not a video\n" * 50)
    with pytest.raises(FormatError, match="notes.mp4"):
        open_video(bad)
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(FormatError, match="empty file"):
        open_video(tmp_path / "empty.mp4")
    (tmp_path / "y.xyz").write_bytes(b"123")
    with pytest.raises(FormatError, match="not a video file type"):
        open_video(tmp_path / "y.xyz")


def test_truncated_video_is_an_error_or_says_where_it_stopped(tmp_path):
    path = _write(tmp_path / "cut.avi", n=60, fourcc="MJPG", size=(160, 120))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    try:
        src = open_video(path)
    except FormatError as err:
        assert "cut.avi" in str(err)
        return
    n = sum(1 for _ in src)
    assert n < 60
    assert src.truncated_at == n


def test_rotation_metadata_turns_frames_clockwise():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    for deg, code in ((90, cv2.ROTATE_90_CLOCKWISE), (180, cv2.ROTATE_180), (270, cv2.ROTATE_90_COUNTERCLOCKWISE)):
        assert np.array_equal(rotate_upright(img, deg), cv2.rotate(img, code))
    assert rotate_upright(img, 0) is img


def test_fake_camera_source_streams_until_the_grab_ends():
    frames = iter([np.zeros((4, 6, 3), np.uint8)] * 5)
    src = CameraSource(grab=lambda: next(frames, None))
    got = list(src)
    assert len(got) == 5 and src.size == (6, 4)
    assert all(b.time_s >= a.time_s for a, b in zip(got, got[1:], strict=False))
    many = CameraSource(grab=lambda: np.zeros((4, 6, 3), np.uint8), max_frames=7)
    assert len(list(many)) == 7
