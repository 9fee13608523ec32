"""Real recordings tell the truth (issue 22, with issue 23's impossible physics): measured on the
recordings in ../shared/data and on synthetic clips with known contacts, against baselines in the
same run. Writes docs/validation_real_recordings.md.

    python benchmarks/validate_real_recordings.py            # ~2-4 minutes on 2 cores

Sections: marker IK continuity (squats1, walking1; per-frame fits as the baseline), squat kinetics
and findings (peak extensor moments, the form screen, heel lift against the heel markers, side
differences against OpenSim's own IK), sit-to-stand and push-up supports (synthetic, against the
feet-only estimate), and impossible inputs (a TRC in mm labelled m, a wrapped pelvis rotation, a
one-frame knee spike).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from musclepose.body.grf import estimate_grf  # noqa: E402
from musclepose.catalogue import EXERCISES  # noqa: E402
from musclepose.io.load import load_motion  # noqa: E402
from musclepose.io.opensim import read_table, read_trc  # noqa: E402
from musclepose.io.opensim.model import osim_marker_set  # noqa: E402
from musclepose.motion import Motion  # noqa: E402
from musclepose.motion.ik import solve_ik  # noqa: E402
from musclepose.motion.kinetics import compute_kinetics  # noqa: E402
from musclepose.motion.quality import check_motion  # noqa: E402
from musclepose.motion.scaling import scale_to_static  # noqa: E402
from musclepose.pipelines.form_screen import FormScreen, fault_measures  # noqa: E402
from musclepose.signals import analyze_motion  # noqa: E402
from musclepose.sim.exercises import generate  # noqa: E402

DATA = REPO.parent / "shared" / "data"
LAB = DATA / "mocap" / "addbiomechanics_expert1"
OUT = REPO / "docs" / "validation_real_recordings.md"
SCREEN = REPO / "src" / "musclepose" / "assets" / "coach" / "form_screen.json"
PAIRS = (("hip_flexion", "hip_flexion"), ("knee_flexion", "knee_angle"), ("shoulder_flexion", "arm_flex"))


def _yes(ok: bool) -> str:
    return "yes" if ok else "no"


def _speeds(q: torch.Tensor, fps: float) -> np.ndarray:
    return np.degrees(np.abs(np.gradient(q[:, 6:].numpy(), 1.0 / fps, axis=0)))


def ik_section(lines: list[str]) -> dict[str, Motion]:
    body, ms, _ = osim_marker_set(LAB / "generic.osim")
    st = read_trc(LAB / "static1.trc")
    scaled, sms, _, _ = scale_to_static(body, ms, st.names, st.positions, mass_kg=70.0)
    lines += ["## Marker IK that stays on the person", "",
              "Our IK of the trials (scaled to `static1.trc`) against OpenSim's own IK (the `.mot` beside "
              "them). Baseline: every frame fitted on its own (`solve_ik(..., temporal=False)`: the previous "
              "release's per-frame fits with jump repair, with this release's arm start and girdle prior). "
              "CPU seconds on one thread.", "",
              "| trial | IK | CPU s | max joint speed deg/s | frames > 1,000 deg/s | RMSE hip R/L deg | knee R/L | "
              "shoulder flexion R/L | median marker RMS mm |",
              "|---|---|---:|---:|---:|---|---|---|---:|"]  # fmt: skip
    out = {}
    for name in ("squats1", "walking1"):
        trial, mot = read_trc(LAB / f"{name}.trc"), read_table(LAB / f"{name}.mot")
        for label, kw in (("per-frame (baseline)", {"temporal": False}), ("temporal (this release)", {})):
            t0 = time.process_time()
            res = solve_ik(scaled, sms, trial.names, trial.positions, trial.fps, **kw)
            cpu = time.process_time() - t0
            q, b = res.motion.q, res.motion.body
            v = _speeds(q, trial.fps)
            n = min(len(mot.column("time")), res.motion.n_frames)
            rm = []
            for ours, theirs in PAIRS:
                errs = []
                for s in "rl":
                    x = np.degrees(q[:n, b.dof_index(f"{ours}_{s}")].numpy()) - mot.column(f"{theirs}_{s}")[:n]
                    errs.append(f"{np.sqrt(np.mean(x**2)):.1f}")
                rm.append("/".join(errs))
            lines.append(f"| {name} | {label} | {cpu:.1f} | {v.max():,.0f} ({b.dof_names[6 + v.max(0).argmax()]}) | "
                         f"{int((v.max(1) > 1000).sum())} | {rm[0]} | {rm[1]} | {rm[2]} | "
                         f"{1000 * np.nanmedian(res.rms_m):.1f} |")  # fmt: skip
            if kw == {}:
                out[name] = Motion(res.motion.q, trial.fps, res.motion.body, {"source": name}, res.motion.quality)
    lines.append("")
    return out


def squat_section(lines: list[str], motions: dict[str, Motion]) -> None:
    m = check_motion(motions["squats1"])
    kin = compute_kinetics(m, muscles=False)
    a = analyze_motion(m, "squat", kinetics=kin)
    rel = a.reliability
    v = _speeds(m.q, m.fps)
    used = v[rel.trusted].max()
    hip = [max(-(r.peak_moment[f"hip_flexion_{s}"] or 0.0) for s in "rl") for r in a.kinetics]
    knee = [max(-(r.peak_moment[f"knee_flexion_{s}"] or 0.0) for s in "rl") for r in a.kinetics]
    walk = check_motion(motions["walking1"])
    wa = analyze_motion(walk, None, kinetics=compute_kinetics(walk, muscles=False))
    wv = _speeds(walk.q, walk.fps)[wa.reliability.trusted].max()
    lines += ["## Squat kinetics and findings (squats1)", "",
              "| target | measured | met |", "|---|---|---|",
              f"| squats1: no joint faster than ~1,000 deg/s in a frame used for a finding | {used:,.0f} deg/s "
              f"({rel.trusted.mean():.0%} of frames used) | {'yes' if used < 1000 else 'no'} |",
              f"| walking1: the same | {wv:,.0f} deg/s | {'yes' if wv < 1000 else 'no'} |",
              f"| peak hip extensor moment per repetition within 0.5-2.5 N·m/kg | "
              f"{', '.join(f'{x:.2f}' for x in hip)} | {'yes' if all(0.5 <= x <= 2.5 for x in hip) else 'no'} |",
              f"| peak knee extensor moment per repetition within 0.5-2.5 N·m/kg | "
              f"{', '.join(f'{x:.2f}' for x in knee)} | {_yes(all(0.5 <= x <= 2.5 for x in knee))} |"]  # fmt: skip
    screen = FormScreen.load(SCREEN)
    from refit_form_screen import old_measures  # the observables the previous screen read

    new = fault_measures(m, "squat", a.to_dict(), step=5, trusted=rel.trusted)
    old = old_measures(m, "squat", a.to_dict(), new)
    found_new = screen.screen("squat", new)
    lines.append(f"| no fault reported (a clean, symmetric squat) | shipped screen: "
                 f"{', '.join(f.name for f in found_new) or 'none'} | {_yes(not found_new)} |")  # fmt: skip
    # Heel lift against the calcaneus markers, the same reducer on both.
    trc = read_trc(LAB / "squats1.trc")
    reps = [(round(r.start), round(r.end)) for r in a.reps]
    rise = []
    for mk in ("r_calc", "L_calc"):
        y = 100.0 * trc.marker(mk)[:, 1]
        rise.append(float(np.mean([np.nanmax(y[s : e + 1]) - y[s] for s, e in reps])))
    ours = new["heel_lift"]
    lines.append(f"| heel lift within 1 cm of the heel markers' rise | ours {ours:.2f} cm, calcaneus markers "
                 f"{max(rise):.2f} cm (previous observable: {old['heel_lift']:.1f} cm) | "
                 f"{'yes' if abs(ours - max(rise)) < 1.0 else 'no'} |")  # fmt: skip
    # Side differences against OpenSim's IK of the same trial.
    mot = load_motion(LAB / "squats1.mot")
    worst = 0.0
    rows = []
    for k, (s, e) in enumerate(reps):
        d = {}
        for src, mm in (("ours", m), ("OpenSim", mot)):
            for dof in ("knee_flexion", "hip_flexion", "hip_adduction"):
                peak = [np.degrees(mm.q[s : e + 1, mm.body.dof_index(f"{dof}_{side}")].numpy()).max() for side in "rl"]
                d[(src, dof)] = peak[0] - peak[1]
        diffs = [abs(d[("ours", x)] - d[("OpenSim", x)]) for x in ("knee_flexion", "hip_flexion", "hip_adduction")]
        worst = max(worst, *diffs)
        rows.append(f"| {k + 1} | {d[('ours', 'knee_flexion')]:+.1f} / {d[('OpenSim', 'knee_flexion')]:+.1f} | "
                    f"{d[('ours', 'hip_flexion')]:+.1f} / {d[('OpenSim', 'hip_flexion')]:+.1f} | "
                    f"{d[('ours', 'hip_adduction')]:+.1f} / {d[('OpenSim', 'hip_adduction')]:+.1f} |")  # fmt: skip
    lines.append(f"| side differences within 5 deg of the `.mot`'s | largest gap {worst:.1f} deg (per repetition "
                 f"below) | {'yes' if worst <= 5.0 else 'no'} |")  # fmt: skip
    ma = analyze_motion(mot, "squat")
    mot_measures = fault_measures(mot, "squat", ma.to_dict(), step=5, trusted=ma.reliability.trusted)
    lines += ["", "Every squat observable on squats1, from our IK and from OpenSim's IK of the same trial (the "
              "measurement), and what the shipped screen makes of ours:", "",
              "| fault | observable | ours | OpenSim's IK | previous observable (ours) | reported |",
              "|---|---|---:|---:|---:|---|"]  # fmt: skip
    found = {f.name: f for f in found_new}
    for name, spec in EXERCISES["squat"].faults.items():
        unit, what = spec.unit_and_what()
        said = f"yes, severity {found[name].severity:.2f}" if name in found else "no"
        lines.append(f"| {name} | {what} ({unit}) | {spec.sign * new.get(name, np.nan):.2f} | "
                     f"{spec.sign * mot_measures.get(name, np.nan):.2f} | {spec.sign * old.get(name, np.nan):.2f} | "
                     f"{said} |")  # fmt: skip
    lines += ["", _lean_from_markers(m, a), "", f"Asymmetry line: {a.asymmetry.line()}", "",
              f"The previous observables on the same motion: asymmetric drive {old['asymmetric_drive']:.1f} deg "
              f"(largest left-right angle difference; now the weight shift, {new['asymmetric_drive']:.1f} %), "
              f"heel lift {old['heel_lift']:.1f} cm (absolute height; now {ours:.2f} cm).", "",
              "Peak right-minus-left difference per repetition, ours / OpenSim's IK (deg):", "",
              "| rep | knee flexion | hip flexion | hip adduction |", "|---|---|---|---|", *rows, ""]  # fmt: skip


def _lean_from_markers(m: Motion, a) -> str:
    """The forward lean as the markers draw it: the hip-joint-centre-to-shoulder line against the knee-to-ankle
    line in the sagittal plane (forward: perpendicular to the ASIS markers' line), per repetition (its
    maximum, the observable's reducer, and at its deepest frame), beside our observable (the same lines
    through our IK's joint centres) and the previous one (the thorax's own long axis beyond the shanks')."""
    from musclepose.catalogue import Observation, Rep
    from musclepose.catalogue import observables as ob
    from musclepose.pipelines.form_screen import measure_reps

    trc = read_trc(LAB / "squats1.trc")
    mk = trc.marker
    fwd = np.cross([0.0, 1.0, 0.0], mk("r.ASIS") - mk("L.ASIS"))
    fwd /= np.linalg.norm(fwd, axis=1, keepdims=True)

    def lean(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
        v = top - bottom
        return np.degrees(np.arctan2((v * fwd).sum(1), v[:, 1]))

    marks = lean(0.5 * (mk("R_Shoulder") + mk("L_Shoulder")), 0.5 * (mk("R_HJC") + mk("L_HJC"))) - 0.5 * (
        lean(mk("r_knee"), mk("r_ankle")) + lean(mk("L_knee"), mk("L_ankle"))
    )
    o = Observation(m, [Rep.from_dict(r) for r in measure_reps(m, a.to_dict())])
    ours = ob.trunk_lean_beyond_shins_deg(o)
    old = ob.trunk_inclination_deg(o) - ob.shank_inclination_deg(o)
    spans = [(round(r.start), round(r.end)) for r in a.reps]
    deep = [int(np.argmin(m.q[x : y + 1, 1].numpy())) + x for x, y in spans]
    n = min(len(marks), len(ours))

    def per_rep(v: np.ndarray) -> str:
        return ", ".join(f"{np.nanmax(v[x : min(y + 1, n)]):.1f}" for x, y in spans)

    gap = max(abs(np.nanmax(ours[x : min(y + 1, n)]) - np.nanmax(marks[x : min(y + 1, n)])) for x, y in spans)
    return (f"Forward lean per repetition (maximum; the hip-to-shoulder line beyond the knee-to-ankle line, "
            f"sagittal): markers {per_rep(marks)} deg; ours (the same lines through our IK's joint centres, the "
            f"observable) {per_rep(ours)} deg (largest gap {gap:.1f} deg). At the deepest frames: markers "
            f"{', '.join(f'{marks[i]:.1f}' for i in deep)}, ours {', '.join(f'{ours[i]:.1f}' for i in deep)} deg. "
            "The previous observable, the thorax's own long axis beyond the shanks', read "
            f"{', '.join(f'{old[i]:.0f}' for i in deep)} deg at the deepest frames: it adds the upper spine's "
            "flexion to the lean.")  # fmt: skip


def walk_rows(lines: list[str]) -> None:
    """Walks said to be squats: OpenSim's treadmill walk (the pelvis stays put, the belt moves) and the
    overground walking1, both as OpenSim's IK. Baseline: the feet against a static floor (the previous check)."""
    from musclepose.body.contact import foot_contact
    from musclepose.motion.quality import intervals

    for label, path in (("OpenSim gait10dof18musc treadmill walk", DATA / "kinetics" / "opensim_gait10dof18musc"
                         / "subject01_walk_IK.mot"), ("walking1 (overground)", LAB / "walking1.mot")):  # fmt: skip
        w = load_motion(path)
        with torch.no_grad():
            c = foot_contact(w.body, w.q.double(), w.velocities()[0].double())
        off = (c.weight.numpy() < 0.5).all(1)
        flights = [(x, y) for x, y in intervals(off) if (y - x + 1) / w.fps >= 0.05]
        aw = analyze_motion(w, "squat")
        said = "screened as a squat" if aw.screenable else f"not screened: {'; '.join(aw.movement.reasons)}"
        lines.append(f"| {label} analysed as a squat | against a static floor: {len(flights)} flights, both feet "
                     f"off in {int(off.sum())} of {w.n_frames} frames | {said}; flights found: "
                     f"{len(aw.movement.flights)} |")  # fmt: skip


def supports_section(lines: list[str]) -> None:
    lines += ["## Supports from the kinematics (synthetic clips with known contacts)", "",
              "| clip | measure | feet only (baseline) | with the supports found | target |",
              "|---|---|---:|---:|---|"]  # fmt: skip
    for seed in range(3):
        m = generate("sit_to_stand", rng=seed)
        seated = m.metadata["contact"]["planted"][:, m.metadata["contact"]["names"].index("seat")]
        bare = Motion(m.q, m.fps, m.body, {})
        kin = compute_kinetics(bare, muscles=False)
        knee = max(np.abs(kin.moment(f"knee_flexion_{s}")[seated]).max() for s in "rl")
        f = bare.filtered(6.0)
        qd, qdd = f.velocities()
        base = np.abs(estimate_grf(m.body, f.q, qd, qdd).tau[:, m.body.dof_index("knee_flexion_r")].numpy()
                      / m.body.mass_kg)[seated].max()  # fmt: skip
        lines.append(f"| sit-to-stand seed {seed} | max knee moment while seated, N·m/kg | {base:.2f} | {knee:.3f} | "
                     f"within 0.2: {'yes' if knee < 0.2 else 'no'} |")  # fmt: skip
    m = generate("push_up", rng=1)
    bare = Motion(m.q, m.fps, m.body, {})
    kin = compute_kinetics(bare, muscles=False)
    w = m.body.mass_kg * 9.81
    hands = float(np.median((kin.supports["hand_r"][:, 1] + kin.supports["hand_l"][:, 1]) / w))
    hip = float(np.abs(kin.moment("hip_flexion_r")).max())
    f = bare.filtered(6.0)
    qd, qdd = f.velocities()
    base_hip = float(np.abs(estimate_grf(m.body, f.q, qd, qdd).tau[:, m.body.dof_index("hip_flexion_r")].numpy()
                            / m.body.mass_kg).max())  # fmt: skip
    lines += [f"| push-up | share of the weight on the hands | 0 | {hands:.2f} | 0.64-0.75 (Ebben et al. 2011) |",
              f"| push-up | max hip moment, N·m/kg | {base_hip:.1f} | {hip:.2f} | a plank's, below ~1 |",
              ""]  # fmt: skip


def impossible_section(lines: list[str], tmp: Path) -> None:
    lines += ["## Impossible inputs (issue 23)", "", "| input | before | now |", "|---|---|---|"]
    src = (LAB / "squats1.trc").read_text().splitlines()
    head = src[2].split("\t")
    head[4] = "m"
    head[2] = "295"
    bad = tmp / "squats1_mm_labelled_m.trc"
    bad.write_text("\n".join([src[0], src[1], "\t".join(head), *src[3:301]]) + "\n")  # 6 header lines, 295 rows
    (tmp / "generic.osim").write_text((LAB / "generic.osim").read_text())
    t0 = time.process_time()
    m = load_motion(bad)
    cpu = time.process_time() - t0
    lines.append(f"| TRC whose header says m but holds mm (295 frames) | 741 s, a body 1,757 m tall | {cpu:.1f} s "
                 f"CPU, converted ({m.metadata['notes'][0].split(': ', 1)[1]}); body {m.body.height_m:.2f} m, "
                 f"marker RMS {1000 * m.metadata['marker_rms_m']:.0f} mm |")  # fmt: skip
    sq = generate("squat", rng=0)
    q = sq.q.clone()
    k = sq.body.dof_index("pelvis_rotation")
    q[:, k] = (
        torch.remainder(q[:, k] + np.pi + 0.05 * torch.sin(torch.linspace(0, 20, len(q))) + np.pi, 2 * np.pi) - np.pi
    )
    wrapped = Motion(q, sq.fps, sq.body, {})
    before = np.abs(compute_kinetics(wrapped, muscles=False).moment("lumbar_flexion")).max()
    after = np.abs(compute_kinetics(check_motion(wrapped), muscles=False).moment("lumbar_flexion")).max()
    lines.append(f"| a pelvis rotation wrapping at +-180 deg (synthetic squat facing backwards) | lumbar moment "
                 f"{before:,.0f} N·m/kg | unwrapped on input: {after:.2f} N·m/kg |")  # fmt: skip
    q = sq.q.clone()
    i = sq.body.dof_index("knee_flexion_r")
    q[150, i] += np.radians(170.0)
    spiked = Motion(q, sq.fps, sq.body, {})
    d0 = max(r.depth_knee_flexion_deg for r in analyze_motion(spiked, "squat").reps)
    fixed = check_motion(spiked)
    d1 = max(r.depth_knee_flexion_deg for r in analyze_motion(fixed, "squat").reps)
    d_clean = max(r.depth_knee_flexion_deg for r in analyze_motion(Motion(sq.q, sq.fps, sq.body, {}), "squat").reps)
    lines.append(f"| a one-frame knee spike of 170 deg | deepest repetition {d0:.0f} deg | {d1:.0f} deg (clean: "
                 f"{d_clean:.0f}); {fixed.quality.issues[0].describe(sq.fps)} |")  # fmt: skip
    jj = generate("jumping_jack", rng=0)
    a = analyze_motion(Motion(jj.q, jj.fps, jj.body, {}), "squat")
    lines += [
        f"| jumping jacks analysed as a squat | screened as a squat | not screened: {a.movement.reasons[0]} |",
    ]
    walk_rows(lines)
    lines.append("")


def main() -> None:
    import tempfile

    torch.set_num_threads(1)
    lines = ["# Real recordings tell the truth", "",
             "`python benchmarks/validate_real_recordings.py` (this file is its output). Data: "
             "`../shared/data/mocap/addbiomechanics_expert1` (OpenCap squats1 and walking1 with OpenSim's IK) and "
             "synthetic clips of `musclepose.sim` (known contacts).", ""]  # fmt: skip
    t0 = time.perf_counter()
    motions = ik_section(lines)
    squat_section(lines, motions)
    supports_section(lines)
    with tempfile.TemporaryDirectory() as tmp:
        impossible_section(lines, Path(tmp))
    lines.append(f"Run time: {time.perf_counter() - t0:.0f} s wall. Drop jump and running have catalogue entries "
                 f"({', '.join(EXERCISES['drop_jump'].measures)}; {', '.join(EXERCISES['run'].measures)}) but no "
                 "real recording here to validate them on.")  # fmt: skip
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
