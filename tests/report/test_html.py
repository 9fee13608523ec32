"""The HTML coaching report: self-contained, escaped, one inline PNG per figure, written atomically.

Independent references: the PNG file signature (ISO/IEC 15948) for the decoded figures; the
folder listing for what is left beside the report; the analysis' own repetition count for
the repetitions table.
"""

from __future__ import annotations

import base64
import os
import re

import pytest
import torch

from musclepose.body import Body
from musclepose.language.prompts import DetectedFault
from musclepose.motion.kinetics import compute_kinetics
from musclepose.pipelines.results import ClipResult
from musclepose.report import write_coach_report
from musclepose.signals import analyze_motion
from musclepose.sim import generate

IMG = '<img src="data:image/png;base64,'
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COACHING = "Keep your knees <b>out</b> & drive up.\nSecond line."
COACHING_ESCAPED = "Keep your knees &lt;b&gt;out&lt;/b&gt; &amp; drive up."


@pytest.fixture(scope="module")
def squat():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    body = Body.standard(1.75, 70.0, "male")
    motion = generate("squat", body, {"reps": 2, "depth_deg": 100.0, "fps": 50.0})
    kin = compute_kinetics(motion, cutoff_hz=None)
    analysis = analyze_motion(motion, exercise="squat", kinetics=kin)
    yield motion, kin, analysis
    torch.set_num_threads(n)


def _common():
    return {
        "title": "squat: <test> & clip.json",
        "coaching": COACHING,
        "summary_lines": ["Exercise: squat", "Reps: 2", "Depth < 90 deg & rising"],
    }


def _images(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)]


def test_full_report_is_escaped_self_contained_and_has_one_image_per_figure(squat, tmp_path):
    motion, kin, analysis = squat
    faults = [
        DetectedFault("knee_valgus", 0.83, 0.6, "l", 7.5, "deg", "hip adduction at the bottom"),
        DetectedFault("shallow <depth>", 0.1, 0.2),
    ]
    clip = ClipResult(analysis, motion=motion, kinetics=kin, faults=faults)
    out = write_coach_report(
        tmp_path / "report.html",
        clip,
        **_common(),
        reference_coaching="Rule coach: <i>sit back</i>",
        extra={"model": "SmolLM2 <135M>", "latency": "1.2 s"},
    )
    assert out == tmp_path / "report.html" and out.is_file()
    assert sorted(os.listdir(tmp_path)) == ["report.html"]  # no temporary or figure files beside it
    text = out.read_text(encoding="utf-8")

    assert COACHING_ESCAPED in text and "<b>out</b>" not in text
    assert "squat: &lt;test&gt; &amp; clip.json" in text
    assert "Rule coach: &lt;i&gt;sit back&lt;/i&gt;" in text
    assert "Depth &lt; 90 deg &amp; rising" in text
    assert "shallow &lt;depth&gt;, severity 0.20" in text and "83%" in text
    assert "knee valgus (left), severity 0.60 (hip adduction at the bottom)" in text
    assert "SmolLM2 &lt;135M&gt;" in text
    assert f">{analysis.grade}</div>" in text

    # Channels + joint angles (motion), moments + GRF + activations (kinetics with muscles).
    assert kin.activations is not None
    assert text.count(IMG) == 5
    images = _images(text)
    assert len(images) == 5 and all(img.startswith(PNG_SIGNATURE) for img in images)

    # One table row per repetition the analysis found (plus the header row).
    reps_table = text.split("<h2>Repetitions</h2>", 1)[1].split("</table>", 1)[0]
    assert analysis.n_reps == 2 and reps_table.count("<tr>") == analysis.n_reps + 1

    # Self-contained: no scripts, no external resources.
    assert "<script" not in text.lower()
    assert "http://" not in text and "https://" not in text


def test_sections_follow_what_is_supplied(squat, tmp_path):
    motion, _, analysis = squat
    bare = write_coach_report(tmp_path / "bare.html", ClipResult(analysis), **_common()).read_text(encoding="utf-8")
    assert bare.count(IMG) == 1  # the channels the analysis kept; angles and kinetics need more
    assert "Detected faults" not in bare and "Rule-based coach" not in bare and "<h2>Run</h2>" not in bare
    assert COACHING_ESCAPED in bare

    clip = ClipResult(analysis, motion=motion, faults=[])
    none_found = write_coach_report(tmp_path / "none.html", clip, **_common())
    text = none_found.read_text(encoding="utf-8")
    assert "No faults detected." in text
    assert text.count(IMG) == 2
    assert sorted(os.listdir(tmp_path)) == ["bare.html", "none.html"]


def test_missing_folder_raises_clearly_and_writes_nothing(squat, tmp_path):
    _, _, analysis = squat
    target = tmp_path / "does_not_exist" / "report.html"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_coach_report(target, ClipResult(analysis), **_common())
    assert os.listdir(tmp_path) == []


def test_failed_write_leaves_the_old_report_and_no_temporary_file(squat, tmp_path, monkeypatch):
    _, _, analysis = squat
    target = tmp_path / "report.html"
    target.write_text("old report", encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_coach_report(target, ClipResult(analysis), **_common())
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["report.html"]
    assert target.read_text(encoding="utf-8") == "old report"


def test_motion_that_is_not_the_analysed_one_is_refused(squat, tmp_path):
    motion, _, analysis = squat
    with pytest.raises(ValueError, match="analysis"):
        write_coach_report(
            tmp_path / "r.html", ClipResult(analysis, motion=motion[: motion.n_frames // 2]), **_common()
        )
    assert os.listdir(tmp_path) == []
