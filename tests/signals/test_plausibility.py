"""What may become a finding: flagged frames and values beyond the exercise's limits are left out, the
grade is withheld when too little is trusted, and a recording that is not the exercise is not screened."""

import numpy as np
import pytest

from musclepose.motion import Motion
from musclepose.motion.kinetics import compute_kinetics
from musclepose.motion.quality import FrameQuality, Issue
from musclepose.signals import analyze_motion
from musclepose.signals.movement import check_movement
from musclepose.signals.plausibility import check_plausibility
from musclepose.sim.exercises import generate

FAST = {"reps": 3, "fps": 50.0}


@pytest.fixture(scope="module")
def squat(body):
    m = generate("squat", body, FAST, rng=0)
    return Motion(m.q, m.fps, m.body, {"source": "test"})


def _glitch(m: Motion, frames: slice) -> Motion:
    """A flipped arm in ``frames`` that the fit flagged (what a poor marker fit leaves behind)."""
    q = m.q.clone()
    q[frames, m.body.dof_index("shoulder_flexion_r")] += np.radians(120.0)
    quality = FrameQuality(np.zeros(m.n_frames, dtype=bool)).with_issues(
        [Issue("poor marker fit", frames.start, frames.stop - 1, "62 mm RMS")]
    )
    return Motion(q, m.fps, m.body, {}, quality)


def test_flagged_frames_never_become_peaks(squat):
    """An arm flip inside a repetition makes an impossible spike in the kinetics; flagged, the frames
    (and the filter's reach around them) are left out and the peaks are the clean motion's."""
    clean = analyze_motion(squat, "squat", kinetics=compute_kinetics(squat, muscles=False))
    rep = clean.reps[1]
    bad = _glitch(squat, slice(rep.start + 5, rep.start + 9))
    kin = compute_kinetics(bad, muscles=False)
    raw = np.abs(kin.moment("shoulder_flexion_r")).max()
    out = analyze_motion(bad, "squat", kinetics=kin)
    for k, r in enumerate(out.kinetics):
        for dof, v in r.peak_moment.items():
            ref = clean.kinetics[k].peak_moment[dof]
            assert v is not None and abs(v - ref) < 0.15 + 0.1 * abs(ref), (k, dof, v, ref)
    assert raw > 2.0  # the flip did make an impossible shoulder moment
    assert "poor marker fit in frames" in out.reliability.issues[0]
    assert out.grade is not None  # four frames of a repetition leave the grade standing


def test_values_beyond_the_limits_are_unreliable_with_their_cause(squat):
    bad = _glitch(squat, slice(60, 64))
    kin = compute_kinetics(bad, muscles=False)
    rel = check_plausibility(bad, kin, "squat")
    over = [u for u in rel.unreliable if "shoulder_flexion_r" in u.quantity]
    assert over and "poor marker fit in frames 60-63" in over[0].cause
    assert not rel.trusted_kinetics[55:70].any() and rel.trusted_kinetics[:40].all()


def test_the_grade_is_withheld_when_the_repetitions_are_mostly_untrusted(squat):
    quality = FrameQuality(np.zeros(squat.n_frames, dtype=bool)).with_issues(
        [Issue("poor marker fit", 0, squat.n_frames - 1, "median 113 mm RMS over the trial")]
    )
    a = analyze_motion(Motion(squat.q, squat.fps, squat.body, {}, quality), "squat")
    assert a.grade is None and "113 mm" in a.grade_note
    assert all(np.isnan(r.depth_knee_flexion_deg) for r in a.reps)
    assert a.to_dict()["grade"] is None


def test_a_jump_is_not_a_squat(body):
    """Flight phases say a recording is not a squat: it is analysed, not screened as one."""
    jj = generate("jumping_jack", body, FAST, rng=0)
    m = Motion(jj.q, jj.fps, jj.body, {})
    check = check_movement(m, "squat")
    assert check.matches is False and check.flights and "no flight phase" in check.reasons[0]
    assert not analyze_motion(m, "squat").screenable
    assert check_movement(m, "jumping_jack").matches is True


def test_a_squat_is_a_squat_and_not_a_drop_jump(squat):
    assert check_movement(squat, "squat").matches is True
    dj = check_movement(squat, "drop_jump")
    assert dj.matches is False and "never leave the floor" in dj.reasons[0]


def test_a_box_start_is_found(body):
    m = generate("squat", body, {"reps": 1, "fps": 50.0, "lead_s": 1.0, "tail_s": 1.0}, rng=3)
    q = m.q.clone()
    q[: q.shape[0] // 3, 1] += 0.40
    check = check_movement(Motion(q, m.fps, body, {}), "squat")
    assert check.box_m == pytest.approx(0.40, abs=0.02) and check.matches is False
    assert any("box 40 cm" in r for r in check.reasons)


def test_side_by_side_load_share_follows_a_weight_shift(body):
    """An asymmetric squat (weight shifted to the right) shows as the right foot's load share, from the
    estimated ground reactions, against the synthetic engine's own split over the known foot contacts."""
    from musclepose.sim.clip import clip_kinetics

    m = generate("squat", body, FAST, {"asymmetric_drive": {"severity": 1.0, "side": "r"}}, rng=4)
    kin = compute_kinetics(Motion(m.q, m.fps, body, {}), muscles=False)
    a = analyze_motion(Motion(m.q, m.fps, body, {}), "squat", kinetics=kin)
    truth = clip_kinetics(m)
    right, left = truth.grf["foot_r"][:, 1], truth.grf["foot_l"][:, 1]
    for r, sides in zip(a.reps, a.sides, strict=True):
        w = slice(r.start, r.end + 1)
        true_share = 100.0 * right[w].sum() / (right[w].sum() + left[w].sum())
        assert abs(sides.load_share_pct - true_share) < 5.0, (sides.load_share_pct, true_share)
    assert a.asymmetry.load_share_pct > 52.0  # the shift peaks at the bottom; this is the repetitions' mean
    clean = generate("squat", body, FAST, rng=4)
    c = analyze_motion(Motion(clean.q, clean.fps, body, {}), "squat",
                       kinetics=compute_kinetics(Motion(clean.q, clean.fps, body, {}), muscles=False))  # fmt: skip
    assert abs(c.asymmetry.load_share_pct - 50.0) < 3.0 and "load share" not in c.asymmetry.outside()


def test_untrusted_frames_do_not_reach_the_observables(squat):
    from musclepose.catalogue import Observation, Rep
    from musclepose.catalogue import observables as ob

    reps = [Rep(0.2, 1.0, 2.0)]
    trusted = np.ones(squat.n_frames, dtype=bool)
    o = Observation(squat, reps, trusted=trusted)
    knee = ob.mean_sides(o, "knee_flexion")
    top = ob.rep_max(o, knee)
    trusted[knee > top - 3.0] = False  # the bottom of the repetition flagged
    assert ob.rep_max(Observation(squat, reps, trusted=trusted), knee) <= top - 3.0
    trusted[:] = False
    with pytest.raises(ValueError):
        ob.rep_max(Observation(squat, reps, trusted=trusted), knee)


def test_a_treadmill_walk_has_no_flight_phase(refdata):
    """OpenSim's gait10dof18musc walk (a treadmill: the pelvis stays put, the stance foot slides back at
    the belt's 1.1 m/s) loaded as ``musclepose analyze`` loads it. Against a static floor the stance
    feet read as lifted (both feet "off" in 139 of 151 frames, 8 "flights"); the force plates beside it
    (independent reference) show a foot loaded above 5 % BW in every frame, and so must the check."""
    from musclepose.io.load import load_motion
    from musclepose.io.opensim import read_table
    from musclepose.signals.movement import _feet

    gait = "kinetics/opensim_gait10dof18musc/"
    m = load_motion(refdata(gait + "subject01_walk_IK.mot"))
    plates = read_table(refdata(gait + "subject01_walk_grf.mot"))
    fz = np.stack([np.interp(m.times, plates.time, plates.column(f"{p}ground_force_vy")) for p in ("", "1_")], 1)
    loaded = fz > 0.05 * 72.6 * 9.81  # (T, right/left) per the plates
    assert loaded.any(1).all()  # a walk: a foot on the floor in every frame
    check = check_movement(m, "squat")
    assert check.flights == [] and not any("flight" in r for r in check.reasons)
    # Not a squat all the same: the legs alternate (1.6 times a second), so it is not screened as one.
    assert check.matches is False and "legs alternate 1.6 times a second" in check.reasons[0]
    run = check_movement(m, "run")  # a walk is not a run either: a run has flights
    assert run.matches is False and "never leave the floor" in run.reasons[0]
    weight, _, _ = _feet(m)
    inner = slice(5, -5)  # the ends' one-sided derivatives
    on = weight[inner] > 0.5
    assert (on == loaded[inner]).mean() >= 0.85  # contact per foot and frame agrees with the plates


@pytest.mark.parametrize("name", ["squats1", "walking1"])
def test_real_squats_and_walks_are_told_apart(refdata, name):
    """OpenSim's IK of the OpenCap squat and overground walk (the ``.mot`` files): the squat matches a
    squat (feet on the floor, legs together), the walk does not (legs alternating), and neither has a
    flight phase."""
    from musclepose.io.load import load_motion

    m = load_motion(refdata(f"mocap/addbiomechanics_expert1/{name}.mot"))
    check = check_movement(m, "squat")
    assert check.flights == [] and check.box_m is None
    assert check.matches is (name == "squats1"), check.reasons
