"""The synthetic exercise library: labels, joint limits, planted contacts, smoothness, reps, faults.

Independent references: the body's published ROM limits (``body.dof_lower/upper``); forward
kinematics of the generated ``q`` for contacts (not the generator's own targets); the signals
package's repetition segmenter for the rep count; gravity for the jumping-jack flights; the
real squat recording for the default ranges.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musclepose.body import Body, forward_kinematics
from musclepose.motion import Motion
from musclepose.signals import analyze_motion
from musclepose.sim.exercises import GENERATORS, foot_skating, generate, load_position, observe
from musclepose.sim.randomize import ANTHROPOMETRY, sample_body_params, sample_clip_params

FAST = {"reps": 2, "fps": 50.0}
EIGHT = {"squat", "deadlift", "overhead_press", "lunge", "push_up", "jumping_jack", "sit_to_stand", "bent_over_row"}


@pytest.fixture(scope="module")
def body():
    return Body.standard(1.75, 70.0, "male")


def _limit_violations(m: Motion) -> list[tuple[str, float, float]]:
    b, q = m.body, m.q.numpy()
    return [
        (b.dof_names[i], float(np.degrees(q[:, i].min())), float(np.degrees(q[:, i].max())))
        for i in range(6, b.n_dof)
        if q[:, i].min() < b.dof_lower[i] - 1e-9 or q[:, i].max() > b.dof_upper[i] + 1e-9
    ]


def test_library_has_the_eight_exercises_each_with_faults():
    assert EIGHT <= set(GENERATORS)
    for spec in GENERATORS.values():
        assert len(spec.faults) >= 4, spec.name
        assert spec.ranges and all(lo < hi for lo, hi in spec.ranges.values())


@pytest.mark.parametrize("name", sorted(EIGHT))
def test_defaults_limits_contacts_and_every_fault_at_full_severity(body, name):
    spec = GENERATORS[name]
    clean = generate(name, body, FAST)
    assert _limit_violations(clean) == []
    skate = foot_skating(clean)
    assert skate["max_drift_cm"] < 1.0 and skate["max_lift_cm"] < 1.0, skate
    for fault, fs in spec.faults.items():
        m = generate(name, body, FAST, {fault: 1.0})
        assert _limit_violations(m) == [], fault
        skate = foot_skating(m)
        assert skate["max_drift_cm"] < 1.0 and skate["max_lift_cm"] < 1.0, (fault, skate)
        assert m.metadata["faults"] == {fault: {"severity": 1.0, "side": "both" if fault == "knee_valgus" else "r"}}
        # The fault shows where its spec says, by a margin a coach would see (>= 2 deg/cm/%, 0.25 s).
        change = fs.sign * (fs.measure(observe(m)) - fs.measure(observe(clean)))
        assert change > (0.25 if fs.unit_and_what()[0] == "s" else 2.0), (fault, fs.shows, fs.measure(observe(clean)),
                                                                          fs.measure(observe(m)))  # fmt: skip


@pytest.mark.parametrize("name", ["squat", "deadlift", "lunge", "push_up", "overhead_press", "bent_over_row"])
def test_fastest_rushed_eccentric_is_supported_by_the_floor(name):
    """The deepest, tallest, most loaded rushed lowering at severity 1 never needs the floor to pull."""
    from musclepose.sim.dataset import clip_kinetics
    from musclepose.sim.exercises import RUSHED_MIN_S

    spec = GENERATORS[name]
    p = {"depth_deg": spec.ranges["depth_deg"][1], "reps": 1, "load_kg": spec.ranges.get("load_kg", (0, 0))[1]}
    m = generate(name, Body.standard(1.95, 80.0, "male"), p, {"rushed_eccentric": 1.0})
    ecc = [ph["end_s"] - ph["start_s"] for r in m.metadata["reps"] for ph in r["phases"] if ph["name"] == "eccentric"]
    assert ecc == pytest.approx([RUSHED_MIN_S[name]], abs=0.02)
    kin = clip_kinetics(m)
    assert np.abs(kin.residual_force[kin.supported]).max() < 15.0  # N


@pytest.mark.parametrize("name", sorted(EIGHT))
def test_labels_are_consistent(body, name):
    m = generate(name, body, {"reps": 3, "fps": 50.0})
    meta = m.metadata
    assert meta["exercise"] == name and meta["n_reps"] == 3 == len(meta["reps"])
    assert np.isfinite(m.q.numpy()).all()
    prev_end = 0.0
    for r in meta["reps"]:
        assert prev_end <= r["start_s"] < r["extreme_s"] < r["end_s"] <= m.duration
        ph = r["phases"]
        assert ph[0]["start_s"] == pytest.approx(r["start_s"])
        assert all(a["end_s"] == pytest.approx(b["start_s"]) for a, b in zip(ph, ph[1:], strict=False))
        assert all(p["end_s"] >= p["start_s"] for p in ph)
        prev_end = r["end_s"] if name != "jumping_jack" else r["start_s"]
    planted = meta["contact"]["planted"]
    assert planted.shape == (m.n_frames, len(meta["contact"]["names"])) and planted.dtype == bool
    # Starts and ends at rest.
    qd, _ = m.velocities()
    assert float(qd[:3].abs().max()) < 0.05 and float(qd[-3:].abs().max()) < 0.05


def test_random_draws_respect_limits_and_contacts():
    rng = np.random.default_rng(1234)
    seen = set()
    for _ in range(16):
        cp = sample_clip_params(rng, fault_rate=1.0, reps_range=(2, 2))
        cp.params["fps"] = 40.0
        m = cp.generate()
        seen.add(cp.exercise)
        assert _limit_violations(m) == [], cp.to_dict()
        skate = foot_skating(m)
        assert skate["max_drift_cm"] < 1.0 and skate["max_lift_cm"] < 1.0, (cp.to_dict(), skate)
        assert m.metadata["ik_overreach_mm"] == 0.0
    assert len(seen) >= 6


def test_foot_skating_measures_a_sliding_foot(body):
    m = generate("squat", body, FAST)
    assert foot_skating(m)["max_drift_cm"] < 1e-6
    q = m.q.clone()
    q[:, 0] += torch.linspace(0.0, 0.05, m.n_frames, dtype=q.dtype)  # the whole body slides 5 cm forward
    q[:, 1] += 0.02 * torch.sin(torch.linspace(0.0, np.pi, m.n_frames, dtype=q.dtype))  # and lifts 2 cm
    slid = Motion(q, m.fps, body, m.metadata)
    s = foot_skating(slid)
    assert s["max_drift_cm"] == pytest.approx(5.0, abs=0.05)
    assert s["max_lift_cm"] == pytest.approx(2.0, abs=0.05)
    # Without labels, feet near the floor and slow count as planted.
    bare = foot_skating(Motion(m.q, m.fps, body, {}))
    assert bare["max_drift_cm"] < 0.1


@pytest.mark.parametrize("name", sorted(EIGHT))
def test_accelerations_are_continuous(body, name):
    """C2: the finite-difference jerk converges as the frame rate doubles (it doubles if qdd jumps)."""

    def jerk(fps):
        m = generate(name, body, {"reps": 1, "fps": fps, "noise_deg": 0.5})
        return np.abs(np.diff(m.q.numpy(), 3, axis=0) * fps**3).max(axis=0), m

    j1, m = jerk(100.0)
    j2, _ = jerk(200.0)
    big = j1 > 1.0
    assert np.all(j2[big] < 1.5 * j1[big]), [m.body.dof_names[i] for i in np.flatnonzero(big & (j2 > 1.5 * j1))]
    _, qdd = m.velocities()
    assert torch.isfinite(qdd).all() and float(qdd[:, 6:].abs().max()) < 1500.0  # rad/s^2; hopping reaches ~300


@pytest.mark.parametrize("name", sorted(EIGHT))
def test_signals_count_the_generated_reps(body, name):
    m = generate(name, body, {"fps": 50.0})  # the default 5 repetitions
    a = analyze_motion(m, exercise=name)
    assert a.n_reps == m.metadata["n_reps"] == 5
    for rep, truth in zip(a.reps, m.metadata["reps"], strict=True):
        assert truth["start_s"] - 0.3 <= rep.extreme / m.fps <= truth["end_s"] + 0.3


def test_jumping_jack_flights_are_ballistic_and_unsupported(body):
    m = generate("jumping_jack", body, {"reps": 3, "fps": 200.0})
    y = m.q[:, 1].numpy()
    planted = m.metadata["contact"]["planted"]
    t = m.times
    fk = forward_kinematics(body, m.q)
    feet_y = fk.origins[:, [body.segment_index("foot_r"), body.segment_index("foot_l")], 1].numpy()
    flights = m.metadata["flights_s"]
    assert len(flights) == 6
    for a, b in flights:
        inside = np.flatnonzero((t > a + 0.01) & (t < b - 0.01))
        acc = (y[inside + 1] - 2 * y[inside] + y[inside - 1]) * m.fps**2
        assert acc == pytest.approx(-9.81, abs=0.01)  # the pelvis falls freely
        assert not planted[inside].any()  # both feet off the floor together
        mid = inside[len(inside) // 2]
        assert np.all(feet_y[mid] > feet_y[0] + 0.02)  # feet well above their standing height
    # Land wider than they took off: the ankles are farther apart in the open stance.
    open_mid = int(round(m.metadata["reps"][0]["extreme_s"] * m.fps))
    width = (fk.origins[:, body.segment_index("foot_r"), 2] - fk.origins[:, body.segment_index("foot_l"), 2]).abs()
    assert float(width[open_mid]) > float(width[0]) + 0.3
    assert foot_skating(m)["max_drift_cm"] < 0.1


def test_lunge_steps_forward_with_the_rear_foot_planted(body):
    m = generate("lunge", body, {"reps": 2, "fps": 50.0, "lead": "r"})
    meta = m.metadata
    names = meta["contact"]["names"]
    planted = meta["contact"]["planted"]
    assert planted[:, names.index("ball_l")].all()  # the rear (stance) foot never leaves
    assert not planted[:, names.index("ball_r")].all()  # the lead foot swings
    fk = forward_kinematics(body, m.q)
    x = fk.origins[:, body.segment_index("foot_r"), 0].numpy()
    assert np.ptp(x) == pytest.approx(meta["params"]["step_length_m"], rel=0.02)
    bottom = int(round(meta["reps"][0]["extreme_s"] * m.fps))
    assert np.degrees(float(m.q[bottom, body.dof_index("knee_flexion_r")])) == pytest.approx(90.0, abs=1.0)


def test_push_up_pivots_on_the_toes_with_the_fists_planted(body):
    m = generate("push_up", body, FAST)
    tilt = np.degrees(m.dof("pelvis_tilt").numpy())
    assert np.ptp(tilt) > 5.0  # the root orientation is solved, not fixed
    s = foot_skating(m)
    assert set(s["per_contact"]) >= {"knuckles_r", "knuckles_l", "ball_r", "ball_l"}
    assert s["max_drift_cm"] < 0.01 and s["max_lift_cm"] < 0.01
    bottom = int(round(m.metadata["reps"][0]["extreme_s"] * m.fps))
    elbow = np.degrees(float(m.q[bottom, body.dof_index("elbow_flexion_r")]))
    assert elbow == pytest.approx(90.0, abs=3.0)


def test_depth_parameter_is_the_peak_angle_and_the_load_is_recorded(body):
    m = generate("squat", body, {"reps": 1, "fps": 50.0, "depth_deg": 112.0, "load_kg": 60.0, "load_position": "back"})
    knee = np.degrees(m.q[:, body.dof_index("knee_flexion_r")].numpy())
    assert knee.max() == pytest.approx(112.0, abs=0.5)
    assert m.metadata["load"]["mass_kg"] == 60.0 and m.metadata["load"]["segments"] == ["thorax"]
    bar = load_position(m)
    assert bar.shape == (m.n_frames, 3) and np.ptp(bar[:, 1]) > 0.3  # the bar rides down with the back


def test_bad_inputs_are_rejected(body):
    with pytest.raises(KeyError):
        generate("burpee", body)
    with pytest.raises(ValueError, match="hip_sag"):
        generate("squat", body, FAST, {"hip_sag": 0.5})
    with pytest.raises(ValueError, match="severity"):
        generate("squat", body, FAST, {"knee_valgus": 1.5})
    with pytest.raises(ValueError, match="unknown parameter"):
        generate("squat", body, {"depht_deg": 90})


def test_randomisation_is_seeded_and_follows_the_population_table():
    a = sample_clip_params(np.random.default_rng(7)).generate()
    b = sample_clip_params(np.random.default_rng(7)).generate()
    assert torch.equal(a.q, b.q) and a.metadata["randomization"] == b.metadata["randomization"]
    rng = np.random.default_rng(0)
    draws = [sample_body_params(rng, "male") for _ in range(3000)]
    h = np.array([d[0] for d in draws])
    bmi = np.array([d[1] / d[0] ** 2 for d in draws])
    assert h.mean() == pytest.approx(ANTHROPOMETRY["male"]["height_mean_m"], abs=0.005)
    assert h.std() == pytest.approx(ANTHROPOMETRY["male"]["height_sd_m"], rel=0.1)
    assert 18.5 <= bmi.min() and bmi.max() <= 38.0


def test_default_squat_ranges_cover_the_real_recording(refdata):
    from scipy.signal import find_peaks

    from musclepose.io.opensim import read_table

    table = read_table(refdata("mocap/addbiomechanics_expert1/squats1.mot"))
    knee = 0.5 * (table.column("knee_angle_r") + table.column("knee_angle_l"))
    peaks, _ = find_peaks(knee, height=60, distance=100)
    lo, hi = GENERATORS["squat"].ranges["depth_deg"]
    assert len(peaks) == 5 and lo <= knee[peaks].min() and knee[peaks].max() <= hi


def test_knee_medial_and_elbow_out_measure_the_injected_swivel(body):
    """The valgus fault swivels the knee medially about the hip-ankle line by a known angle; the
    knee's medial distance from the knee-over-toes plane is then (its distance from that line) x
    sin(angle), at the bottom of the squat where the profile is 1."""
    from musclepose.catalogue import observables as ob
    from musclepose.sim.exercises import VISIBLE_FROM

    sev = 0.5
    m = generate("squat", body, FAST, {"knee_valgus": {"severity": sev, "side": "r"}})
    k = int(round(m.metadata["reps"][0]["extreme_s"] * m.fps))
    fk = forward_kinematics(body, m.q)
    hip, knee, ankle = (fk.origins[k, body.segment_index(f"{s}_r")] for s in ("thigh", "shank", "foot"))
    n = (ankle - hip) / torch.linalg.norm(ankle - hip)
    off = (knee - hip) - torch.dot(knee - hip, n) * n
    angle = np.radians(14.0) * (VISIBLE_FROM["knee_valgus"] + (1 - VISIBLE_FROM["knee_valgus"]) * sev)
    expected = 100.0 * float(torch.linalg.norm(off)) * np.sin(angle)
    assert ob.knee_medial_cm(observe(m))[k] == pytest.approx(expected, rel=0.02)
    clean = generate("squat", body, FAST)
    assert np.abs(ob.knee_medial_cm(observe(clean))).max() < 0.05  # cm: the knees track over the toes
    # The elbow of a clean press stays near the shoulder-wrist plane; a flared one moves out.
    press = generate("overhead_press", body, FAST)
    flared = generate("overhead_press", body, FAST, {"elbow_flare": 1.0})
    flared, press = observe(flared), observe(press)
    assert ob.rep_max(flared, ob.elbow_out_cm(flared)) > ob.rep_max(press, ob.elbow_out_cm(press)) + 5.0


def test_a_faulty_clip_at_low_severity_is_outside_the_normal_range():
    """A fault at severity 0.1 already moves its observable beyond every clean clip of a random sample
    (for the faults that scale a parameter or add a deviation, see ANCHORED and VISIBLE_FROM)."""
    rng = np.random.default_rng(5)
    faults = {"squat": ["knee_valgus", "shallow_depth", "rushed_eccentric"], "deadlift": ["forward_lean"],
              "overhead_press": ["bar_path_drift", "elbow_flare"], "jumping_jack": ["narrow_stance"]}  # fmt: skip
    for name, names in faults.items():
        spec = GENERATORS[name]
        clean, faulty = {f: [] for f in names}, {f: [] for f in names}
        for _ in range(6):
            cp = sample_clip_params(rng, [name], fault_rate=0.0)
            params = {**cp.params, "reps": 2, "fps": 50.0}
            body = Body.standard(cp.height_m, cp.mass_kg, cp.sex)
            c = generate(name, body, params, {}, 0)
            for f in names:
                fs = spec.faults[f]
                clean[f].append(fs.sign * fs.measure(observe(c)))
                faulty[f].append(fs.sign * fs.measure(observe(generate(name, body, params, {f: 0.1}, 0))))
        for f in names:
            assert min(faulty[f]) > max(clean[f]), (name, f, clean[f], faulty[f])
