"""``musclepose demo``: the best real thing the project does on built-in defaults.

1. Physics: build a standard body, print its segment table, generate a clean bodyweight
   squat with the feet planted, estimate the ground reactions from the kinematics (contact,
   friction cone, split of the root residual), run inverse dynamics and static optimisation
   of the Hill-type torque generators (peak moments in N m/kg, peak activations).
2. The coach: generate a squat with a known fault (default: heels lifting, severity 0.8,
   both feet), run the kinetic chain, the analysis, the measured form screen, the encoder's
   physics, the PhysicsBridge and the LLM with its LoRA adapter (the shipped checkpoint),
   print the analysis and the coaching text, and write the HTML report with plots.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from ..atomic import check_output_file
from ..body import Body
from ..catalogue import EXERCISES
from ..motion.kinetics import compute_kinetics
from ..pipelines.coach import CoachResult
from ..signals import analyze_motion
from ..sim import generate
from ._common import (
    check_height,
    check_int_range,
    check_mass,
    check_range,
    check_sex,
    console,
    error_message,
    fail,
    print_json,
)
from .coach import as_json, check_checkpoint, load_coach_model, print_coaching, write_report
from .render import kinetics_tables, segment_table

MOMENTS = (
    ("hip extension", "hip_flexion", -1.0),
    ("knee extension", "knee_flexion", -1.0),
    ("ankle plantarflexion", "ankle_dorsiflexion", -1.0),
    ("lumbar extension", "lumbar_flexion", -1.0),
)


def squat_kinetics(body: Body, reps: int, depth: float) -> dict:
    # 1.5 s down and up: slow enough that the centre of pressure stays under the feet throughout.
    motion = generate("squat", body, {"reps": reps, "depth_deg": depth, "eccentric_s": 1.5, "concentric_s": 1.5})
    t0 = time.perf_counter()
    kin = compute_kinetics(motion, cutoff_hz=None)  # synthetic: exact, nothing to filter
    elapsed = time.perf_counter() - t0
    grf = sum(g[:, 1] for g in kin.grf.values()) / (body.mass_kg * 9.81)
    peaks = {}
    for label, dof, sign in MOMENTS:
        for side in ("r", "l") if dof != "lumbar_flexion" else ("",):
            name = f"{dof}_{side}" if side else dof
            peaks[f"{label}{' ' + side.upper() if side else ''}"] = float((sign * kin.moment(name)).max())
    return {
        "frames": motion.n_frames,
        "fps": motion.fps,
        "reps": reps,
        "depth_deg": depth,
        "peak_moments_nm_per_kg": peaks,
        "vertical_grf_bw": [float(grf.min()), float(grf.max())],
        "max_root_residual_n": float(abs(kin.residual_force).max()),
        "max_unexplained_muscle_moment_nm": float(abs(kin.muscle_residual).max()),
        "unexplained_muscle_moment_nm": {
            n: float(abs(kin.muscle_residual[:, k]).max()) for k, n in enumerate(body.dof_names[6:])
        },  # fmt: skip
        "physics_ms": 1000 * elapsed,
        "analysis": analyze_motion(motion, exercise="squat", kinetics=kin).to_dict(),
    }


DEPTH_HELP = "Peak knee flexion in degrees, 30-140."


def demo(
    height: float = typer.Option(1.75, callback=check_height, help="Stature in metres."),
    mass: float = typer.Option(70.0, callback=check_mass, help="Body mass in kg."),
    sex: str = typer.Option("male", callback=check_sex, help="male or female."),
    reps: int = typer.Option(3, callback=check_int_range("--reps", 1, 50), help="Squat repetitions, 1-50."),
    depth: float = typer.Option(100.0, callback=check_range("--depth", 30.0, 140.0, "deg"), help=DEPTH_HELP),
    fault: str = typer.Option("heel_lift", "--fault", help="Fault of the coached squat ('none': clean)."),
    severity: float = typer.Option(0.8, "--severity", callback=check_range("--severity", 0.0, 1.0), help="0-1."),
    report: Path = typer.Option(Path("musclepose-demo.html"), "--report", help="HTML report of the coached squat."),
    coach_it: bool = typer.Option(True, "--coach/--no-coach", help="Run the LLM coach on the faulty squat."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Standard body -> squat -> GRF -> joint moments -> muscles; then a faulty squat -> the LLM coach -> report."""
    if coach_it:
        try:
            check_output_file(report)
            check_checkpoint(None)
        except OSError as err:
            fail(error_message(err))
        if fault != "none" and fault not in EXERCISES["squat"].faults:
            fail(f"--fault {fault!r}: a squat can have {', '.join(sorted(EXERCISES['squat'].faults))} or none")
    body = Body.standard(height, mass, sex)
    result = squat_kinetics(body, reps, depth)
    coached = coach_squat(body, reps, fault, severity, report) if coach_it else None
    if json_out:
        out = {"body": {"height_m": height, "mass_kg": mass, "sex": sex}, "squat": result}
        if coached is not None:
            out["coach"] = as_json(coached, Path(f"generated squat ({fault})"), sum(coached.timings_s.values()),
                                    report) | {"injected_fault": fault, "severity": severity}  # fmt: skip
        print_json(out)
        return
    console.print(segment_table(body))
    t = Table(title=f"Bodyweight squat: {reps} reps to {depth:g} deg knee flexion, {result['frames']} frames")
    t.add_column("peak net joint moment")
    t.add_column("N m/kg", justify="right")
    for k, v in result["peak_moments_nm_per_kg"].items():
        t.add_row(k, f"{v:.2f}")
    console.print(t)
    a = result["analysis"]
    for table in kinetics_tables(a["kinetics"]):
        console.print(table)
    depths = ", ".join(f"{r['depth_knee_flexion_deg']:.0f}" for r in a["reps"])
    console.print(
        f"analysis: {a['n_reps']} reps detected (depth {depths} deg knee flexion), "
        f"tempo {a['tempo']['notation']} (eccentric-bottom-concentric-lockout, s), grade {a['grade']}"
    )
    lo, hi = result["vertical_grf_bw"]
    console.print(
        f"vertical GRF {lo:.2f}-{hi:.2f} body weights, root residual after GRF "
        f"{result['max_root_residual_n']:.1e} N, moment the muscles cannot supply "
        f"{result['max_unexplained_muscle_moment_nm']:.1e} N m; GRF, inverse dynamics and static optimisation of "
        f"{result['frames']} frames in {result['physics_ms']:.0f} ms"
    )
    if coached is not None:
        console.rule(f"The coach: a squat with {fault.replace('_', ' ')} (severity {severity:g}) injected")
        print_coaching(coached, f"generated squat, {coached.clip.analysis.n_reps} reps")
        console.print(f"rule-based coach on the same detections: {coached.reference_text}")
        t = coached.timings_s
        console.print(
            f"timings: analysis + kinetics {t.get('analysis', 0):.2f} s, encoder + physics "
            f"{t.get('encoder_physics', 0):.2f} s, LLM {t.get('llm', 0):.1f} s; wrote {report}"
        )


def coach_squat(body: Body, reps: int, fault: str, severity: float, report: Path) -> CoachResult:
    """Generate a squat with ``fault`` and coach it with the shipped checkpoint; writes ``report``."""
    faults = {}
    if fault != "none":
        if fault not in EXERCISES["squat"].faults:
            raise ValueError(f"--fault {fault!r}: a squat can have {', '.join(sorted(EXERCISES['squat'].faults))}")
        faults = {fault: {"severity": severity, "side": "both"}}
    motion = generate("squat", body, {"reps": reps}, faults=faults, rng=7)
    model = load_coach_model(None, None)
    kin = compute_kinetics(motion, cutoff_hz=None)
    result = model.coach(motion, "squat", kinetics=kin)
    write_report(result, report, f"squat with {fault.replace('_', ' ')} (generated)",
                 {"injected fault": f"{fault} {severity:g}"})  # fmt: skip
    return result
