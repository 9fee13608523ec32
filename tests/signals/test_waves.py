"""Wave features: quality scores, energy in joules and the JSON layout, on cases with known answers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from musclepose.body import forward_kinematics
from musclepose.motion.core import Motion
from musclepose.signals import CHANNEL_NAMES, channels_array, grade, wave_features
from musclepose.signals.energy import GRAVITY_MS2, segment_energy
from musclepose.signals.quality import MIN_JERK_DLJ, dimensionless_jerk, upstream_scores

from ._synth import min_jerk, reps_signal, threshold_fraction


def test_grade_bands():
    for score, letter in ((0.95, "A"), (0.80, "A"), (0.799, "B"), (0.70, "B"), (0.55, "C"), (0.40, "D"), (0.39, "F")):
        assert grade(score) == letter
    assert grade(float("nan")) == "F"


def test_dimensionless_jerk_of_minimum_jerk_move():
    fps = 200.0
    for seconds, amplitude in ((1.0, 1.0), (2.0, 30.0)):  # independent of duration and units
        n = int(seconds * fps) + 1
        x = np.concatenate([np.zeros(20), amplitude * min_jerk(n), np.full(20, amplitude)])
        # Central differences smear the jerk's step at each end over a sample: ~1/n low.
        assert dimensionless_jerk(x, fps, 20, 20 + n - 1) == pytest.approx(MIN_JERK_DLJ, rel=0.04)


def _scores(x, fps):
    wf = wave_features(x, fps=fps)  # a single signal: eccentric-first (away from rest)
    return wf.quality, wf


def test_clean_reps_score_high_and_tremor_lowers_smoothness_and_efficiency():
    fps = 100.0
    x, _ = reps_signal(fps, 4, 1.5, 0.3, 1.5, 1.0)
    clean, _ = _scores(x, fps)
    assert clean.smoothness > 0.9 and clean.efficiency > 0.97 and clean.consistency > 0.97
    assert clean.control == pytest.approx(1.0, abs=0.02)
    assert clean.grade == "A"
    t = np.arange(x.size) / fps
    shaky, _ = _scores(x + 0.03 * np.sin(2 * np.pi * 2.5 * t), fps)  # 2.5 Hz tremor, 3 % of the depth
    assert shaky.smoothness < clean.smoothness - 0.3
    assert shaky.efficiency < clean.efficiency - 0.05


def test_control_penalises_a_dropped_eccentric_and_consistency_uneven_reps():
    fps = 100.0
    drop, _ = reps_signal(fps, 3, 0.8, 0.2, 2.4, 1.0)  # down in 0.8 s, up in 2.4 s
    # Phases count frames above 5 % of the repetition's peak (the fast descent's) speed:
    # the descent loses its ends below 5 % of its own peak, the ascent below 15 % of its own.
    ecc = 0.8 * (1 - 2 * threshold_fraction(0.05))
    con = 2.4 * (1 - 2 * threshold_fraction(0.15))
    assert _scores(drop, fps)[0].control == pytest.approx(ecc / con, abs=0.02)
    assert ecc / con == pytest.approx(1 / 3, abs=0.05)
    uneven, _ = reps_signal(fps, 4, 1.0, 0.2, 1.0, 1.0, depths=[1.0, 0.5, 1.0, 0.5])
    q, wf = _scores(uneven, fps)
    assert wf.n_reps == 4
    cv = np.std([1.0, 0.5, 1.0, 0.5]) / 0.75
    assert q.consistency < 1 - 0.4 * cv


def test_upstream_formulas_kept_for_comparison():
    t = np.arange(0, 10, 0.01)
    up = upstream_scores(np.sin(2 * np.pi * 0.5 * t), 100.0)
    # For any sinusoid: control = consistency = 1 - 1/sqrt(2); efficiency = 1/2.
    assert up["control"] == pytest.approx(1 - 1 / np.sqrt(2), abs=0.02)
    assert up["consistency"] == pytest.approx(1 - 1 / np.sqrt(2), abs=0.02)
    assert up["efficiency"] == pytest.approx(0.5, abs=0.02)


def _translating(body, fps=50.0, seconds=6.0, amp=0.1, f=0.5):
    t = np.arange(0, seconds, 1 / fps)
    q = body.neutral_q().repeat(t.size, 1)
    q[:, 1] += torch.as_tensor(amp * np.sin(2 * np.pi * f * t))
    return Motion(q, fps, body), t


def test_segment_energy_of_a_translating_body(body):
    amp, f = 0.1, 0.5
    m, _ = _translating(body, amp=amp, f=f)
    e = segment_energy(m)
    inner = slice(25, -25)  # away from the filter's and derivative's ends
    assert e.kinetic[inner].max() == pytest.approx(0.5 * body.mass_kg * (2 * np.pi * f * amp) ** 2, rel=0.01)
    assert np.ptp(e.potential) == pytest.approx(body.mass_kg * GRAVITY_MS2 * 2 * amp, rel=0.005)
    pos, neg = e.work()
    assert pos == pytest.approx(-neg, rel=0.05)


def test_segment_energy_of_a_spinning_body(body):
    """Spin about the vertical through the pelvis: KE = 1/2 w^2 sum(I_yy + m r_perp^2), from the BSIP table."""
    fps, w = 100.0, 2.0
    t = np.arange(0, 3, 1 / fps)
    q = body.neutral_q().repeat(t.size, 1)
    q[:, body.dof_index("pelvis_rotation")] = torch.as_tensor(w * t)
    e = segment_energy(Motion(q, fps, body), cutoff_hz=None)
    fk = forward_kinematics(body, body.neutral_q())  # segment frames parallel to the world here
    com = (fk.origins + (fk.rotations @ torch.tensor(body.coms)[..., None])[..., 0]).numpy()
    r_perp2 = com[:, 0] ** 2 + com[:, 2] ** 2  # the pelvis origin is at x = z = 0
    expected = 0.5 * w**2 * float(np.sum(body.inertias[:, 1, 1] + body.masses * r_perp2))
    assert np.median(e.kinetic) == pytest.approx(expected, rel=0.01)
    assert np.ptp(e.potential) == pytest.approx(0.0, abs=1e-9)


def test_wave_features_inputs_and_json_layout(body):
    fps = 30.0
    x, _ = reps_signal(fps, 3, 1.0, 0.3, 1.0, 0.8)
    t = x.size
    knee = np.radians(90.0) * -x
    q = body.neutral_q().repeat(t, 1)
    for side in ("r", "l"):
        q[:, body.dof_index(f"hip_flexion_{side}")] = torch.as_tensor(knee)
        q[:, body.dof_index(f"knee_flexion_{side}")] = torch.as_tensor(2 * knee)
        q[:, body.dof_index(f"ankle_dorsiflexion_{side}")] = torch.as_tensor(knee)
    L = body.lengths
    q[:, 1] = torch.as_tensor(L["ankle_height"] + (L["thigh"] + L["shank"]) * np.cos(knee))
    m = Motion(q, fps, body)

    wf = wave_features(m, exercise="squat")
    assert wf.channel == "legs_trajectory" and wf.n_reps == 3 and wf.eccentric_first
    d = wf.to_dict()
    assert {"quality", "energy", "damping", "frequency", "harmonic", "waves", "upstream"} <= set(d)
    assert set(d["quality"]) == {"smoothness", "control", "efficiency", "consistency", "overall", "grade"}
    assert set(d["frequency"]["bands"]) == {"0-1", "1-3", "3-8", "8-nyquist"}
    assert d["energy"]["joules"]["method"] == "segments" and d["energy"]["peak_power_W"] > 0
    json.dumps(d, allow_nan=False)
    phases = [p["type"] for p in d["waves"]["phases"]]
    assert phases[:5] == ["setup", "eccentric", "bottom", "concentric", "lockout"]

    arr = channels_array(m)
    from_array = wave_features(arr, fps=fps, exercise="squat")
    assert from_array.reps == wf.reps and from_array.energy["joules"] is None
    assert wave_features(arr, fps=fps, body=body, exercise="squat").energy["joules"]["method"] == "hip_proxy"
    clip = {n: arr[:, i].tolist() for i, n in enumerate(CHANNEL_NAMES)} | {"fps": fps, "exercise": "squat"}
    assert wave_features(clip).reps == wf.reps
    assert wave_features(arr[:, 1], fps=fps).n_reps == 3
    with pytest.raises(ValueError, match="fps"):
        wave_features(arr)
