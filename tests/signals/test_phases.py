"""Phases and tempo on synthetic repetitions whose phase durations are known exactly.

Each move is a minimum-jerk profile; a frame counts as moving above 5 % of the repetition's
peak speed, so the measured moves are shorter than the true ones by the part of each end
spent below that speed, which :func:`_synth.threshold_fraction` gives in closed form.
"""

from __future__ import annotations

import numpy as np
import pytest

from musclepose.signals.phases import PhaseSegmenter, Tempo
from musclepose.signals.reps import RepSegmenter

from ._synth import reps_signal, threshold_fraction

FPS = 100.0
DOWN, BOTTOM, UP, TOP = 2.0, 1.0, 1.5, 1.0


def _expected() -> Tempo:
    # The threshold is 5 % of the repetition's peak speed, which is the faster (up) move's.
    frac_up = threshold_fraction(0.05)
    frac_down = threshold_fraction(0.05 * DOWN / UP)
    return Tempo(
        eccentric=DOWN * (1 - 2 * frac_down),
        bottom=BOTTOM + DOWN * frac_down + UP * frac_up,
        concentric=UP * (1 - 2 * frac_up),
        lockout=TOP + UP * frac_up + DOWN * frac_down,
    )


@pytest.fixture(scope="module")
def squat():
    x, truth = reps_signal(FPS, 3, DOWN, BOTTOM, UP, TOP)
    seg = RepSegmenter().segment(x, FPS)
    ph = PhaseSegmenter().segment(x, FPS, seg.reps_, seg.polarity_)
    return x, truth, seg, ph


def test_tempo_matches_the_known_durations(squat):
    _, _, seg, ph = squat
    exp = _expected()
    assert len(ph.tempo_) == seg.n_reps_ == 3
    for k, tempo in enumerate(ph.tempo_):
        assert tempo.eccentric == pytest.approx(exp.eccentric, abs=0.06)
        assert tempo.bottom == pytest.approx(exp.bottom, abs=0.06)
        assert tempo.concentric == pytest.approx(exp.concentric, abs=0.06)
        if k < 2:
            assert tempo.lockout == pytest.approx(exp.lockout, abs=0.06)
        else:
            assert tempo.lockout is None  # the last repetition's top pause is the end of the set
    assert ph.tempo_[0].notation == "2-1-1-1"
    assert Tempo.median(ph.tempo_).notation_precise == ph.tempo_[0].notation_precise


def test_phase_order_and_coverage(squat):
    x, truth, _, ph = squat
    assert ph.labels_.shape == x.shape
    names = [sp.name for sp in ph.spans_]
    assert names == ["setup"] + ["eccentric", "bottom", "concentric", "lockout"] * 2 + [
        "eccentric",
        "bottom",
        "concentric",
        "rest",
    ]
    assert all(a.end == b.start for a, b in zip(ph.spans_, ph.spans_[1:], strict=False))
    for rep, mark in zip(ph.rep_spans_, truth, strict=True):
        bottom = next(sp for sp in rep if sp.name == "bottom")
        assert bottom.start <= mark["bottom"] + 5 and bottom.end >= mark["concentric"] - 5


def test_concentric_first_press_swaps_the_names():
    x, _ = reps_signal(FPS, 3, DOWN, BOTTOM, UP, TOP)
    press = -x  # resting low (rack), the first move goes up: a press
    seg = RepSegmenter().segment(press, FPS)
    assert seg.polarity_ == 1
    ph = PhaseSegmenter(eccentric_first=False).segment(press, FPS, seg.reps_, seg.polarity_)
    names = [sp.name for sp in ph.rep_spans_[0]]
    assert names == ["concentric", "lockout", "eccentric", "bottom"]
    exp = _expected()
    t = ph.tempo_[0]
    assert t.concentric == pytest.approx(exp.eccentric, abs=0.06)  # the 2 s move is now the press
    assert t.lockout == pytest.approx(exp.bottom, abs=0.06)
    assert t.bottom == pytest.approx(exp.lockout, abs=0.06)


def test_a_long_pause_is_rest_not_lockout():
    x, _ = reps_signal(FPS, 2, 1.0, 0.2, 1.0, 5.0)
    seg = RepSegmenter().segment(x, FPS)
    ph = PhaseSegmenter(max_pause_s=3.0).segment(x, FPS, seg.reps_, seg.polarity_)
    assert [sp.name for sp in ph.rep_spans_[0]][-1] == "rest"
    assert ph.tempo_[0].lockout is None and ph.tempo_[0].notation.endswith("-x")
    assert np.count_nonzero(ph.labels_ == "lockout") == 0
